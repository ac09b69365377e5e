# opsctl (ops/) and the ECS simulator it is tested against (localcloud/src/localcloud/sim).
.PHONY: test-ops bench-ops schemas

# -p localcloud.sim.testing loads the real `localcloud` package before collection: with
# --import-mode=importlib, pytest would otherwise name localcloud/tests/... modules
# `localcloud.tests...` and shadow the package.
test-ops: install ## opsctl + ECS simulator tests (unit, emulated AWS, opsctl as a subprocess)
	$(RUN) pytest -p localcloud.sim.testing ops/tests localcloud/tests/sim

# The JSON Schemas of `opsctl -o json` documents are generated from the result dataclasses
# (ops/src/opsctl/results.py); a unit test fails, naming this target, when they are stale.
schemas: install ## Regenerate opsctl's JSON Schemas (ops/src/opsctl/schemas) from its result dataclasses
	$(RUN) python -m opsctl.schemagen ops/src/opsctl/schemas

bench-ops: install ## Benchmark opsctl status/revisions wall time and the wait loop's reaction
	$(RUN) python -m compileall -q .venv/lib ops/src localcloud/src >/dev/null
	$(RUN) python ops/bench/bench_opsctl.py

test: test-ops
