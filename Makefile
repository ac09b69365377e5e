# aws-fastapi-devsecops. Quickstart: `make run`, `make test`. `make help` lists every target.
#
# Needs only Python 3.11+ and make: the first target that needs Python tools installs a pinned
# uv into .tools/ and the locked dependencies (uv.lock) into .venv/.
# Each part adds its own targets in mk/<part>.mk; this file holds what they share.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
# uv's version is the one image/uv-requirements.txt pins with PyPI's hashes (the image's builder
# installs it from there), so that the Makefile, the image and Dependabot's updates of that file
# never disagree. A different one by hand: `make image-uv-pins UV_VERSION=<x.y.z>`.
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\) .*/\1/p' image/uv-requirements.txt)
TOOLS_DIR := .tools
UV := $(TOOLS_DIR)/bin/uv
# Use the interpreter we were given, never a downloaded one; trust the system's CA store
# (corporate proxies with their own CA work with no extra setup).
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_SYSTEM_CERTS := 1
# Compile bytecode at install time: CLIs such as opsctl start ~0.4 s faster on machines that set
# PYTHONDONTWRITEBYTECODE (docs/performance.md).
export UV_COMPILE_BYTECODE := 1
RUN := $(UV) run --frozen --no-sync
# Each pinned scanner lives in its own venv (mk/scan.mk): $(call scanner,<name>) is the directory
# of its executables, $(call scanner_ready,<name>) the file that says it is installed. Defined
# here because every mk/*.mk may name them in a prerequisite list, expanded when it is read.
SCANNERS_DIR := .tools/scanners
scanner = $(SCANNERS_DIR)/$(1)/bin
scanner_ready = $(SCANNERS_DIR)/$(1)/.installed
SYNCED := .venv/.synced

.PHONY: help install lint fmt test clean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort -u | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS_DIR)
	$(TOOLS_DIR)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): uv.lock pyproject.toml service/pyproject.toml ops/pyproject.toml localcloud/pyproject.toml | $(UV)
	$(UV) sync --locked
	@touch $@

install: $(SYNCED) ## Install the locked Python dependencies into .venv

# The git hooks (.pre-commit-config.yaml: ruff check and format, terraform fmt, detect-secrets,
# actionlint, zizmor, hadolint, large files, merge markers) on every file git tracks, then mypy and the import check.
# mk/hooks.mk adds the scanners the hooks need as prerequisites and `make hooks`.
lint: install ## The git hooks on every tracked file (ruff, terraform fmt, secrets, workflow/Dockerfile linters), then mypy --strict and no import cycle (import-linter)
	$(RUN) pre-commit run --all-files
	$(RUN) mypy
	$(RUN) lint-imports --no-cache

fmt: install ## Format the Python code
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

# `make test` is the whole suite; each part adds its test target to TEST_SUITES in mk/. They run
# TEST_JOBS at a time (TEST_JOBS=1: one after the other), the longest first: the drills, opsctl's
# and the apply tests spend most of their time waiting on simulated AWS time and on Terraform's
# fixed sleeps, so two share the 2 cores of a CI runner (docs/performance.md, "Test suite").
# Each suite's output is printed whole when it ends.
TEST_JOBS ?= 2
TEST_FIRST := test-drills test-ops test-infra
TEST_SUITES :=
test: install ## Run every test suite (unit, integration, end to end, drills); TEST_JOBS at a time (default 2)
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target \
		$(foreach t,$(TEST_FIRST),$(filter $(t),$(TEST_SUITES))) $(filter-out $(TEST_FIRST),$(TEST_SUITES))

clean: ## Remove the virtual environments and caches
	rm -rf .venv $(TOOLS_DIR) .mypy_cache .ruff_cache .pytest_cache .hypothesis

include $(sort $(wildcard mk/*.mk))
