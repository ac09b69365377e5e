"""`make bench`: the service against a naive FastAPI baseline, loaded with wrk on loopback."""
