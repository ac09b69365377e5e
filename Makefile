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
UV_VERSION := 0.13.9
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

lint: install ## ruff (lint and format check), mypy --strict, and no import cycle (import-linter)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports --no-cache

fmt: install ## Format the Python code
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

# `make test` is the whole suite; each part adds its test target as a prerequisite in mk/.
test: install ## Run every test suite (unit, integration, end to end, drills)

clean: ## Remove the virtual environments and caches
	rm -rf .venv $(TOOLS_DIR) .mypy_cache .ruff_cache .pytest_cache .hypothesis

include $(sort $(wildcard mk/*.mk))
