# The local cloud (localcloud/): the whole platform on one machine, offline, and the runbook's
# drills rehearsed against it. How-to: docs/architecture.md ("The local cloud"); what it emulates
# and what differs from AWS: docs/emulator.md; design: ADR 0009.
.PHONY: local-cloud local-cloud-down local-cloud-status test-localcloud drills test-drills

# 127.0.0.1 ports of the emulated AWS and of the listener playing the ALB (0: any free port).
LOCALCLOUD_PORT ?= 5100
LOCALCLOUD_ALB_PORT ?= 8100
# Real seconds per simulated AWS second: 0.1 runs a 30 s health-check interval in 3 s.
LOCALCLOUD_TIME_SCALE ?= 0.1
LOCALCLOUD_STATE ?= .localcloud
LOCALCLOUD = $(RUN) localcloud --state-dir $(LOCALCLOUD_STATE)

local-cloud: install ## Start the local cloud in the background: emulated AWS, infra/envs/dev applied, the service deployed (~2 min)
	$(LOCALCLOUD) up --port $(LOCALCLOUD_PORT) --alb-port $(LOCALCLOUD_ALB_PORT) \
		--time-scale $(LOCALCLOUD_TIME_SCALE)

local-cloud-down: install ## Stop the local cloud: the daemon and every task process
	$(LOCALCLOUD) down

local-cloud-status: install ## Is the local cloud running, where, and does /health answer through its ALB
	$(LOCALCLOUD) status

# Two pytest processes: only one ECS simulator may be active in a process, and tests/cloud start
# their own (real processes) while tests/ecs share one (localcloud's pytest plugin, `harness`).
# tests/unit (the scheduler and health checker without HTTP) start none; tests/architecture runs
# the pinned semgrep over a tree laid out like localcloud's (the layer rules' scoping).
test-localcloud: install .tools/scanners/semgrep/.installed ## The local cloud's own tests: its layers, the ECS simulator (unit and through the API), image records, the real-process runtime, the daemon
	$(RUN) pytest localcloud/tests/architecture localcloud/tests/unit localcloud/tests/cloud
	$(RUN) pytest localcloud/tests/ecs

# One local cloud for all drills (Terraform applies once); the first test also waits for
# `localcloud up`, hence the longer timeout.
drills: install ## Rehearse the runbook: every incident drill against one local cloud (needs terraform; ~7 min)
	$(RUN) pytest --timeout 900 localcloud/drills

test-drills: drills

TEST_SUITES += test-localcloud test-drills
