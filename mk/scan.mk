# The security gate (pipelines): `make scan`, its scanners one by one, and the helper targets the
# GitHub Actions workflows call (audit, image-scan, sbom).
#
# Every scanner is pinned with hashes in tools/scanners/<name>/requirements.txt and lives in its
# own virtual environment under .tools/scanners/<name>: checkov bundles a fork of detect-secrets
# that clashes with the real one, and semgrep and checkov pin libraries the project also uses.
# A venv is rebuilt when its requirements file changes (tools/scanners/README.md: how to bump).
#
# `make scan` runs every offline scanner over the whole tree, goes on past a failing scanner so
# that one run shows every finding, and ends with a summary naming the scanners that failed
# (exit 1). `make scan-<name>` runs one. docs/security.md says what each covers and how to add a
# justified exception (always inline, next to the code, with its reason).
#
# What cannot run offline runs in GitHub Actions only and is never reported as passing here:
# `make audit` (pip-audit, zizmor's online audits) and `make image-scan` (Trivy's vulnerability
# database).

.PHONY: scan scan-tools scan-pin scan-actionlint scan-zizmor scan-hadolint scan-bandit scan-semgrep \
	scan-secrets scan-gitleaks scan-trivy scan-checkov scan-rules-test test-pipelines \
	audit audit-deps audit-actions image-scan sbom ci-tf-backend

SCANNER_NAMES := $(notdir $(patsubst %/,%,$(dir $(wildcard tools/scanners/*/requirements.txt))))
# SCANNERS_DIR, $(call scanner,<name>) and $(call scanner_ready,<name>) are defined in the
# Makefile: mk/hooks.mk, included before this file, needs them at parse time.

# The order `make scan` runs them in: quick ones first.
SCAN_STEPS := actionlint zizmor hadolint bandit semgrep secrets gitleaks trivy checkov

# What the scanners look at. Each can be pointed elsewhere on the command line (the tests in
# tools/scanners/tests do, to prove each gate fails on a known-bad fixture).
# Python that runs in production or with cloud credentials: the service, opsctl, localcloud, and
# the image's helper scripts (image/: its health check runs in the container, its push script
# runs in CI with the ECR push role). Tests are out of bandit's scope (asserts are their job).
PY_SOURCES ?= service/src ops/src localcloud/src $(wildcard image)
SEMGREP_RULES ?= .semgrep/rules
SEMGREP_TARGETS ?= .
WORKFLOWS_DIR ?= .github/workflows
# zizmor reads a repository: its workflows, composite actions and .github/dependabot.yml.
ZIZMOR_TARGET ?= .
IAC_DIR ?= .
SECRETS_BASELINE ?= .secrets.baseline
# The git repository the secret scanners read (its files, and its history for gitleaks).
REPO_DIR ?= .
# Every file git would commit there (tracked, plus untracked files .gitignore does not exclude).
GIT_FILES := git ls-files -z --cached --others --exclude-standard
DOCKERFILES ?= $(shell git ls-files --cached --others --exclude-standard -- \
	'Dockerfile' '*/Dockerfile' '*.Dockerfile' 'Dockerfile.*' 'Containerfile' '*/Containerfile' | sort -u)
# Directories no scanner walks into: virtualenvs, pinned tools, providers, local runtime state.
# (trivy globs; checkov already skips every hidden directory but .github, and node_modules.)
SKIP_DIRS := .git .venv .tools .cache .localcloud node_modules
# The readable part of a long trivy/checkov table needs the room.
export COLUMNS ?= 160

# One venv per scanner, rebuilt from scratch when its pinned requirements change.
$(SCANNERS_DIR)/%/.installed: tools/scanners/%/requirements.txt | $(UV)
	@rm -rf $(SCANNERS_DIR)/$*
	@$(UV) venv --quiet --python $(PYTHON) $(SCANNERS_DIR)/$*
	$(UV) pip install --quiet --require-hashes --python $(SCANNERS_DIR)/$*/bin/python -r $<
	@touch $@

scan-tools: $(foreach s,$(SCANNER_NAMES),$(call scanner_ready,$(s))) ## Install every pinned scanner, each in its own venv

# Linux x86_64, Python 3.11: the CI machines and the GitHub runners (the hashes cover every wheel
# of each pinned version, so other platforms install from the same file).
scan-pin: | $(UV) ## Re-pin one scanner from its requirements.in: make scan-pin SCANNER=<name>
	@if [[ ! -f "tools/scanners/$(SCANNER)/requirements.in" ]]; then \
		echo "scan-pin: SCANNER= must be one of: $(SCANNER_NAMES)" >&2; exit 2; fi
	cd tools/scanners/$(SCANNER) && $(abspath $(UV)) pip compile requirements.in --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --quiet -o requirements.txt

scan: scan-tools ## Run every offline security scanner over the whole tree; summary at the end
	@started=$$(date +%s); failed=(); \
	for step in $(SCAN_STEPS); do \
		printf '\n==> scan: %s\n' "$$step"; \
		t0=$$(date +%s); \
		if $(MAKE) --no-print-directory scan-$$step; then result=passed; \
		else result=FAILED; failed+=("$$step"); fi; \
		printf '<== scan: %s %s in %ss\n' "$$step" "$$result" "$$(( $$(date +%s) - t0 ))"; \
	done; \
	printf '\nscan: %s scanners in %ss; ' "$(words $(SCAN_STEPS))" "$$(( $$(date +%s) - started ))"; \
	if (( $${#failed[@]} )); then \
		printf 'FAILED: %s (their findings are above; docs/security.md: how to fix or justify)\n' "$${failed[*]}"; \
		exit 1; \
	fi; \
	printf 'no findings. Not run here (GitHub Actions only): pip-audit, zizmor online audits, Trivy image vulnerabilities.\n'

# The pinned shellcheck by absolute path: actionlint (Go) ignores relative PATH entries and,
# finding no shellcheck, would silently skip every run: script.
scan-actionlint: $(call scanner_ready,actionlint) ## actionlint (with shellcheck) over the workflows
	$(call scanner,actionlint)/actionlint -shellcheck $(abspath $(call scanner,actionlint))/shellcheck -pyflakes= \
		$(wildcard $(WORKFLOWS_DIR)/*.yml $(WORKFLOWS_DIR)/*.yaml)

# The pedantic persona also reports code smells (e.g. a permission without a comment saying why).
# --offline: with a GitHub token in the environment zizmor would go online (`make audit-actions`).
scan-zizmor: $(call scanner_ready,zizmor) ## zizmor (offline audits, pedantic) over the workflows and Dependabot
	$(call scanner,zizmor)/zizmor --offline --persona=pedantic --no-progress $(ZIZMOR_TARGET)

scan-hadolint: $(call scanner_ready,hadolint) ## hadolint over every Dockerfile/Containerfile
	@if [[ -z "$(strip $(DOCKERFILES))" ]]; then echo "hadolint: no Dockerfile or Containerfile in the tree: nothing to lint"; exit 0; fi; \
	set -x; $(call scanner,hadolint)/hadolint --no-color --config .hadolint.yaml $(DOCKERFILES)

scan-bandit: $(call scanner_ready,bandit) ## bandit (Python SAST) over service, opsctl, localcloud and image code
	$(call scanner,bandit)/bandit --recursive --quiet --severity-level low --confidence-level low \
		--exclude '*/tests/*' $(PY_SOURCES)

scan-semgrep: $(call scanner_ready,semgrep) ## semgrep with the project's own rules (.semgrep/rules)
	$(call scanner,semgrep)/semgrep scan --config $(SEMGREP_RULES) --metrics=off --disable-version-check \
		--error --quiet --no-rewrite-rule-ids $(SEMGREP_TARGETS)

# Each rule file .semgrep/rules/<id>.yml has a fixture <id>.py: `# ruleid:` lines it must flag,
# `# ok:` lines it must not.
scan-rules-test: $(call scanner_ready,semgrep) ## semgrep --test: every project rule against its fixtures
	$(call scanner,semgrep)/semgrep scan --test --metrics=off --disable-version-check \
		--config $(SEMGREP_RULES)/ $(SEMGREP_RULES)/

# detect-secrets' hook form fails on any secret not in the baseline (`detect-secrets scan` alone
# always exits 0). The baseline holds no accepted secret: exceptions go inline.
scan-secrets: $(call scanner_ready,detect-secrets) ## detect-secrets over every file git would commit
	cd $(REPO_DIR) && $(GIT_FILES) | xargs -0 $(abspath $(call scanner,detect-secrets))/detect-secrets-hook \
		--baseline $(abspath $(SECRETS_BASELINE))
	@echo "detect-secrets: no secret in $$(cd $(REPO_DIR) && $(GIT_FILES) | tr -cd '\0' | wc -c) files"

# History too: a secret deleted in a later commit is still in the repository (and in every clone).
scan-gitleaks: $(call scanner_ready,gitleaks) ## gitleaks over every commit reachable from HEAD
	$(call scanner,gitleaks)/gitleaks git --no-banner --no-color --redact --verbose --log-opts=HEAD $(REPO_DIR)

# Embedded checks only (--skip-check-update): the same result offline, here and in CI. No ignore
# file (--ignorefile ''): an exception is a `#trivy:ignore:<ID>` comment beside the resource.
scan-trivy: $(call scanner_ready,trivy) ## trivy config (misconfigurations in Terraform and Dockerfiles)
	$(call scanner,trivy)/trivy config --quiet --skip-check-update --exit-code 1 --ignorefile '' \
		$(foreach d,$(SKIP_DIRS),--skip-dirs '$(d)') --skip-dirs '**/.terraform' $(IAC_DIR)
	@echo "trivy config: no misconfiguration"

scan-checkov: $(call scanner_ready,checkov) ## checkov over Terraform, Dockerfiles and the workflows
	$(call scanner,checkov)/checkov --directory $(IAC_DIR) --framework terraform dockerfile github_actions \
		--skip-download --quiet --compact
	@echo "checkov: no failed check"

# ---------------------------------------------------------------------------------------------
# GitHub Actions only: these need the network (docs/security.md, "Where each scanner runs").

AUDIT_REQUIREMENTS := .cache/audit/requirements.txt

audit: ## Dependency and workflow audits that need the network (GitHub Actions only); both always run
	@failed=(); \
	$(MAKE) --no-print-directory audit-deps || failed+=(audit-deps); \
	$(MAKE) --no-print-directory audit-actions || failed+=(audit-actions); \
	if (( $${#failed[@]} )); then echo "audit: FAILED: $${failed[*]}" >&2; exit 1; fi; \
	echo "audit: no known vulnerability in the locked dependencies; the pinned actions check out"

# Every locked dependency of every part (the image's, opsctl's, the dev tools'), with hashes;
# --disable-pip audits exactly those pins without installing anything.
audit-deps: $(call scanner_ready,pip-audit) | $(UV) ## pip-audit --strict over every uv.lock entry (GitHub Actions only)
	@mkdir -p $(dir $(AUDIT_REQUIREMENTS))
	$(UV) export --frozen --all-packages --all-groups --no-emit-workspace --format requirements-txt \
		--output-file $(AUDIT_REQUIREMENTS) --quiet
	$(call scanner,pip-audit)/pip-audit --strict --require-hashes --disable-pip --progress-spinner off \
		--requirement $(AUDIT_REQUIREMENTS)

# zizmor's online audits: impostor commits (a pinned SHA that is not in the action's repository),
# version comments that do not match the pinned SHA, known-vulnerable actions.
audit-actions: $(call scanner_ready,zizmor) ## zizmor online audits of the pinned actions (GitHub Actions only; GH_TOKEN)
	@if [[ -z "$${GH_TOKEN:-}" ]]; then echo "audit-actions: needs GH_TOKEN (a GitHub token; in GitHub Actions: github.token)" >&2; exit 2; fi
	$(call scanner,zizmor)/zizmor --persona=pedantic --no-progress $(ZIZMOR_TARGET)

# The built image: HIGH and CRITICAL vulnerabilities that have a fix (the vulnerability database
# is downloaded at run time: GitHub Actions only), and secrets of any severity in any layer (works
# offline: `make image-scan IMAGE_INPUT=image.tar IMAGE_SCANNERS=secret`).
# IMAGE_INPUT=<file.tar> scans a `docker save`/`podman save` archive instead of the local engine.
IMAGE_SCANNERS ?= vuln secret
IMAGE_SEVERITY := HIGH,CRITICAL
IMAGE_REF = $(if $(IMAGE_INPUT),--input $(IMAGE_INPUT),$(IMAGE))
# An image has no source line to annotate: its exceptions live in .trivyignore.yaml, each with a
# `statement` (the reason) and an `expired_at` (docs/security.md).
TRIVY_IMAGE = $(call scanner,trivy)/trivy image --exit-code 1 --no-progress --table-mode detailed \
	--ignorefile '$(wildcard .trivyignore.yaml)'
image-scan: $(call scanner_ready,trivy) ## Trivy scan of IMAGE=: fixable HIGH/CRITICAL vulnerabilities (GitHub Actions), secrets
	@if [[ -z "$(IMAGE)$(IMAGE_INPUT)" ]]; then echo "image-scan: set IMAGE=<name:tag> (or IMAGE_INPUT=<archive.tar>)" >&2; exit 2; fi
	$(if $(filter vuln,$(IMAGE_SCANNERS)),$(TRIVY_IMAGE) --scanners vuln --severity $(IMAGE_SEVERITY) --ignore-unfixed $(IMAGE_REF))
	$(if $(filter secret,$(IMAGE_SCANNERS)),$(TRIVY_IMAGE) --scanners secret $(IMAGE_REF))
	@echo "image-scan: passed ($(IMAGE_SCANNERS))"

# Under .cache/ by default (git ignores it, so a local SBOM never reaches the secret scanners).
SBOM ?= .cache/sbom.cdx.json
sbom: $(call scanner_ready,trivy) ## CycloneDX SBOM of IMAGE= into SBOM= (default .cache/sbom.cdx.json)
	@if [[ -z "$(IMAGE)$(IMAGE_INPUT)" ]]; then echo "sbom: set IMAGE=<name:tag> (or IMAGE_INPUT=<archive.tar>)" >&2; exit 2; fi
	@mkdir -p $(dir $(SBOM))
	$(call scanner,trivy)/trivy image --format cyclonedx --output $(SBOM) --no-progress \
		$(if $(IMAGE_INPUT),--input $(IMAGE_INPUT),$(IMAGE))
	@echo "sbom: wrote $(SBOM)"

# ---------------------------------------------------------------------------------------------
# terraform.yml's helper. backend.hcl is not in git (it names this account's state bucket); the
# workflows keep its text, the bootstrap's `backend_config` output, in a GitHub variable and write
# it before `make tf-plan`/`tf-apply`. The key must be <ENV>/...: a dev plan can never be pointed
# at prod's state by a mixed-up variable.
TF_BACKEND_DIR ?= infra/envs/$(ENV)
ci-tf-backend: ## (CI) Write infra/envs/ENV/backend.hcl from the TF_BACKEND_CONFIG variable, checking its state key
	@case "$(ENV)" in dev|prod) ;; *) echo "ci-tf-backend: ENV must be dev or prod (got '$(ENV)')" >&2; exit 2;; esac
	@if [[ -z "$${TF_BACKEND_CONFIG:-}" ]]; then \
		echo "ci-tf-backend: TF_BACKEND_CONFIG is empty: set the GitHub variable (docs/security.md, Setting up GitHub)" >&2; exit 2; fi
	@if ! grep -Eq '^[[:space:]]*key[[:space:]]*=[[:space:]]*"$(ENV)/' <<<"$$TF_BACKEND_CONFIG"; then \
		echo "ci-tf-backend: TF_BACKEND_CONFIG's key is not under \"$(ENV)/\": another environment's backend?" >&2; exit 2; fi
	@if [[ ! -d "$(TF_BACKEND_DIR)" ]]; then echo "ci-tf-backend: no $(TF_BACKEND_DIR)" >&2; exit 2; fi
	@printf '%s\n' "$$TF_BACKEND_CONFIG" > "$(TF_BACKEND_DIR)/backend.hcl"
	@echo "ci-tf-backend: wrote $(TF_BACKEND_DIR)/backend.hcl"

# ---------------------------------------------------------------------------------------------

test-pipelines: install scan-tools ## Tests of the workflows (thin, pinned, least privilege) and of the scan gates
	$(RUN) pytest .github/tests tools/scanners/tests

TEST_SUITES += test-pipelines
