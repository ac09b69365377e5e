"""The steps of ``localcloud up`` after the checks: start the daemon, apply Terraform, record
the image, deploy with opsctl, write the files a user needs (see :mod:`.control`)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess  # nosec B404 - argv lists only, never a shell
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from localcloud.cloud.model import ENV_ROOT, Cloud, Say, UpOptions
from localcloud.cloud.state import Paths, read_json, running_daemon, write_atomic, write_json
from localcloud.cloud.terraform import TerraformRoot, find_plugin_mirror
from localcloud.emulator import MOTO_DUMMY_CREDENTIAL, REGION, Endpoint, client
from localcloud.errors import StartError
from localcloud.images import records
from localcloud.runtime.procs import ProcessRef


def start_daemon(paths: Paths, options: UpOptions, say: Say) -> tuple[ProcessRef, Endpoint]:
    paths.root.mkdir(parents=True, exist_ok=True)
    say(f"local cloud: starting the daemon (log: {paths.daemon_log})")
    argv = [
        sys.executable,
        "-m",
        "localcloud.cloud.daemon",
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


def provision(
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

    say("local cloud: terraform init, then the image registry alone (-target=.../module.ecr)")
    timed("terraform init", root.init)
    timed("terraform apply (registry)", lambda: root.apply("-target=module.stack.module.ecr"))

    # A targeted apply writes no outputs: the registry it created is the emulator's only one.
    ecr = client(endpoint.url, endpoint.region, "ecr")
    repositories = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    if len(repositories) != 1:
        raise StartError(f"expected one ECR repository after the registry apply: {repositories}")
    repository = str(repositories[0])
    say(f"local cloud: recording image {repository}:{tag} (and :latest) in the emulated ECR")
    record = records.service_image(service_version(), tag)
    pushed = records.push(ecr, repository, record, [tag, "latest"])

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


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
