# Git hooks (.pre-commit-config.yaml): `make hooks` installs them; `make lint` runs every hook on
# every tracked file (CI does too). The hooks run tools the repository already pins, offline:
# ruff and pre-commit-hooks from uv.lock, the scanners below from tools/scanners, terraform from
# PATH. How-to: README ("Git hooks"); why local hooks only: the header of .pre-commit-config.yaml.
.PHONY: hooks

# The scanners the hooks call, each in its own venv (mk/scan.mk).
HOOK_SCANNERS := detect-secrets actionlint zizmor hadolint

lint: $(foreach s,$(HOOK_SCANNERS),$(call scanner_ready,$(s)))

hooks: install $(foreach s,$(HOOK_SCANNERS),$(call scanner_ready,$(s))) ## Install the git hooks (pre-commit) in this clone
	$(RUN) pre-commit install --install-hooks
	@echo "hooks: installed; they run on every commit (SKIP=<id> git commit ... skips one; make lint runs all)"
