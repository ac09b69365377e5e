"""Driving a running local cloud the way an operator does: the drills' harness.

Every action goes through the tools the runbook names, as subprocesses with the environment
``.localcloud/env`` exports: ``opsctl``, the AWS CLI (``aws``), ``terraform``, ``localcloud image
push`` and plain HTTP to the local ALB. Nothing reaches into the emulator's memory: what a drill
sees is what a person at a terminal would see.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess  # nosec B404 - argv lists only, never a shell
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.cloud.model import Cloud
from localcloud.emulator import client


@dataclass(frozen=True)
class Run:
    """One command: what ran, how it ended, how long it took."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def json(self) -> Any:  # noqa: ANN401 - a parsed JSON document
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n-> exit {self.returncode} in {self.seconds:.1f} s\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


class DrillError(AssertionError):
    """A step of a drill did not go as the runbook says (the message shows the evidence)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: str

    @property
    def json(self) -> Any:  # noqa: ANN401 - a parsed JSON document
        return json.loads(self.body)


@dataclass
class Operator:
    """A person at a terminal with ``.localcloud/env`` sourced, in front of one local cloud."""

    cloud: Cloud
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    state_dir: Path | None = None
    log: Callable[[str], None] = lambda line: None
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        env = self.cloud.endpoint_obj.subprocess_env(os.environ)
        env.update(_exports(Path(self.cloud.env_file)))
        env["PATH"] = os.pathsep.join((str(self.bin_dir), env.get("PATH", "")))
        # opsctl polls every 5 s by default; the local cloud's clock runs faster.
        env["OPSCTL_POLL_INTERVAL"] = "0.5"
        self.env = env

    # --- the tools ------------------------------------------------------------------------

    def run(self, *argv: str, timeout: float = 180, cwd: Path | None = None) -> Run:
        """Run ``argv`` (its program looked up on the operator's PATH) and record it."""
        program = shutil.which(argv[0], path=self.env["PATH"])
        if program is None:
            raise DrillError(f"{argv[0]} is not installed (PATH={self.env['PATH']})")
        began = time.monotonic()
        # Argv list, no shell (ruff S603, bandit B603).
        completed = subprocess.run(  # noqa: S603  # nosec B603
            [program, *argv[1:]],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Run(
            tuple(argv),
            completed.returncode,
            completed.stdout,
            completed.stderr,
            time.monotonic() - began,
        )
        self.log(f"$ {' '.join(argv)}  -> exit {result.returncode} in {result.seconds:.1f} s")
        return result

    def opsctl(self, *args: str, timeout: float = 180) -> Run:
        """``opsctl --target-file .localcloud/target.json ...``"""
        return self.run("opsctl", "--target-file", self.cloud.target_file, *args, timeout=timeout)

    def aws(self, *args: str, timeout: float = 60) -> Run:
        """``aws ...`` (AWS CLI v1), reaching the emulator through AWS_ENDPOINT_URL."""
        return self.run("aws", *args, timeout=timeout)

    def aws_json(self, *args: str) -> Any:  # noqa: ANN401 - a parsed JSON document
        """``aws ... --output json``, which must succeed, parsed."""
        result = self.aws(*args, "--output", "json")
        expect(result.returncode == 0, "the AWS CLI call failed", result)
        return result.json

    def terraform(self, *args: str, timeout: float = 300) -> Run:
        """``terraform -chdir=<the local cloud's infra/envs/dev> ...``"""
        return self.run(
            "terraform", f"-chdir={self.cloud.terraform_dir}", *args, "-no-color", timeout=timeout
        )

    def localcloud(self, *args: str, timeout: float = 60) -> Run:
        state = ("--state-dir", str(self.state_dir)) if self.state_dir else ()
        return self.run("localcloud", *state, *args, timeout=timeout)

    def push_image(self, tag: str, **environment: str) -> str:
        """``localcloud image push --tag TAG [--env K=V]...``; returns the image's digest."""
        args = ["image", "push", "--tag", tag]
        for key, value in environment.items():
            args += ["--env", f"{key}={value}"]
        result = self.localcloud(*args)
        expect(result.returncode == 0, f"pushing {tag} failed", result)
        return result.stdout.split("@", 1)[1].split()[0]

    def get(self, path: str, timeout: float = 5.0) -> Response:
        """``curl <local ALB><path>``."""
        request = urllib.request.Request(f"{self.cloud.alb_url}{path}")  # noqa: S310 - loopback
        try:
            # B310: the URL is http:// to the loopback listener this local cloud runs.
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
                return Response(response.status, response.read().decode(errors="replace"))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode(errors="replace"))

    # --- observing (boto3 over HTTP: as fast as polling must be) ------------------------------

    def api(self, service: str) -> Any:  # noqa: ANN401 - a boto3 client
        """A boto3 client for the emulator, for watching state while a drill waits; the drill's
        own steps use the operator's tools above."""
        return client(self.cloud.endpoint, self.cloud.region, service)

    def service(self) -> dict[str, Any]:
        described = self.api("ecs").describe_services(
            cluster=self.cloud.cluster, services=[self.cloud.service]
        )
        return dict(described["services"][0])

    def target_group_arn(self) -> str:
        return str(json.loads(Path(self.cloud.target_file).read_text())["target_group_arn"])

    def target_health(self) -> list[dict[str, Any]]:
        described = self.api("elbv2").describe_target_health(TargetGroupArn=self.target_group_arn())
        return [dict(t) for t in described["TargetHealthDescriptions"]]

    def tasks(self, desired_status: str = "RUNNING") -> list[dict[str, Any]]:
        ecs = self.api("ecs")
        arns = ecs.list_tasks(
            cluster=self.cloud.cluster,
            serviceName=self.cloud.service,
            desiredStatus=desired_status,
        )["taskArns"]
        if not arns:
            return []
        return [
            dict(t) for t in ecs.describe_tasks(cluster=self.cloud.cluster, tasks=arns)["tasks"]
        ]

    def task_definition(self, revision: str) -> dict[str, Any]:
        described = self.aws_json("ecs", "describe-task-definition", "--task-definition", revision)
        return dict(described["taskDefinition"])

    def register_variant(self, revision: str, change: Callable[[dict[str, Any]], None]) -> str:
        """Register a copy of ``revision`` changed by ``change`` (as a person editing the task
        definition JSON by hand would, runbook 2.2 step 3); return the new revision's ARN."""
        definition = self.task_definition(revision)
        fields = (
            "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
            "volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory",
            "runtimePlatform",
        )  # fmt: skip
        registration = {k: definition[k] for k in fields if k in definition}
        change(registration)
        with tempfile.TemporaryDirectory(prefix="drill-") as directory:
            path = Path(directory) / "taskdef.json"
            path.write_text(json.dumps(registration), encoding="utf-8")
            registered = self.aws_json(
                "ecs", "register-task-definition", "--cli-input-json", f"file://{path}"
            )
        return str(registered["taskDefinition"]["taskDefinitionArn"])

    # --- waiting and judging -----------------------------------------------------------------

    def wait(self, what: str, predicate: Callable[[], bool], timeout: float = 90.0) -> float:
        """Poll ``predicate`` until it holds; return the seconds it took."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if predicate():
                return time.monotonic() - began
            time.sleep(0.3)
        raise DrillError(f"waited {timeout:.0f} s for {what}:\n{self.describe()}")

    def healthy(self) -> bool:
        """Runbook 2.1 step 3: one COMPLETED deployment, desired tasks RUNNING, every target
        healthy, ``/health`` 200 through the ALB."""
        service = self.service()
        deployments = service.get("deployments", [])
        if [d.get("rolloutState") for d in deployments] != ["COMPLETED"]:
            return False
        if service.get("runningCount") != service.get("desiredCount"):
            return False
        states = [t["TargetHealth"]["State"] for t in self.target_health()]
        if not states or any(s != "healthy" for s in states):
            return False
        return self.get("/health").status == 200

    def describe(self) -> str:
        """What an operator would look at first: ``opsctl status``."""
        return self.opsctl("status", "--events", "8", timeout=60).stdout


def expect(condition: bool, message: str, evidence: object = "") -> None:
    """Fail the drill with ``message`` and the evidence (a command's output) unless it holds."""
    if not condition:
        raise DrillError(f"{message}\n{evidence}")


def findings(run: Run) -> dict[str, dict[str, Any]]:
    """``opsctl --output json diagnose``'s findings by rule."""
    return {str(f["rule"]): dict(f) for f in run.json.get("findings", [])}


def _exports(env_file: Path) -> dict[str, str]:
    """The ``export NAME=VALUE`` lines of the local cloud's env file (values shell-quoted)."""
    exports = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        match = re.match(r"export ([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match and match[1] != "PATH":  # PATH is the operator's own, extended below
            exports[match[1]] = shlex.split(match[2])[0] if match[2] else ""
    return exports
