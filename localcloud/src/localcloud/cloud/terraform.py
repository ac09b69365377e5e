"""Run Terraform roots against the emulated AWS: init, apply, plan, output, destroy, timed.

The harness keeps the Terraform code itself free of emulator specifics:

* **Endpoint.** The hashicorp/aws provider (5.x) and Terraform's S3 backend resolve endpoints with
  the AWS SDK for Go v2, which honours the standard ``AWS_ENDPOINT_URL`` (and per-service
  ``AWS_ENDPOINT_URL_<SERVICE>``) environment variables
  (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). Verified with
  provider 5.100.0: every provider configuration of a root, aliased ones included, and the S3
  backend reach the emulator with no ``endpoints`` block, no override file and no change to the
  root. The environment comes from :meth:`localcloud.emulator.Endpoint.subprocess_env`.
* **Providers.** Terraform installs providers from a filesystem mirror when one is found
  (``TF_PLUGIN_MIRROR``, else ``/opt/tf-plugins``), through a CLI configuration file this module
  writes and names in ``TF_CLI_CONFIG_FILE``; without a mirror Terraform downloads as usual.
* **Workspace.** The root runs in a copy of its source tree (the directory holding the root and
  the modules it calls by relative path), so ``.terraform``, state, plans, the lock file and the
  generated files below never touch the repository, and two runs never share a directory.
* **Backend.** Roots declare a partial ``backend "s3" {}``. :class:`LocalBackend` switches the copy
  to local state with a ``backend_override.tf`` (Terraform merges ``*_override.tf`` files into the
  configuration: https://developer.hashicorp.com/terraform/language/files/override);
  :class:`S3Backend` keeps the S3 backend and passes ``-backend-config`` values, for a state
  bucket and lock table created in the emulator by ``infra/bootstrap``.
* **Variables** are written to ``zz_harness.auto.tfvars.json`` in the copy: they override the
  root's ``terraform.tfvars`` and reach plan, apply and destroy alike.

Every command is a :class:`Step` with its duration; :attr:`TerraformRoot.steps` keeps them all.
A command that fails raises :class:`TerraformCommandError` carrying the step (exit code and output);
one that outlives its timeout is killed with its process group and raises
:class:`TerraformTimeoutError`: an API call the emulator does not implement otherwise looks like a
hang, because the provider retries server errors for many minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess  # nosec B404 - argv lists only, never a shell
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from localcloud.cloud.terraform_tools import (
    PLUGIN_MIRROR_ENV,
    TerraformError,
    TerraformNotFoundError,
    cli_config,
    find_plugin_mirror,
    find_terraform,
    write_cli_config,
)
from localcloud.emulator import Endpoint

__all__ = [
    "PLUGIN_MIRROR_ENV",
    "Backend",
    "LocalBackend",
    "Plan",
    "ResourceChange",
    "S3Backend",
    "Step",
    "TerraformCommandError",
    "TerraformError",
    "TerraformNotFoundError",
    "TerraformRoot",
    "TerraformTimeoutError",
    "cli_config",
    "find_plugin_mirror",
    "find_terraform",
]

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"

DEFAULT_TIMEOUT_SECONDS = 600.0
"""Longest a single Terraform command may run before it is killed."""

_BACKEND_SERVICES = ("S3", "DYNAMODB", "STS", "IAM")

_COPY_IGNORE = shutil.ignore_patterns(
    ".terraform",
    ".terraform.lock.hcl",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfplan",
    "backend.hcl",
    "crash.log",
)


class TerraformCommandError(TerraformError):
    """A Terraform command exited with an unexpected code."""

    def __init__(self, step: Step) -> None:
        self.step = step
        super().__init__(
            f"terraform {step.name} failed with exit code {step.returncode} after "
            f"{step.seconds:.1f} s:\n{_tail(step.stderr or step.stdout)}"
        )


class TerraformTimeoutError(TerraformError):
    """A Terraform command ran longer than its timeout and was killed."""

    def __init__(self, name: str, seconds: float, output: str) -> None:
        self.name = name
        self.seconds = seconds
        super().__init__(
            f"terraform {name} did not finish within {seconds:.0f} s and was killed (an API call "
            f"the emulator does not implement is retried for minutes):\n{_tail(output)}"
        )


@dataclass(frozen=True)
class Step:
    """One Terraform command: what ran, how it ended, how long it took."""

    name: str
    argv: tuple[str, ...]
    returncode: int
    seconds: float
    stdout: str
    stderr: str


@dataclass(frozen=True)
class ResourceChange:
    """A resource a plan would change, with its actions (for example ``("update",)``)."""

    address: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """Result of ``plan -detailed-exitcode``: the step and every resource that would change."""

    step: Step
    changes: tuple[ResourceChange, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or self.step.returncode == 2


@dataclass(frozen=True)
class LocalBackend:
    """Local state in the workspace copy, replacing the root's S3 backend (an override file)."""

    def override(self) -> str:
        return 'terraform {\n  backend "local" {}\n}\n'

    def init_args(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class S3Backend:
    """The root's own S3 backend, with the settings a ``backend.hcl`` would hold."""

    bucket: str
    key: str
    region: str
    dynamodb_table: str | None = None
    use_lockfile: bool = True
    kms_key_id: str | None = None
    # The emulator serves buckets under its path (http://127.0.0.1:<port>/<bucket>): a bucket
    # cannot be a subdomain of an IP address.
    use_path_style: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    def override(self) -> str | None:
        return None

    def init_args(self) -> tuple[str, ...]:
        settings: dict[str, str] = {
            "bucket": self.bucket,
            "key": self.key,
            "region": self.region,
            "encrypt": "true",
            "use_lockfile": str(self.use_lockfile).lower(),
            "use_path_style": str(self.use_path_style).lower(),
        }
        if self.dynamodb_table is not None:
            settings["dynamodb_table"] = self.dynamodb_table
        if self.kms_key_id is not None:
            settings["kms_key_id"] = self.kms_key_id
        settings.update(self.extra)
        return tuple(f"-backend-config={key}={value}" for key, value in settings.items())


Backend: TypeAlias = LocalBackend | S3Backend


class TerraformRoot:
    """A Terraform root module, copied into a workspace and run against an emulator endpoint.

    ``tree`` is the directory copied (it must contain the root and every module the root calls by
    relative path, for this repository ``infra/``); ``root`` is the root's path inside it (for
    example ``envs/dev``). Nothing is copied or run until :meth:`init`.
    """

    def __init__(
        self,
        tree: Path,
        root: str,
        *,
        workdir: Path,
        endpoint: Endpoint,
        backend: Backend | None = None,
        variables: Mapping[str, JSONValue] | None = None,
        environ: Mapping[str, str] | None = None,
        mirror: Path | None = None,
        max_attempts: int = 2,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        log: Callable[[str], None] | None = None,
    ) -> None:
        base = dict(os.environ if environ is None else environ)
        self._terraform = find_terraform(base)
        if not (tree / root).is_dir():
            raise TerraformError(f"{tree / root} is not a directory")
        self.tree = tree
        self.root = root
        self.workdir = workdir
        self.endpoint = endpoint
        self.backend: Backend = backend if backend is not None else LocalBackend()
        self.variables: dict[str, JSONValue] = dict(variables or {})
        self.timeout = timeout
        self._log = log
        self._steps: list[Step] = []
        self._prepared = False

        env = endpoint.subprocess_env(base)
        # Terraform's S3 backend ignores the global AWS_ENDPOINT_URL: it reads the per-service
        # variables of the services it calls (measured with Terraform 1.11.4).
        # https://developer.hashicorp.com/terraform/language/backend/s3#endpoints
        for service in _BACKEND_SERVICES:
            env.setdefault(f"AWS_ENDPOINT_URL_{service}", endpoint.url)
        # An unimplemented call then fails after one retry instead of the SDK's default three.
        env["AWS_MAX_ATTEMPTS"] = str(max_attempts)
        env["TF_IN_AUTOMATION"] = "1"
        env["TF_INPUT"] = "0"
        env["CHECKPOINT_DISABLE"] = "1"
        env.pop("TF_DATA_DIR", None)
        env.pop("TF_WORKSPACE", None)
        chosen = mirror if mirror is not None else find_plugin_mirror(base)
        if chosen is not None:
            env["TF_CLI_CONFIG_FILE"] = str(write_cli_config(workdir / "terraform.tfrc", chosen))
        self.env = env

    @property
    def directory(self) -> Path:
        """The root's directory inside the workspace copy."""
        return self.workdir / "tree" / self.root

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every command run so far, in order, with its duration."""
        return tuple(self._steps)

    def init(self) -> Step:
        """Copy the tree into the workspace, write the generated files, ``terraform init``."""
        self._prepare()
        return self._run("init", ["init", "-input=false", "-no-color", *self.backend.init_args()])

    def migrate_backend(self, backend: Backend) -> Step:
        """Move the state to ``backend`` (``init -migrate-state -force-copy``), as an operator
        moving a root from local state into the S3 backend would."""
        if not self._prepared:
            raise TerraformError("terraform init -migrate-state: call init() first")
        override_file = self.directory / "backend_override.tf"
        override = backend.override()
        if override is None:
            override_file.unlink(missing_ok=True)
        else:
            override_file.write_text(override, encoding="utf-8")
        self.backend = backend
        return self._run(
            "init -migrate-state",
            [
                "init",
                "-migrate-state",
                "-force-copy",
                "-input=false",
                "-no-color",
                *backend.init_args(),
            ],
        )

    def apply(self, *extra: str) -> Step:
        """``terraform apply -auto-approve``, with ``extra`` arguments (``-target=...``)."""
        name = " ".join(("apply", *extra))
        return self._run(name, ["apply", "-auto-approve", "-input=false", "-no-color", *extra])

    def plan(self) -> Plan:
        """``terraform plan -detailed-exitcode``; exit code 2 (changes) is a result, not an error.

        With changes, the saved plan is read back (``show -json``) so a caller can say which
        resources would change and how.
        """
        plan_file = "harness.tfplan"
        step = self._run(
            "plan",
            ["plan", "-detailed-exitcode", "-input=false", "-no-color", f"-out={plan_file}"],
            ok=(0, 2),
        )
        if step.returncode == 0:
            return Plan(step=step, changes=())
        shown = self._run("show", ["show", "-json", "-no-color", plan_file])
        document = json.loads(shown.stdout)
        changes = tuple(
            ResourceChange(address=str(rc["address"]), actions=tuple(rc["change"]["actions"]))
            for rc in document.get("resource_changes", [])
            if rc["change"]["actions"] != ["no-op"] and rc["change"]["actions"] != ["read"]
        )
        return Plan(step=step, changes=changes)

    def output(self, name: str | None = None) -> JSONValue:
        """``terraform output -json [name]``, parsed."""
        args = ["output", "-json", "-no-color"] + ([name] if name is not None else [])
        step = self._run("output", args)
        value: JSONValue = json.loads(step.stdout)
        return value

    def state_list(self) -> tuple[str, ...]:
        """Addresses of every resource in the state (``terraform state list``)."""
        step = self._run("state list", ["state", "list"])
        return tuple(line for line in step.stdout.splitlines() if line)

    def destroy(self) -> Step:
        """``terraform destroy -auto-approve``."""
        return self._run("destroy", ["destroy", "-auto-approve", "-input=false", "-no-color"])

    def _prepare(self) -> None:
        if self._prepared:
            return
        copy = self.workdir / "tree"
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(self.tree, copy, ignore=_COPY_IGNORE, symlinks=True)
        override = self.backend.override()
        if override is not None:
            (self.directory / "backend_override.tf").write_text(override, encoding="utf-8")
        if self.variables:
            tfvars = self.directory / "zz_harness.auto.tfvars.json"
            tfvars.write_text(
                json.dumps(self.variables, indent=2, sort_keys=True), encoding="utf-8"
            )
        self._prepared = True

    def _run(self, name: str, args: Sequence[str], ok: Sequence[int] = (0,)) -> Step:
        if not self._prepared:
            raise TerraformError(f"terraform {name}: call init() first")
        argv = (self._terraform, *args)
        if self._log is not None:
            self._log(f"terraform {' '.join(args)}  (in {self.directory})")
        started = time.monotonic()
        # A process group of its own, so a timeout kills the provider plugins with Terraform.
        process = subprocess.Popen(  # noqa: S603 - argv built here from a resolved binary path  # nosec B603
            argv,
            cwd=self.directory,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise TerraformTimeoutError(name, self.timeout, stderr or stdout) from None
        step = Step(
            name=name,
            argv=tuple(argv),
            returncode=process.returncode,
            seconds=time.monotonic() - started,
            stdout=stdout,
            stderr=stderr,
        )
        self._steps.append(step)
        if self._log is not None:
            self._log(f"terraform {name}: exit {step.returncode} in {step.seconds:.1f} s")
        if step.returncode not in ok:
            raise TerraformCommandError(step)
        return step


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
