"""`make bench`: the service against `fastapi run` and a raw-ASGI floor, with wrk on loopback."""
