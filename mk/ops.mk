# opsctl (ops/), tested against the emulated AWS and the ECS simulator of localcloud/.
.PHONY: test-ops bench-ops schemas

test-ops: install ## opsctl tests (unit, emulated AWS, opsctl as a subprocess)
	$(RUN) pytest ops/tests

# The JSON Schemas of `opsctl -o json` documents are generated from the result dataclasses
# (ops/src/opsctl/results.py); a unit test fails, naming this target, when they are stale.
schemas: install ## Regenerate opsctl's JSON Schemas (ops/src/opsctl/schemas) from its result dataclasses
	$(RUN) python -m opsctl.schemagen ops/src/opsctl/schemas

bench-ops: install ## Benchmark opsctl status/revisions wall time and the wait loop's reaction
	$(RUN) python -m compileall -q .venv/lib ops/src localcloud/src >/dev/null
	$(RUN) python ops/bench/bench_opsctl.py

TEST_SUITES += test-ops
