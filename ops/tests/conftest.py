"""Fixtures for opsctl's tests: moto as an HTTP server plus the ECS simulator (one per test
process: the ``harness`` fixture of localcloud's pytest plugin), a platform built with boto3 per
test, and opsctl run as a real subprocess against it, with the permissions of the deploy role
only: every AWS call opsctl makes is authorized against infra/bootstrap/iam.tf's deploy policy
(support/iam_guard.py) and a test fails if any was refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from localcloud.runtime.scripted import Behaviour
from localcloud.testing.harness import Harness, World
from localcloud.testing.stacks import StackOptions, build_stack

# pytest imports this file as ops.tests.conftest (--import-mode=importlib, root pyproject.toml),
# so the support modules beside it are reached relative to it: no sys.path edit.
from ops.tests.support.iam_guard import Environment, Guard, install

OPSCTL = str(Path(sys.executable).with_name("opsctl"))


@cache
def schema(name: str) -> dict[str, Any]:
    text = resources.files("opsctl").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


def validate(document: dict[str, Any]) -> None:
    """Check an opsctl JSON document against the schema its command documents."""
    command = document.get("command")
    name = (
        "error"
        if "error" in document
        else ("rollout" if command in ("deploy", "rollback", "redeploy", "watch") else command)
    )
    validator = jsonschema.Draft202012Validator(
        schema(str(name)), format_checker=jsonschema.FormatChecker()
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def json(self) -> dict[str, Any]:
        document = json.loads(self.stdout)
        validate(document)
        return document

    def __str__(self) -> str:
        return (
            f"opsctl {' '.join(self.args)} -> "
            f"{self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


@dataclass
class Scenario(World):
    """A platform in the harness, with opsctl pointed at it (its target file and environment)."""

    tmp: Path = field(kw_only=True)
    alb_url: str = field(kw_only=True)
    target_file: Path = field(kw_only=True)
    env: dict[str, str] = field(default_factory=dict, kw_only=True)

    poll_interval = 0.1

    def opsctl(self, *args: str, target: bool = True, timeout: float = 90) -> Run:
        argv = [OPSCTL, *(("--target-file", str(self.target_file)) if target else ()), *args]
        started = time.monotonic()
        completed = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        return Run(
            tuple(args),
            completed.returncode,
            completed.stdout,
            completed.stderr,
            time.monotonic() - started,
        )

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """Start opsctl in the background, with SIGINT handled as on a terminal.

        A shell's background job (CI runners, `make ... &`) ignores SIGINT and its children
        inherit that; Ctrl-C tests need the default disposition back.
        """
        argv = [OPSCTL, "--target-file", str(self.target_file), *args]
        return subprocess.Popen(
            argv,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def revisions(self) -> list[str]:
        return self.client("ecs").list_task_definitions(familyPrefix=self.stack.family)[
            "taskDefinitionArns"
        ]

    def stopped_tasks(self) -> list[dict[str, Any]]:
        return self.tasks("STOPPED")


@pytest.fixture
def iam_guard(harness: Harness) -> Iterator[Guard]:
    """The deploy role's policy on the emulator's side; fails the test if opsctl made a call the
    policy refuses, unless the test set ``expect_refusals``."""
    guard = install()
    guard.calls.clear()
    guard.expect_refusals = False
    guard.unrestricted = False
    yield guard
    guard.enabled = False
    refused = guard.refusals()
    if refused and not guard.expect_refusals:
        lines = sorted({r.describe() for call in refused for r in call.refused})
        pytest.fail(
            "opsctl made AWS calls the deploy role (infra/bootstrap/iam.tf) does not grant:\n  "
            + "\n  ".join(lines)
        )


@pytest.fixture
def unrestricted_iam(iam_guard: Guard) -> Guard:
    """For tests of what opsctl does with more rights than the deploy role (an administrator
    at 3 a.m.): no policy check."""
    iam_guard.unrestricted = True
    return iam_guard


@pytest.fixture
def make_scenario(
    harness: Harness, tmp_path: Path, iam_guard: Guard
) -> Iterator[Callable[..., Scenario]]:
    """Build a platform (``StackOptions``) whose images behave as given (tag -> Behaviour)."""

    def make(
        options: StackOptions | None = None,
        behaviours: dict[str, Behaviour] | None = None,
        *,
        settle: bool = True,
    ) -> Scenario:
        harness.reset()
        for tag, behaviour in (behaviours or {}).items():
            harness.runtime.script(tag, behaviour)
        stack = build_stack(harness.endpoint, options or StackOptions())
        alb_url = harness.simulator.alb_url(stack.load_balancer_arn)
        target_file = tmp_path / "target.json"
        target_file.write_text(json.dumps(stack.opsctl_target(alb_url)))
        env = harness.endpoint.subprocess_env(os.environ)
        env.update(
            {
                "OPSCTL_POLL_INTERVAL": "0.2",
                "OPSCTL_VERIFY_TIMEOUT": "5",
                "OPSCTL_TIMEOUT": "40",
                "COLUMNS": "200",
            }
        )
        for name in (
            "OPSCTL_CLUSTER",
            "OPSCTL_SERVICE",
            "OPSCTL_TARGET_FILE",
            "OPSCTL_TF_DIR",
            "OPSCTL_URL",
        ):
            env.pop(name, None)
        scenario = Scenario(
            harness, stack, tmp=tmp_path, alb_url=alb_url, target_file=target_file, env=env
        )
        if not iam_guard.unrestricted:
            iam_guard.use(Environment(stack.service, stack.cluster), stack.region)
        if settle:
            scenario.settle()
        return scenario

    yield make
    iam_guard.enabled = False
    harness.simulator.forget_all()


@pytest.fixture
def validate_document() -> Callable[[dict[str, Any]], None]:
    """The schema check every JSON document of opsctl must pass."""
    return validate
