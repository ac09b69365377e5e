# The container image (Dockerfile, image/): build, smoke-test, push.
# How-to: README "Build and run the image"; base image choice: docs/adr/0006-base-image.md.
.PHONY: image image-smoke image-push image-save image-load image-standin image-uv-pins test-image

IMAGE ?= aws-fastapi-service:dev
# Empty: the Dockerfile's digest-pinned official base. Set it only to substitute a local base
# where no registry answers (`make image-standin` prints one); such images are never pushed.
# It replaces the Dockerfile's `base` stage as a named build context (docker BuildKit and podman).
BASE_IMAGE ?=
# docker where an engine answers, podman otherwise (recursive: probed only when used).
CONTAINER_ENGINE ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v podman >/dev/null 2>&1; then echo podman; else echo none; fi)
# Build metadata: OCI labels and APP_VERSION/APP_COMMIT, which GET /health reports.
IMAGE_VERSION ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' service/pyproject.toml | head -1)
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_SOURCE ?= $(shell git config --get remote.origin.url 2>/dev/null \
	| sed -e 's|^git@\([^:]*\):|https://\1/|' -e 's|\.git$$||' || true)
# podman here needs runc and explicit rlimits (image/containers.conf says why); your own
# CONTAINERS_CONF, if set, wins.
PODMAN_ENV = CONTAINERS_CONF="$${CONTAINERS_CONF:-$(CURDIR)/image/containers.conf}"
# Fargate runs the task definition's cpu_architecture (X86_64 by default in infra/): build for it
# even on an arm64 laptop, or the task fails with "exec format error". ARM64 tasks: linux/arm64.
IMAGE_PLATFORM ?= linux/amd64
# Extra flags for the engine's build, e.g. a CA bundle mount behind a TLS-inspecting proxy (podman).
IMAGE_BUILD_FLAGS ?=
SMOKE_STARTS ?= 1
SMOKE_REPORT ?=

image: ## Build the image: make image IMAGE=<name:tag> [BASE_IMAGE=<local base>]
	@case "$(CONTAINER_ENGINE)" in \
	  docker) build="docker build" ;; \
	  podman) export $(PODMAN_ENV); \
	    build="podman build --format docker $(if $(BASE_IMAGE),--pull=never)" ;; \
	  *) echo "make image: neither a docker engine nor podman answers" >&2; exit 2 ;; \
	esac; \
	set -x; $$build --platform "$(IMAGE_PLATFORM)" $(IMAGE_BUILD_FLAGS) $(if $(BASE_IMAGE),--build-context base=docker-image://"$(BASE_IMAGE)") \
	  --build-arg VERSION="$(or $(IMAGE_VERSION),0.0.0+unknown)" \
	  --build-arg REVISION="$(IMAGE_REVISION)" \
	  --build-arg SOURCE="$(or $(IMAGE_SOURCE),unknown)" \
	  --tag "$(IMAGE)" .

image-smoke: install ## Build the image on a stand-in base with podman and check it (see image/smoke.py)
	$(RUN) python image/smoke.py --uv $(UV) --starts $(SMOKE_STARTS) \
		$(if $(SMOKE_REPORT),--report $(SMOKE_REPORT))

image-standin: install ## Build (or find cached) the podman stand-in base; print its name
	@$(RUN) python image/smoke.py standin

# More names for the same local image, pushed after IMAGE (space-separated): CI pushes one build
# to every environment's repository and fails unless all report one digest (image/push.py).
IMAGE_ALSO ?=
# The local image to push under those names, when it has another name (CI loads the scanned one
# as aws-fastapi-service:<sha>); empty: IMAGE itself.
IMAGE_FROM ?=
# Where image-save writes the image and image-load reads it (a docker-archive tar).
IMAGE_ARCHIVE ?= image.tar

# image/push.py needs only the standard library: no `make install` on the pushing machine.
image-push: ## Push IMAGE to its registry (logs in to ECR): make image-push IMAGE=<registry>/<repo>:<tag> [IMAGE_ALSO="<more names>"] [IMAGE_FROM=<local image>]
	$(PYTHON) image/push.py --engine "$(CONTAINER_ENGINE)" "$(IMAGE)" $(foreach name,$(IMAGE_ALSO),--also "$(name)") $(if $(IMAGE_FROM),--from "$(IMAGE_FROM)")

# CI builds and scans the image in one job and pushes it from another: the archive carries the
# scanned bytes between them, so nothing is rebuilt before the push (docs/pipelines.md).
image-save: ## Write the local IMAGE to IMAGE_ARCHIVE (default image.tar)
	@case "$(CONTAINER_ENGINE)" in \
	  docker) docker save --output "$(IMAGE_ARCHIVE)" "$(IMAGE)" ;; \
	  podman) export $(PODMAN_ENV); podman save --format docker-archive --output "$(IMAGE_ARCHIVE)" "$(IMAGE)" ;; \
	  *) echo "make image-save: neither a docker engine nor podman answers" >&2; exit 2 ;; \
	esac
	@echo "image-save: wrote $(IMAGE) to $(IMAGE_ARCHIVE)"

image-load: ## Load IMAGE_ARCHIVE and check it holds IMAGE
	@case "$(CONTAINER_ENGINE)" in \
	  docker) docker load --input "$(IMAGE_ARCHIVE)" && docker image inspect --format '{{.Id}}' "$(IMAGE)" ;; \
	  podman) export $(PODMAN_ENV); podman load --input "$(IMAGE_ARCHIVE)" && podman image inspect --format '{{.Id}}' "$(IMAGE)" ;; \
	  *) echo "make image-load: neither a docker engine nor podman answers" >&2; exit 2 ;; \
	esac

image-uv-pins: install ## Re-pin the image's (and make's) uv with PyPI's hashes: make image-uv-pins UV_VERSION=<x.y.z>
	echo "uv==$(UV_VERSION)" | $(UV) pip compile - --generate-hashes --no-header --no-annotate \
		--index-url https://pypi.org/simple --quiet \
		| { sed -n '1,2p' image/uv-requirements.txt; cat; } > image/uv-requirements.txt.new
	mv image/uv-requirements.txt.new image/uv-requirements.txt

# The smoke test runs inside `make test` as a needs_podman test (image/tests/test_image_smoke.py).
test-image: install
	$(RUN) pytest image/tests

TEST_SUITES += test-image
