"""``localcloud up`` / ``down`` / ``status``: the whole platform on one machine, offline.

``up`` runs, in order, what a team does to bring an environment to life (infra/README.md), each
step against the emulated AWS the daemon serves:

1. start the daemon (:mod:`localcloud.daemon`) in the background and wait until it serves;
2. ``terraform init`` and apply ``infra/envs/dev`` in a copy under ``.localcloud/terraform``,
   first the image registry alone (``-target=module.ecr``), because the service needs an image
   before it is created and the registry is created by the same root (with AWS one would apply
   with ``enable_compute = false`` first; this skips that apply's minute of provider waits);
3. record the service's image in the emulated ECR (:mod:`localcloud.images`), tagged with the
   checkout's commit and ``latest``;
4. apply the whole root with ``enable_compute = true`` and ``image_tag`` = that commit (cost
   guardrails off: moto answers the Cost Explorer and two Budgets calls with HTTP 500, as the
   infrastructure tests also do);
5. wait for ECS to run Terraform's revision, then ``opsctl deploy --image-tag <commit>``, which
   pins the image by digest and verifies ``/health`` through the local listener;
6. write the opsctl target (``target.json``, whose ``alb_url`` is the local listener), the shell
   exports (``env``) and ``cloud.json``.

A failed step stops everything that was started (exit code 4) and names the log to read.
``down`` stops the daemon (which stops its task processes), then kills any task process a crashed
daemon left behind, and checks that nothing of the local cloud still runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess  # nosec B404 - argv lists only, never a shell
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from localcloud import images
from localcloud.emulator import MOTO_DUMMY_CREDENTIAL, REGION, Endpoint
from localcloud.errors import LocalCloudError, NotRunningError, StartError
from localcloud.procs import ProcessRef, port_in_use
from localcloud.sim.stack import client
from localcloud.state import (
    Paths,
    read_json,
    running_daemon,
    task_processes,
    write_atomic,
    write_json,
)
from localcloud.terraform import TerraformError, TerraformRoot, find_plugin_mirror

DEFAULT_PORT = 5100
"""The emulator's port on 127.0.0.1 (not moto's 5000, which macOS's AirPlay receiver holds)."""
DEFAULT_ALB_PORT = 8100
"""The local listener playing the load balancer."""

ENV_ROOT = "envs/dev"

Say = Callable[[str], None]


@dataclass(frozen=True)
class UpOptions:
    repo: Path
    """The checkout: ``infra/`` is applied from it."""
    state_dir: Path
    port: int = DEFAULT_PORT
    alb_port: int = DEFAULT_ALB_PORT
    time_scale: float = 0.1
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    """Where ``app-serve`` and ``opsctl`` live (this virtual environment's ``bin``)."""
    start_timeout: float = 60.0
    deploy_timeout: float = 300.0


@dataclass(frozen=True)
class Cloud:
    """A running local cloud, as ``cloud.json`` records it."""

    endpoint: str
    region: str
    alb_url: str
    cluster: str
    service: str
    log_group: str
    repository: str
    image_tags: tuple[str, ...]
    image_digest: str
    target_file: str
    env_file: str
    terraform_dir: str
    daemon_pid: int
    time_scale: float
    started_at: str
    seconds: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"image_tags": list(self.image_tags)}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Cloud:
        return cls(
            endpoint=str(document["endpoint"]),
            region=str(document["region"]),
            alb_url=str(document["alb_url"]),
            cluster=str(document["cluster"]),
            service=str(document["service"]),
            log_group=str(document["log_group"]),
            repository=str(document["repository"]),
            image_tags=tuple(str(t) for t in document["image_tags"]),
            image_digest=str(document["image_digest"]),
            target_file=str(document["target_file"]),
            env_file=str(document["env_file"]),
            terraform_dir=str(document["terraform_dir"]),
            daemon_pid=int(document["daemon_pid"]),
            time_scale=float(document["time_scale"]),
            started_at=str(document["started_at"]),
            seconds={str(k): float(v) for k, v in document["seconds"].items()},
        )

    @property
    def endpoint_obj(self) -> Endpoint:
        return Endpoint(url=self.endpoint, region=self.region)


@dataclass(frozen=True)
class UpResult:
    cloud: Cloud
    already_running: bool


@dataclass(frozen=True)
class DownResult:
    daemon: int | None
    """The daemon's pid, if one was running."""
    tasks_killed: int
    """Task processes a crashed daemon had left behind, killed by ``down``."""


# --- reading the state --------------------------------------------------------------------------


def current(paths: Paths) -> Cloud | None:
    """The running local cloud, or ``None`` (no daemon, or not ready yet)."""
    if running_daemon(paths) is None:
        return None
    document = read_json(paths.cloud)
    if document is None:
        return None
    try:
        return Cloud.from_json(document)
    except (KeyError, TypeError, ValueError):
        return None


def require(paths: Paths) -> Cloud:
    """The running local cloud; raises :class:`NotRunningError`."""
    cloud = current(paths)
    if cloud is None:
        raise NotRunningError(
            f"no local cloud is running (state: {paths.root})", hint="start one: make local-cloud"
        )
    return cloud


# --- up -----------------------------------------------------------------------------------------


def up(options: UpOptions, say: Say) -> UpResult:
    """Start the local cloud, or report the one that runs; see the module docstring."""
    paths = Paths(options.state_dir.resolve())
    running = current(paths)
    if running is not None:
        return UpResult(running, already_running=True)
    if running_daemon(paths) is not None:
        raise StartError(
            f"a local cloud is starting, or failed half-way, in {paths.root}",
            hint="stop it first: make local-cloud-down",
        )
    infra = options.repo / "infra"
    if not (infra / ENV_ROOT).is_dir():
        raise StartError(f"{infra / ENV_ROOT} does not exist: run from the repository's root")
    for name, port in (("emulator", options.port), ("ALB listener", options.alb_port)):
        if port and port_in_use(port):
            raise StartError(
                f"port {port} on 127.0.0.1 ({name}) is in use",
                hint="free it, or choose another: make local-cloud LOCALCLOUD_PORT=... "
                "LOCALCLOUD_ALB_PORT=...",
            )
    down(paths)  # files and processes a crashed earlier run may have left
    started = time.monotonic()
    seconds: dict[str, float] = {}
    try:
        daemon, endpoint = _start_daemon(paths, options, say)
        seconds["daemon"] = time.monotonic() - started
        cloud = _provision(paths, options, endpoint, daemon, say, seconds)
    except BaseException as error:
        say(f"local cloud: start failed, stopping what was started (log: {paths.daemon_log})")
        down(paths)
        if isinstance(error, LocalCloudError):
            raise
        if isinstance(error, TerraformError | OSError | subprocess.SubprocessError):
            raise StartError(str(error)) from error
        raise
    seconds["total"] = time.monotonic() - started
    cloud = replace(cloud, seconds=seconds)
    write_json(paths.cloud, cloud.to_json())
    return UpResult(cloud, already_running=False)


def _start_daemon(paths: Paths, options: UpOptions, say: Say) -> tuple[ProcessRef, Endpoint]:
    paths.root.mkdir(parents=True, exist_ok=True)
    say(f"local cloud: starting the daemon (log: {paths.daemon_log})")
    argv = [
        sys.executable,
        "-m",
        "localcloud.daemon",
        "--state-dir",
        str(paths.root),
        "--port",
        str(options.port),
        "--alb-port",
        str(options.alb_port),
        "--time-scale",
        str(options.time_scale),
        "--bin-dir",
        str(options.bin_dir),
    ]
    # No AWS variable of the user's reaches the emulator or the tasks.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with paths.daemon_log.open("ab") as log:
        # Its own session: the daemon outlives this command and ignores the terminal's Ctrl-C.
        # Fixed argv, no shell (ruff S603, bandit B603).
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=paths.root,
            env=environment,
            start_new_session=True,
        )
    deadline = time.monotonic() + options.start_timeout
    while time.monotonic() < deadline:
        state = read_json(paths.daemon_state)
        ref = running_daemon(paths)
        if state and state.get("status") == "serving" and ref is not None:
            return ref, Endpoint(url=str(state["endpoint"]), region=REGION)
        if process.poll() is not None:
            raise StartError(
                f"the daemon exited with code {process.returncode} before serving:\n"
                + _tail(paths.daemon_log)
            )
        time.sleep(0.1)
    raise StartError(f"the daemon did not serve within {options.start_timeout:.0f} s")


def repository_commit(repo: Path) -> str:
    """The checkout's commit (12 hex digits), or ``local`` outside a git checkout."""
    git = shutil.which("git")
    if git is None:
        return "local"
    try:
        # Fixed argv, no shell (ruff S603, bandit B603).
        completed = subprocess.run(  # noqa: S603  # nosec B603
            [git, "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "local"
    commit = completed.stdout.strip()
    return commit if completed.returncode == 0 and commit else "local"


def service_version() -> str:
    try:
        return metadata.version("aws-fastapi-service")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _provision(
    paths: Paths,
    options: UpOptions,
    endpoint: Endpoint,
    daemon: ProcessRef,
    say: Say,
    seconds: dict[str, float],
) -> Cloud:
    tag = repository_commit(options.repo)
    environ = dict(os.environ)
    if find_plugin_mirror(environ) is None:
        # Each `up` starts from a fresh copy of infra/: keep the downloaded provider (hundreds
        # of MB) between runs instead of downloading it every time.
        cache = options.repo / ".cache" / "terraform" / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        environ.setdefault("TF_PLUGIN_CACHE_DIR", str(cache))
    root = TerraformRoot(
        options.repo / "infra",
        ENV_ROOT,
        workdir=paths.terraform,
        endpoint=endpoint,
        variables={
            "enable_compute": True,
            "image_tag": tag,
            # moto answers Cost Explorer and two Budgets calls with HTTP 500 (infra/README.md).
            "cost_guardrails": {"enabled": False},
        },
        environ=environ,
        log=lambda line: say(f"  {line}"),
    )

    def timed(name: str, step: Callable[[], object]) -> None:
        began = time.monotonic()
        step()
        seconds[name] = time.monotonic() - began

    say("local cloud: terraform init, then the image registry alone (-target=module.ecr)")
    timed("terraform init", root.init)
    timed("terraform apply (registry)", lambda: root.apply("-target=module.ecr"))

    # A targeted apply writes no outputs: the registry it created is the emulator's only one.
    ecr = client(endpoint.url, endpoint.region, "ecr")
    repositories = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    if len(repositories) != 1:
        raise StartError(f"expected one ECR repository after the registry apply: {repositories}")
    repository = str(repositories[0])
    say(f"local cloud: recording image {repository}:{tag} (and :latest) in the emulated ECR")
    record = images.service_image(service_version(), tag)
    pushed = images.push(ecr, repository, record, [tag, "latest"])

    say("local cloud: terraform apply infra/envs/dev (the load balancer alone waits ~60 s)")
    timed("terraform apply", root.apply)
    opsctl_output = root.output("opsctl")
    if not isinstance(opsctl_output, dict):
        raise StartError("terraform output opsctl is not an object")
    target = {str(k): str(v) for k, v in opsctl_output.items()}

    alb_url = _wait_for_listener(paths, endpoint, target["target_group_arn"], options)
    target["alb_url"] = alb_url
    write_json(paths.target, target)

    began = time.monotonic()
    say("local cloud: waiting for ECS to run Terraform's revision")
    _wait_for_steady_state(endpoint, target["cluster"], target["service"], options)
    say(f"local cloud: opsctl deploy --image-tag {tag}")
    opsctl = options.bin_dir / "opsctl"
    # Fixed argv, no shell (ruff S603, bandit B603).
    completed = subprocess.run(  # noqa: S603  # nosec B603
        [
            str(opsctl),
            "--target-file",
            str(paths.target),
            "deploy",
            "--image-tag",
            tag,
            "--poll-interval",
            "1",
        ],
        env=endpoint.subprocess_env(os.environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        timeout=options.deploy_timeout,
        check=False,
    )
    for line in completed.stdout.splitlines():
        say(f"  {line}")
    if completed.returncode != 0:
        raise StartError(f"opsctl deploy exited with code {completed.returncode}")
    seconds["first deploy"] = time.monotonic() - began

    write_atomic(
        paths.env, render_env(endpoint, paths, alb_url, root.env, options.bin_dir), mode=0o600
    )
    return Cloud(
        endpoint=endpoint.url,
        region=endpoint.region,
        alb_url=alb_url,
        cluster=target["cluster"],
        service=target["service"],
        log_group=target["log_group"],
        repository=repository,
        image_tags=pushed.tags,
        image_digest=pushed.digest,
        target_file=str(paths.target),
        env_file=str(paths.env),
        terraform_dir=str(root.directory),
        daemon_pid=daemon.pid,
        time_scale=options.time_scale,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=seconds,
    )


def _wait_for_listener(
    paths: Paths, endpoint: Endpoint, target_group_arn: str, options: UpOptions
) -> str:
    groups = client(endpoint.url, endpoint.region, "elbv2").describe_target_groups(
        TargetGroupArns=[target_group_arn]
    )["TargetGroups"]
    arns = groups[0].get("LoadBalancerArns") or [] if groups else []
    if not arns:
        raise StartError(f"target group {target_group_arn} is attached to no load balancer")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        urls = (read_json(paths.daemon_state) or {}).get("load_balancer_urls") or {}
        if arns[0] in urls:
            url = str(urls[arns[0]])
            if options.alb_port and not url.endswith(f":{options.alb_port}"):
                raise StartError(
                    f"the load balancer's listener could not take port {options.alb_port}"
                )
            return url
        time.sleep(0.1)
    raise StartError(f"no local listener for {arns[0]} after 15 s")


def _wait_for_steady_state(
    endpoint: Endpoint, cluster: str, service: str, options: UpOptions
) -> None:
    ecs = client(endpoint.url, endpoint.region, "ecs")
    deadline = time.monotonic() + options.deploy_timeout
    last = ""
    while time.monotonic() < deadline:
        described = ecs.describe_services(cluster=cluster, services=[service])["services"]
        deployments = described[0].get("deployments", []) if described else []
        states = [d.get("rolloutState") for d in deployments]
        last = ", ".join(
            f"{d.get('taskDefinition', '?').rsplit('/', 1)[-1]} {s}"
            for d, s in zip(deployments, states, strict=True)
        )
        if states == ["COMPLETED"]:
            return
        if "FAILED" in states:
            raise StartError(f"ECS could not run Terraform's revision: {last}")
        time.sleep(0.25)
    raise StartError(f"ECS did not reach a steady state in {options.deploy_timeout:.0f} s: {last}")


def render_env(
    endpoint: Endpoint,
    paths: Paths,
    alb_url: str,
    terraform_env: Mapping[str, str],
    bin_dir: Path,
) -> str:
    """The shell exports that point the AWS CLI, boto3, opsctl and Terraform at the local cloud,
    with ``bin_dir`` (opsctl, aws, localcloud) first on PATH."""
    exports = {
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_ACCESS_KEY_ID": MOTO_DUMMY_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": MOTO_DUMMY_CREDENTIAL,
        "AWS_DEFAULT_REGION": endpoint.region,
        "AWS_REGION": endpoint.region,
        "OPSCTL_TARGET_FILE": str(paths.target),
        "LOCALCLOUD_ALB_URL": alb_url,
    }
    if "TF_CLI_CONFIG_FILE" in terraform_env:
        exports["TF_CLI_CONFIG_FILE"] = terraform_env["TF_CLI_CONFIG_FILE"]
    lines = [
        "# The local cloud (localcloud up): `source` this file to point the AWS CLI, boto3,",
        "# opsctl and Terraform at it. The credentials are moto's documented dummies.",
        "# A profile or session token would win over them, or send requests to real AWS.",
        "unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN",
        *(f"export {name}={shlex.quote(value)}" for name, value in exports.items()),
        f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"   # opsctl, aws (CLI v1), localcloud',
    ]
    return "\n".join(lines) + "\n"


# --- down and status ----------------------------------------------------------------------------


def down(paths: Paths, timeout: float = 30.0) -> DownResult:
    """Stop the daemon and every task process; remove the generated files. Idempotent.

    Raises :class:`StartError` when a process of the local cloud survives SIGKILL.
    """
    daemon = running_daemon(paths)
    if daemon is not None:
        daemon.terminate(timeout)
    leftovers = task_processes(paths)
    for _, ref in leftovers:
        ref.terminate(2.0)
    survivors = [ref.pid for _, ref in task_processes(paths)]
    if daemon is not None and daemon.alive():
        survivors.append(daemon.pid)
    if survivors:
        raise StartError(f"processes of the local cloud still run: {survivors}")
    for path in paths.generated():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return DownResult(daemon.pid if daemon is not None else None, len(leftovers))


def health(cloud: Cloud, timeout: float = 3.0) -> str:
    """What ``GET /health`` through the local listener answers (status line or error)."""
    request = urllib.request.Request(f"{cloud.alb_url}/health")  # noqa: S310 - loopback URL
    try:
        # Bandit B310 (urlopen accepts file:// too): the URL is http:// to the loopback listener.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as error:
        return f"{error.code} {error.reason}"
    except OSError as error:
        return f"unreachable ({error})"


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
