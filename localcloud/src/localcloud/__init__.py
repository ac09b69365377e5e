"""An emulated AWS on 127.0.0.1 for tests, drills and `make local-cloud`."""
