# Infrastructure (infra/): Terraform formatting, validation, module tests, the apply test against
# the emulated AWS, and the plan/apply commands of real use (runbook 3.3, 6).
#
# Offline, the AWS provider comes from a local filesystem mirror when there is one
# (TF_PLUGIN_MIRROR, else /opt/tf-plugins): these targets then point Terraform at it through a CLI
# configuration file of their own. Without a mirror Terraform downloads providers as usual.
.PHONY: tf-fmt tf-validate tf-test tf-plan tf-apply tf-backend tf-lock test-infra test-infra-e2e \
	test-infra-apply test-infra-names iam-golden \
	tf-mirror-config tf-init tf-check-env

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
	@case "$(TF_ARGS)" in *enable_compute*|*image_tag*) \
		echo "TF_ARGS sets enable_compute or image_tag: change it in $(TF_ROOT)/terraform.tfvars and merge it instead (the Terraform workflow applies the committed values and would undo a -var; ADR 0003)" >&2; exit 2;; esac
	@if [ "$(ENV)" != bootstrap ] && [ ! -f $(TF_ROOT)/backend.hcl ]; then \
		echo "$(TF_ROOT)/backend.hcl is missing: run 'make tf-backend ENV=$(ENV)' (or copy backend.hcl.example and fill it in)" >&2; exit 2; fi

# backend.hcl goes to init when the root has a backend block for it (the bootstrap only once its
# backend.tf exists, see infra/bootstrap/README.md). TF_INIT_ARGS=-migrate-state moves a state.
TF_BACKEND_ARGS = $(if $(and $(wildcard $(TF_ROOT)/backend.hcl),$(or $(filter-out bootstrap,$(ENV)),$(wildcard $(TF_ROOT)/backend.tf))),-backend-config=backend.hcl)
TF_INIT_ARGS ?=

tf-init: tf-check-env tf-mirror-config ## terraform init of ENV=dev|prod|bootstrap with its backend.hcl (TF_INIT_ARGS=-migrate-state to move state)
	$(TF) -chdir=$(TF_ROOT) init -input=false $(TF_BACKEND_ARGS) $(TF_INIT_ARGS)

tf-plan: tf-init ## terraform plan of ENV=dev|prod|bootstrap (extra arguments in TF_ARGS, e.g. TF_ARGS=-refresh-only)
	$(TF) -chdir=$(TF_ROOT) plan -input=false -out=$(ENV).tfplan $(TF_ARGS)

tf-apply: tf-init ## terraform apply of ENV=dev|prod|bootstrap: shows the plan and asks before changing anything
	$(TF) -chdir=$(TF_ROOT) apply -input=true $(TF_ARGS)

tf-backend: ## Write backend.hcl of ENV=dev|prod|bootstrap from the bootstrap's outputs
	@case "$(ENV)" in dev|prod|bootstrap) ;; *) echo "ENV must be dev, prod or bootstrap (got '$(ENV)')" >&2; exit 2;; esac
	$(TF) -chdir=infra/bootstrap output -json backend_config \
		| python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])' $(ENV) \
		> $(TF_ROOT)/backend.hcl
	@echo "wrote $(TF_ROOT)/backend.hcl"

tf-lock: ## Write complete provider lock files for the roots (needs registry.terraform.io; commit them with git add -f)
	for root in $(TF_ROOTS); do \
		env -u TF_CLI_CONFIG_FILE $(TF) -chdir=$$root providers lock \
			-platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64 -platform=windows_amd64; \
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

test: test-infra
