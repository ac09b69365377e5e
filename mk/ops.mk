# opsctl (ops/), tested against the emulated AWS and the ECS simulator of localcloud/.
.PHONY: test-ops bench-ops

test-ops: install ## opsctl tests (unit, emulated AWS, opsctl as a subprocess)
	$(RUN) pytest ops/tests

bench-ops: install ## Benchmark opsctl status/revisions wall time and the wait loop's reaction
	$(RUN) python -m compileall -q .venv/lib ops/src localcloud/src >/dev/null
	$(RUN) python ops/bench/bench_opsctl.py

test: test-ops
