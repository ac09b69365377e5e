# Infrastructure (infra/): Terraform formatting, validation, module tests, the apply test against
# the emulated AWS, and the plan/apply commands of real use (runbook 3.3, 6).
#
# Offline, the AWS provider comes from a local filesystem mirror when there is one
# (TF_PLUGIN_MIRROR, else /opt/tf-plugins): these targets then point Terraform at it through a CLI
# configuration file of their own. Without a mirror Terraform downloads providers as usual.
.PHONY: tf-fmt tf-validate tf-test tf-plan tf-show tf-plan-sha256 tf-apply tf-backend tf-lock \
	test-infra test-infra-e2e test-infra-apply test-infra-names iam-golden \
	tf-mirror-config tf-init tf-check-env tf-check-plan

TF ?= terraform
TF_CACHE_DIR := $(CURDIR)/.cache/terraform
TF_ROOTS := infra/bootstrap infra/envs/dev infra/envs/prod
# The stack (infra/stack) is validated through the environment roots that call it.
TF_MODULES := $(patsubst %/,%,$(sort $(dir $(wildcard infra/modules/*/main.tf))))
# Directories with `terraform test` files: the modules, the stack, the bootstrap and each
# environment root (its committed terraform.tfvars).
TF_TESTED := $(patsubst %/tests/,%,$(sort $(dir $(wildcard infra/*/tests/*.tftest.hcl infra/*/*/tests/*.tftest.hcl))))
ENV ?=
TF_ARGS ?=
# State locking (ADR 0001): how long plan and apply wait for a lock another run holds before
# failing, instead of failing at once. TF_LOCK=false plans without taking the lock: CI's plans
# (pull requests and main) run with a role that may not write the lock (ADR 0010), and a plan
# that holds no lock can never block an apply.
TF_LOCK_TIMEOUT ?= 5m
TF_LOCK ?= true
# A saved plan for tf-apply (file name in the root, as tf-plan writes it: <ENV>.tfplan), and the
# sha256 it must have (CI: the one its plan job showed the reviewers).
TF_PLAN ?=
TF_PLAN_SHA256 ?=
# The committed provider lock files (infra/README.md, "Provider lock files"): `make tf-lock`
# rewrites them for these platforms.
TF_LOCK_PLATFORMS ?= linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64

TF_PLUGIN_MIRROR ?= $(firstword $(wildcard /opt/tf-plugins))
ifneq ($(strip $(TF_PLUGIN_MIRROR)),)
export TF_CLI_CONFIG_FILE := $(TF_CACHE_DIR)/mirror.tfrc
endif
export TF_CACHE_DIR

tf-mirror-config:
ifneq ($(strip $(TF_PLUGIN_MIRROR)),)
	@mkdir -p $(TF_CACHE_DIR)
	@printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n' "$(TF_PLUGIN_MIRROR)" > $(TF_CLI_CONFIG_FILE)
endif

tf-fmt: tf-mirror-config ## Check Terraform formatting (FIX=1 rewrites the files)
	$(TF) fmt -recursive $(if $(FIX),,-check -diff) infra

tf-validate: tf-mirror-config ## terraform validate every root and module
	infra/scripts/terraform-each validate $(TF_ROOTS) $(TF_MODULES)

tf-test: tf-mirror-config ## terraform test (mocked provider, plan-only) in every module and root that has tests
	infra/scripts/terraform-each test $(TF_TESTED)

# Real use: plan and apply one root with its backend.hcl. ENV is dev, prod or bootstrap.
TF_ROOT = $(if $(filter bootstrap,$(ENV)),infra/bootstrap,infra/envs/$(ENV))

# The cost toggle and the image tag live in terraform.tfvars (ADR 0003): the Terraform workflow
# applies the committed values on every infrastructure merge, so a -var would be undone by the
# next merge (and turning a protected prod off that way fails half-way).
tf-check-env:
	@case "$(ENV)" in dev|prod|bootstrap) ;; *) echo "ENV must be dev, prod or bootstrap (got '$(ENV)')" >&2; exit 2;; esac
	@case "$(TF_LOCK)" in true|false) ;; *) echo "TF_LOCK must be true or false (got '$(TF_LOCK)')" >&2; exit 2;; esac
	@case "$(TF_ARGS)" in *enable_compute*|*image_tag*) \
		echo "TF_ARGS sets enable_compute or image_tag: change it in $(TF_ROOT)/terraform.tfvars and merge it instead (the Terraform workflow applies the committed values and would undo a -var; ADR 0003)" >&2; exit 2;; esac
	@if [ "$(ENV)" != bootstrap ] && [ ! -f $(TF_ROOT)/backend.hcl ]; then \
		echo "$(TF_ROOT)/backend.hcl is missing: run 'make tf-backend ENV=$(ENV)' (or copy backend.hcl.example and fill it in)" >&2; exit 2; fi

# The roots' provider lock files are committed: init installs exactly what they record and never
# rewrites them (-lockfile=readonly); `make tf-lock` is how they change.
# backend.hcl goes to init when the root has a backend block for it (the bootstrap only once its
# backend.tf exists, see infra/bootstrap/README.md). TF_INIT_ARGS=-migrate-state moves a state.
TF_BACKEND_ARGS = $(if $(and $(wildcard $(TF_ROOT)/backend.hcl),$(or $(filter-out bootstrap,$(ENV)),$(wildcard $(TF_ROOT)/backend.tf))),-backend-config=backend.hcl)
TF_INIT_ARGS ?=

# tf-check-plan first: under `make -k` a refused plan must still stop terraform from running.
tf-init: tf-check-env tf-check-plan tf-mirror-config ## terraform init of ENV=dev|prod|bootstrap with its backend.hcl (TF_INIT_ARGS=-migrate-state to move state)
	$(TF) -chdir=$(TF_ROOT) init -input=false -lockfile=readonly $(TF_BACKEND_ARGS) $(TF_INIT_ARGS)

tf-plan: tf-init ## terraform plan of ENV=dev|prod|bootstrap into <ENV>.tfplan (TF_LOCK=false: hold no state lock; extra arguments in TF_ARGS)
	$(TF) -chdir=$(TF_ROOT) plan -input=false -lock=$(TF_LOCK) -lock-timeout=$(TF_LOCK_TIMEOUT) -out=$(ENV).tfplan $(TF_ARGS)

# The saved plan as a reviewer reads it: a GitHub job summary is Markdown, at most 1 MiB per
# step (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary),
# so a longer plan is cut there with a note; the whole plan is in the uploaded artifact.
TF_SHOW_LIMIT ?= 900000
tf-show: tf-check-env tf-mirror-config ## Print the saved plan of ENV (<ENV>.tfplan, from tf-plan) as Markdown, with its sha256
	@plan="$(TF_ROOT)/$(ENV).tfplan"; \
	if [ ! -f "$$plan" ]; then echo "tf-show: $$plan is missing: run 'make tf-plan ENV=$(ENV)' first" >&2; exit 2; fi; \
	text=$$(mktemp); trap 'rm -f "$$text"' EXIT; \
	$(TF) -chdir=$(TF_ROOT) show -no-color $(ENV).tfplan > "$$text"; \
	printf '### Terraform plan: %s\n\n' "$(ENV)"; \
	printf 'Plan file `%s`, sha256 `%s`; the apply job applies this file and nothing else.\n\n' \
		"$(ENV).tfplan" "$$(sha256sum "$$plan" | cut -d' ' -f1)"; \
	printf '```terraform\n'; head -c $(TF_SHOW_LIMIT) "$$text"; printf '\n```\n'; \
	if [ "$$(wc -c < "$$text")" -gt $(TF_SHOW_LIMIT) ]; then \
		printf '\n> The plan is longer than a job summary holds: cut at %s bytes; the artifact has all of it.\n' "$(TF_SHOW_LIMIT)"; fi

tf-plan-sha256: tf-check-env ## Print sha256=<hex> of the saved plan of ENV (a GitHub step output line)
	@plan="$(TF_ROOT)/$(ENV).tfplan"; \
	if [ ! -f "$$plan" ]; then echo "tf-plan-sha256: $$plan is missing: run 'make tf-plan ENV=$(ENV)' first" >&2; exit 2; fi; \
	printf 'sha256=%s\n' "$$(sha256sum "$$plan" | cut -d' ' -f1)"

# Applying a saved plan changes exactly what it shows, or nothing: Terraform refuses a plan made
# against a state that has changed since ("Saved plan is stale") and one made by another
# Terraform version. https://developer.hashicorp.com/terraform/cli/commands/apply#saved-plan-mode
tf-check-plan: tf-check-env
ifneq ($(strip $(TF_PLAN)),)
	@if [ ! -f "$(TF_ROOT)/$(TF_PLAN)" ]; then echo "tf-apply: no saved plan $(TF_ROOT)/$(TF_PLAN)" >&2; exit 2; fi
	@if [ -n "$(TF_PLAN_SHA256)" ]; then \
		actual=$$(sha256sum "$(TF_ROOT)/$(TF_PLAN)" | cut -d' ' -f1); \
		if [ "$$actual" != "$(TF_PLAN_SHA256)" ]; then \
			echo "tf-apply: $(TF_ROOT)/$(TF_PLAN) has sha256 $$actual, not $(TF_PLAN_SHA256), the plan that was reviewed: nothing applied" >&2; exit 2; fi; \
		echo "tf-apply: $(TF_PLAN) is the reviewed plan (sha256 $$actual)"; fi
else
	@if [ -n "$(TF_PLAN_SHA256)" ]; then echo "tf-apply: TF_PLAN_SHA256 needs TF_PLAN" >&2; exit 2; fi
endif

tf-apply: tf-check-plan tf-init ## terraform apply of ENV=dev|prod|bootstrap: TF_PLAN=<ENV>.tfplan applies that saved plan (TF_PLAN_SHA256 checks it), else shows a plan and asks
ifneq ($(strip $(TF_PLAN)),)
	$(TF) -chdir=$(TF_ROOT) apply -input=false -lock-timeout=$(TF_LOCK_TIMEOUT) $(TF_PLAN)
else
	$(TF) -chdir=$(TF_ROOT) apply -input=true -lock-timeout=$(TF_LOCK_TIMEOUT) $(TF_ARGS)
endif

tf-backend: ## Write backend.hcl of ENV=dev|prod|bootstrap from the bootstrap's outputs
	@case "$(ENV)" in dev|prod|bootstrap) ;; *) echo "ENV must be dev, prod or bootstrap (got '$(ENV)')" >&2; exit 2;; esac
	$(TF) -chdir=infra/bootstrap output -json backend_config \
		| python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])' $(ENV) \
		> $(TF_ROOT)/backend.hcl
	@echo "wrote $(TF_ROOT)/backend.hcl"

# The roots' committed .terraform.lock.hcl files (infra/README.md, "Provider lock files"). From
# the registry, `providers lock` records the zh: checksums of every platform's package and the
# h1: checksums of TF_LOCK_PLATFORMS; TF_LOCK_MIRROR=1 writes them from the local mirror instead
# (offline: only the platforms the mirror holds). Modules are installed first (providers lock
# reads the whole configuration), into a data directory of the cache.
TF_LOCK_MIRROR ?=
tf-lock: tf-mirror-config ## Rewrite the roots' provider lock files for TF_LOCK_PLATFORMS (needs registry.terraform.io; TF_LOCK_MIRROR=1: from the local mirror), then commit them
	@for root in $(TF_ROOTS); do \
		data="$(TF_CACHE_DIR)/lock/$$(echo $$root | tr / _)"; mkdir -p "$$data"; \
		TF_DATA_DIR="$$data" $(TF) -chdir=$$root init -backend=false -input=false -no-color > "$$data/init.log" \
			|| { cat "$$data/init.log" >&2; exit 1; }; \
		$(if $(TF_LOCK_MIRROR),,env -u TF_CLI_CONFIG_FILE) TF_DATA_DIR="$$data" $(TF) -chdir=$$root providers lock \
			$(if $(TF_LOCK_MIRROR),-fs-mirror=$(TF_PLUGIN_MIRROR)) $(addprefix -platform=,$(TF_LOCK_PLATFORMS)) \
			|| exit 1; \
	done

test-infra-e2e: install ## pytest infra/tests: bootstrap and dev applied to the emulated AWS, re-planned (must be empty), destroyed; dev and prod planned for name clashes; the IAM golden file; harness and root tests
	$(RUN) pytest infra/tests

# The same tests in two processes, for test-infra: the name-clash plans and the IAM rendering
# (CPU) run while the apply test waits on the provider's fixed sleeps.
TF_CPU_TESTS := infra/tests/test_env_names.py infra/tests/test_iam_golden.py
test-infra-apply: install
	$(RUN) pytest infra/tests $(addprefix --ignore=,$(TF_CPU_TESTS))

test-infra-names: install
	$(RUN) pytest $(TF_CPU_TESTS)

# The bootstrap's roles and policies as Terraform renders them, for review and for opsctl's
# tests (ops/tests/support/deploy_policy.py); `make test-infra` fails while iam.tf and the file
# disagree. Offline: every resource is overridden, only the policy documents are built.
iam-golden: install ## Rewrite infra/bootstrap/iam.golden.json from infra/bootstrap/iam.tf (then review and commit it)
	$(RUN) pytest -q -s infra/tests/test_iam_golden.py --update-golden

# The apply test mostly waits (the provider's fixed ALB and S3 waits), the module tests mostly
# compute: run them side by side.
# Terraform is the one tool `make` cannot install from PyPI: without it the infrastructure tests
# are skipped loudly on a developer's machine, and fail under STRICT_TOOLS=1 (CI, .ci/run).
ifneq ($(shell command -v $(TF) 2>/dev/null),)
test-infra: tf-fmt tf-validate ## Every infrastructure check: fmt, validate, module and environment tests, apply test, name clashes, IAM golden file
	$(MAKE) -j3 --output-sync=target tf-test test-infra-apply test-infra-names
else
test-infra:
	@if [ "$${STRICT_TOOLS:-}" = 1 ]; then echo "test-infra: terraform is not on PATH and STRICT_TOOLS=1" >&2; exit 1; fi
	@echo "test-infra: SKIPPED: terraform is not on PATH (install Terraform >= 1.10 to run the infrastructure tests)" >&2
endif

TEST_SUITES += test-infra
