# The service (service/): run, serve, test, benchmark.
.PHONY: run serve test-service bench bench-servers bench-instructions docs-assets schemathesis-pin bench-pin

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

# schemathesis fuzzes the API from its OpenAPI document (a test in service/tests/integration).
# It lives in its own venv, pinned with hashes: it pins jsonschema-rs below the service's version.
SCHEMATHESIS_DIR := .tools/schemathesis
SCHEMATHESIS_REQS := service/tests/schemathesis/requirements.txt
$(SCHEMATHESIS_DIR)/.installed: $(SCHEMATHESIS_REQS) | $(UV)
	@rm -rf $(SCHEMATHESIS_DIR)
	@$(UV) venv --quiet --python $(PYTHON) $(SCHEMATHESIS_DIR)
	$(UV) pip install --quiet --require-hashes --python $(SCHEMATHESIS_DIR)/bin/python -r $<
	@touch $@

bench-pin: | $(UV) ## Re-pin the fair baseline of make bench (service/bench/requirements-fair.in) with hashes
	cd service/bench && $(abspath $(UV)) pip compile requirements-fair.in --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --quiet -o requirements-fair.txt

schemathesis-pin: | $(UV) ## Re-pin schemathesis (service/tests/schemathesis/requirements.in) with hashes
	cd service/tests/schemathesis && $(abspath $(UV)) pip compile requirements.in --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --quiet -o requirements.txt

test-service: install $(SCHEMATHESIS_DIR)/.installed ## Run the service's tests (unit, API, the real server, schemathesis, Chromium)
	SCHEMATHESIS=$(abspath $(SCHEMATHESIS_DIR))/bin/schemathesis $(RUN) pytest $(SERVICE_TESTS)

bench: install ## Benchmark app-serve against `fastapi run` (fastapi[standard]) and a raw-ASGI floor with wrk (docs/performance.md)
	$(RUN) python service/bench/run.py $(BENCH_ARGS)

TEST_SUITES += test-service

bench-servers: install ## Compare uvicorn+uvloop+httptools with granian on this app (ADR 0005 figures)
	$(RUN) python service/bench/servers.py $(BENCH_ARGS)

# Instruction counts (valgrind) do not move with the machine's load, as times do.
bench-instructions: install ## Instructions per reference /process request, stage by stage, under valgrind (docs/performance.md)
	$(RUN) python service/bench/instructions.py $(BENCH_ARGS)

# The interactive docs' assets (Swagger UI, ReDoc) are vendored: /docs and /redoc work offline.
docs-assets: install ## Re-vendor Swagger UI and ReDoc from npm (versions and hashes in service/docs-assets.toml)
	$(RUN) python service/scripts/docs_assets.py
