"""Which service opsctl acts on, and what it discovers from that service.

Sources, the first that gives a value wins (the env root's ``opsctl`` output is defined in
docs/architecture.md, "Contracts"):

1. ``--cluster`` / ``--service`` on the command line;
2. ``--target-file FILE`` (the JSON of an env root's ``opsctl`` output) or ``--tf-dir DIR``
   (runs ``terraform -chdir=DIR output -json opsctl``);
3. the environment: ``OPSCTL_CLUSTER`` / ``OPSCTL_SERVICE`` (GitHub environment variables in the
   workflows), ``OPSCTL_TARGET_FILE``, ``OPSCTL_TF_DIR``.

Everything else (container, task family, target group, ALB URL, log group) is discovered from
the service itself; values from a target file are used only where the service says nothing
(the ALB URL of a target file wins, since it may be a custom domain).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess  # nosec B404 - argv lists only, never a shell
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from opsctl.aws import Aws
from opsctl.errors import TargetError, UsageError
from opsctl.model import LoadBalancer, Service, TargetGroup, TaskDefinition

OUTPUT_ATTRIBUTES = (
    "region",
    "cluster",
    "service",
    "container_name",
    "task_family",
    "ecr_repository_url",
    "target_group_arn",
    "alb_url",
    "log_group",
    "deploy_bake",
)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

_HOW = (
    "give --cluster and --service, set OPSCTL_CLUSTER and OPSCTL_SERVICE, or point at an "
    "environment with --tf-dir infra/envs/<env> or --target-file <file>"
)


@dataclass(frozen=True)
class TargetSpec:
    """What the user named (before looking at AWS)."""

    cluster: str
    service: str
    source: str
    region: str | None = None
    container_name: str | None = None
    task_family: str | None = None
    ecr_repository_url: str | None = None
    target_group_arn: str | None = None
    alb_url: str | None = None
    log_group: str | None = None
    deploy_bake: str | None = None
    """How long ``deploy`` bakes by default (``10m``; ``0``: no bake), per environment."""
    state_url: str | None = None
    """``s3://bucket/key`` of the environment's Terraform state, when ``--tf-dir`` names an
    initialised root whose backend is S3 (``opsctl changes`` lists its versions)."""


def _load_output(text: str, origin: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TargetError(f"{origin} is not JSON: {error}") from error
    if isinstance(data, dict) and "value" in data and isinstance(data["value"], dict):
        data = data["value"]  # `terraform output -json` of all outputs wraps each value
    if not isinstance(data, dict):
        raise TargetError(f"{origin} must hold a JSON object with {', '.join(OUTPUT_ATTRIBUTES)}")
    wrong = [
        k
        for k, v in data.items()
        if k in OUTPUT_ATTRIBUTES and v is not None and not isinstance(v, str)
    ]
    if wrong:
        raise TargetError(f"{origin}: attributes {', '.join(sorted(wrong))} must be strings")
    return {k: v for k, v in data.items() if k in OUTPUT_ATTRIBUTES and isinstance(v, str) and v}


def read_target_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TargetError(f"cannot read target file {path}: {error.strerror}") from error
    return _load_output(text, f"target file {path}")


def read_terraform_output(directory: Path) -> dict[str, str]:
    """``terraform -chdir=DIR output -json opsctl`` (the env root's contract output)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise TargetError(
            "--tf-dir needs terraform on PATH", hint="or use --target-file / --cluster"
        )
    if not directory.is_dir():
        raise TargetError(f"--tf-dir {directory} is not a directory")
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell  # nosec B603
            # -no-color: terraform's errors end up in opsctl's messages, JSON and job summaries.
            [terraform, f"-chdir={directory}", "output", "-no-color", "-json", "opsctl"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise TargetError(
            f"`terraform output` in {directory} did not answer within 120 s"
        ) from error
    if completed.returncode != 0:
        # Escape sequences are stripped too, in case TF_CLI_ARGS or a wrapper forces colour.
        plain = _ANSI.sub("", completed.stderr)
        detail = " ".join(
            line.strip("│ ").strip() for line in plain.splitlines() if line.strip("│ ").strip()
        )
        raise TargetError(
            f"`terraform -chdir={directory} output -json opsctl` failed: "
            f"{detail or f'exit {completed.returncode}'}",
            hint="run `terraform init` there, or apply the environment first",
        )
    return _load_output(completed.stdout, f"terraform output of {directory}")


def state_url_of(directory: Path) -> str | None:
    """The S3 state of an initialised root: ``terraform init`` records the backend settings it
    was given (``-backend-config=backend.hcl``) in ``.terraform/terraform.tfstate``; the state
    object is ``s3://<bucket>/<key>`` in the default workspace. ``None`` for anything else."""
    try:
        recorded = json.loads((directory / ".terraform" / "terraform.tfstate").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    backend = recorded.get("backend") if isinstance(recorded, dict) else None
    if not isinstance(backend, dict) or backend.get("type") != "s3":
        return None
    config = backend.get("config")
    if not isinstance(config, dict):
        return None
    bucket, key = config.get("bucket"), config.get("key")
    if isinstance(bucket, str) and isinstance(key, str) and bucket and key:
        return f"s3://{bucket}/{key}"
    return None


def resolve_spec(
    *,
    cluster: str | None,
    service: str | None,
    tf_dir: Path | None,
    target_file: Path | None,
    environ: Mapping[str, str] | None = None,
) -> TargetSpec:
    """Combine the sources in precedence order; TargetError when cluster or service is missing."""
    env = os.environ if environ is None else environ
    if tf_dir is not None and target_file is not None:
        raise UsageError("give either --tf-dir or --target-file, not both")
    if tf_dir is None and target_file is None:
        if env.get("OPSCTL_TARGET_FILE"):
            target_file = Path(env["OPSCTL_TARGET_FILE"])
        elif env.get("OPSCTL_TF_DIR"):
            tf_dir = Path(env["OPSCTL_TF_DIR"])
    output: dict[str, str] = {}
    origin = ""
    if target_file is not None:
        output, origin = read_target_file(target_file), f"target file {target_file}"
    elif tf_dir is not None:
        output, origin = read_terraform_output(tf_dir), f"terraform output of {tf_dir}"

    def pick(flag: str | None, key: str, env_name: str) -> tuple[str | None, str]:
        if flag:
            return flag, "command line"
        if output.get(key):
            return output[key], origin
        if env.get(env_name):
            return env[env_name], f"${env_name}"
        return None, ""

    cluster_value, cluster_source = pick(cluster, "cluster", "OPSCTL_CLUSTER")
    service_value, service_source = pick(service, "service", "OPSCTL_SERVICE")
    if not cluster_value or not service_value:
        missing = " and ".join(
            n for n, v in (("cluster", cluster_value), ("service", service_value)) if not v
        )
        raise TargetError(f"no {missing} given", hint=_HOW)
    sources = sorted({cluster_source, service_source})
    return TargetSpec(
        cluster=cluster_value,
        service=service_value,
        source=", ".join(sources),
        region=output.get("region"),
        container_name=output.get("container_name"),
        task_family=output.get("task_family"),
        ecr_repository_url=output.get("ecr_repository_url"),
        target_group_arn=output.get("target_group_arn"),
        alb_url=output.get("alb_url"),
        log_group=output.get("log_group"),
        deploy_bake=output.get("deploy_bake"),
        state_url=state_url_of(tf_dir) if tf_dir is not None else None,
    )


@dataclass(frozen=True)
class Target:
    """The service opsctl acts on, with what it discovered from it."""

    spec: TargetSpec
    region: str
    service: Service
    task_definition: TaskDefinition
    """The revision of the PRIMARY deployment (what ECS is rolling out or runs)."""
    container_name: str
    container_port: int | None
    target_group_arn: str | None
    log_group: str | None
    log_stream_prefix: str | None

    @property
    def cluster(self) -> str:
        return self.spec.cluster

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def family(self) -> str:
        return self.task_definition.family


def discover(aws: Aws, spec: TargetSpec) -> Target:
    """Describe the service and find its container, target group and log group."""
    service = aws.describe_service(spec.cluster, spec.service)
    primary = service.primary
    task_definition = aws.describe_task_definition(
        primary.task_definition if primary else service.task_definition
    )
    balancer = service.load_balancers[0] if service.load_balancers else None
    name = balancer.container_name if balancer and balancer.container_name else spec.container_name
    try:
        container = task_definition.container(name)
    except KeyError as error:
        raise TargetError(
            f"container {name!r} is not in {task_definition.family}:{task_definition.revision}"
        ) from error
    log_group = container.log_option("awslogs-group") if container.log_driver == "awslogs" else None
    return Target(
        spec=spec,
        region=aws.region,
        service=service,
        task_definition=task_definition,
        container_name=container.name,
        container_port=balancer.container_port
        if balancer
        else (container.container_ports or (None,))[0],
        target_group_arn=balancer.target_group_arn if balancer else spec.target_group_arn,
        log_group=log_group or spec.log_group or f"/aws/ecs/{service.name}",
        log_stream_prefix=container.log_option("awslogs-stream-prefix"),
    )


_SET_URL = (
    "set --url / OPSCTL_URL, or the Terraform public_url that feeds the target's alb_url, "
    "to the name the certificate is for"
)


@dataclass(frozen=True)
class SmokeTarget:
    """Where the post-deploy smoke test sends ``GET /health``, or why it cannot."""

    url: str | None
    skipped: str | None = None
    """Why there is no URL to test (then ``url`` is None)."""


def _aws_name_over_https(url: str) -> bool:
    """An HTTPS URL on a load balancer's AWS-generated name: no certificate can match it
    (ACM issues certificates only for domains the account proves it controls, never for
    *.elb.amazonaws.com), so urllib's hostname check fails whatever the service does."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host.endswith(
        (".elb.amazonaws.com", ".elb.amazonaws.com.cn")
    )


def _from_balancer(balancer: LoadBalancer | None) -> SmokeTarget:
    if balancer is None or not balancer.dns_name:
        return SmokeTarget(None, "the service has no load balancer; pass --url or set OPSCTL_URL")
    forwards = sorted(
        (
            listener
            for listener in balancer.listeners
            if listener.protocol == "HTTP" and listener.default_action == "forward"
        ),
        key=lambda listener: listener.port != 80,
    )
    if forwards:
        port = forwards[0].port
        return SmokeTarget(f"http://{balancer.dns_name}{'' if port == 80 else f':{port}'}")
    if any(listener.protocol == "HTTPS" for listener in balancer.listeners):
        # Port 80 (if any) redirects to HTTPS: following it ends at the same name mismatch.
        return SmokeTarget(
            None,
            f"the load balancer serves the service only over HTTPS, and its AWS name "
            f"{balancer.dns_name} matches no certificate; {_SET_URL}",
        )
    return SmokeTarget(
        None, f"no listener of {balancer.dns_name} forwards HTTP to the service; {_SET_URL}"
    )


def smoke_target(
    aws: Aws, target: Target, override: str | None = None
) -> tuple[SmokeTarget, TargetGroup | None, LoadBalancer | None]:
    """The URL to smoke-test: ``--url``, else the target file's ``alb_url``, else the load
    balancer's AWS name through a listener that forwards plain HTTP. An HTTPS URL on the AWS
    name cannot pass the certificate's hostname check, so it is never used: a target file's
    falls back to such an HTTP listener, and without one (or with ``--url``) the smoke test is
    skipped with the reason, never reported as a failed verification. Also returns the target
    group and load balancer."""
    group = aws.target_group(target.target_group_arn) if target.target_group_arn else None
    balancer = (
        aws.load_balancer(group.load_balancer_arns[0])
        if group and group.load_balancer_arns
        else None
    )
    if override:
        url = override.rstrip("/")
        if _aws_name_over_https(url):
            return (
                SmokeTarget(
                    None,
                    f"--url {url} is HTTPS on the load balancer's AWS name, "
                    f"which matches no certificate; {_SET_URL}",
                ),
                group,
                balancer,
            )
        return SmokeTarget(url), group, balancer
    if target.spec.alb_url and not _aws_name_over_https(target.spec.alb_url):
        return SmokeTarget(target.spec.alb_url.rstrip("/")), group, balancer
    return _from_balancer(balancer), group, balancer
