"""``localcloud up`` / ``down`` / ``status``: the whole platform on one machine, offline.

``up`` runs, in order, what a team does to bring an environment to life (infra/README.md), each
step against the emulated AWS the daemon serves:

1. start the daemon (:mod:`localcloud.cloud.daemon`) in the background and wait until it serves;
2. ``terraform init`` and apply ``infra/envs/dev`` in a copy under ``.localcloud/terraform``,
   first the image registry alone (``-target=module.stack.module.ecr``): the service needs an
   image before it is created, and the same root creates the registry (with AWS one would apply
   with ``enable_compute = false`` first; this skips that apply's minute of provider waits);
3. record the service's image in the emulated ECR (:mod:`localcloud.images.records`), tagged
   with the checkout's commit and ``latest``;
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

import shutil
import subprocess  # nosec B404 - argv lists only, never a shell
import time
import urllib.error
import urllib.request
from dataclasses import replace

from localcloud.cloud.model import ENV_ROOT, Cloud, DownResult, Say, UpOptions, UpResult
from localcloud.cloud.provision import provision, start_daemon
from localcloud.cloud.state import Paths, read_json, running_daemon, task_processes, write_json
from localcloud.cloud.terraform import TerraformError
from localcloud.errors import LocalCloudError, NotRunningError, StartError
from localcloud.net import port_in_use

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
        daemon, endpoint = start_daemon(paths, options, say)
        seconds["daemon"] = time.monotonic() - started
        cloud = provision(paths, options, endpoint, daemon, say, seconds)
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
