# The service (service/): run, serve, test, benchmark.
.PHONY: run serve test-service bench bench-servers docs-assets

SERVICE_TESTS ?= service/tests
BENCH_ARGS ?=

# `make run` is development: docs on, reload on change. An APP_ENVIRONMENT from the environment
# or from .env wins over this default (pydantic-settings reads .env; the environment wins).
run: install ## Start the service on http://127.0.0.1:8000 (development: reload, /docs)
	@if [[ -z "$${APP_ENVIRONMENT:-}" ]] && ! grep -qs '^APP_ENVIRONMENT=' .env; then \
		export APP_ENVIRONMENT=development; fi; \
	exec $(RUN) app-serve --reload

serve: install ## Run the production server command (the image's `app-serve`), honouring PORT
	exec $(RUN) app-serve

test-service: install ## Run the service's tests (unit, API, the real server as a subprocess)
	$(RUN) pytest $(SERVICE_TESTS)

bench: install ## Benchmark app-serve against a naive FastAPI baseline with wrk (see docs/performance.md)
	$(RUN) python service/bench/run.py $(BENCH_ARGS)

test: test-service

bench-servers: install ## Compare uvicorn+uvloop+httptools with granian on this app (ADR 0005 figures)
	$(RUN) python service/bench/servers.py $(BENCH_ARGS)

# The interactive docs' assets (Swagger UI, ReDoc) are vendored: /docs and /redoc work offline.
docs-assets: install ## Re-vendor Swagger UI and ReDoc from npm (versions and hashes in service/docs-assets.json)
	$(RUN) python service/scripts/docs_assets.py
