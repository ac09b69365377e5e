"""What the simulator reads from (and writes to) moto's other backends, in one place.

ECR (does the image exist, which digest and tags, its configuration), EC2 (is there a network
path from the task's subnets to the registry; do security groups let the ALB reach the task),
ELBv2 (the target group's health-check settings and load balancer), CloudWatch Logs (does the
log group exist; the task's log stream) and CloudWatch (the deployment alarms' states and
settings; the metrics ECS and the ALB publish). Everything here is read at the moment AWS would read
it, so a test that changes a setting changes behaviour.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from moto.cloudwatch.models import Alarm, cloudwatch_backends
from moto.ec2.models import ec2_backends
from moto.ecr.models import ecr_backends
from moto.elbv2.models import FakeTargetGroup, elbv2_backends
from moto.logs.models import logs_backends

from localcloud.ecs.tasks import utcnow
from localcloud.images.oci import ImageConfig, ImageFormatError, Manifest
from localcloud.moto_fixes.ecr import ecr_blob

_ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[\w][\w.-]{0,127}))?$"
)


@dataclass(frozen=True)
class EcrImage:
    """An image as the emulated ECR resolves it."""

    digest: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class EcrReference:
    registry: str
    region: str
    repository: str
    digest: str | None
    tag: str | None


def parse_ecr_image(image: str) -> EcrReference | None:
    """The parts of an ECR image reference; ``None`` for any other registry."""
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    tag = match["tag"]
    if match["digest"] is None and tag is None:
        tag = "latest"
    return EcrReference(
        match["registry"], match["region"], match["repository"], match["digest"], tag
    )


def resolve_ecr_image(reference: EcrReference) -> EcrImage | None:
    """The image ``reference`` names, or ``None`` when the repository or image does not exist."""
    backend = ecr_backends[reference.registry][reference.region]
    repository = backend.repositories.get(reference.repository)
    if repository is None:
        return None
    for image in repository.images:
        tags = tuple(t for t in image.image_tags if t)
        if (reference.digest and image.get_image_digest() == reference.digest) or (
            reference.digest is None and reference.tag in tags
        ):
            return EcrImage(image.get_image_digest(), tags)
    return None


def image_config(reference: EcrReference, digest: str) -> ImageConfig | None:
    """The configuration of the image ``digest`` in ``reference``'s repository, as its manifest
    names it; ``None`` when the configuration blob was never uploaded or is not valid."""
    backend = ecr_backends[reference.registry][reference.region]
    repository = backend.repositories.get(reference.repository)
    if repository is None:
        return None
    image = next((i for i in repository.images if i.get_image_digest() == digest), None)
    if image is None:
        return None
    try:
        manifest = Manifest.from_json(image.get_image_manifest())
        blob = ecr_blob(
            reference.registry, reference.region, reference.repository, manifest.config_digest
        )
        return ImageConfig.from_json(blob) if blob is not None else None
    except ImageFormatError:
        return None


# --- EC2: network paths ---------------------------------------------------------------------


def _rules_allow(rules: Sequence[Any], port: int) -> list[Any]:
    allowed = []
    for rule in rules:
        protocol = str(rule.ip_protocol)
        if protocol == "-1" or (
            protocol in ("tcp", "6")
            and rule.from_port is not None
            and int(rule.from_port) <= port <= int(rule.to_port)
        ):
            allowed.append(rule)
    return allowed


def registry_path_problem(
    account: str,
    region: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    public_ip: bool,
) -> str | None:
    """Why a task in these subnets cannot reach ECR on 443, or ``None`` when it can.

    A Fargate task pulls its image over HTTPS: it needs an egress rule for 443 and a route to
    the registry: a NAT gateway, an internet gateway together with a public IP, or VPC endpoints
    for ECR (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
    """
    ec2 = ec2_backends[account][region]
    groups = [ec2.get_security_group_from_id(g) for g in security_group_ids]
    if not any(_rules_allow(g.egress_rules, 443) for g in groups if g is not None):
        return f"security groups {', '.join(security_group_ids)} allow no outbound HTTPS (443)"
    if not subnet_ids:
        return "the task has no subnet"
    subnet = ec2.get_subnet(subnet_ids[0])
    endpoints = [
        e
        for e in ec2.describe_vpc_endpoints(vpc_end_point_ids=None)
        if e.vpc_id == subnet.vpc_id and str(e.service_name).endswith(".ecr.dkr")
    ]
    if endpoints:
        return None
    tables = ec2.describe_route_tables(filters={"association.subnet-id": [subnet.id]})
    if not tables:
        tables = ec2.describe_route_tables(
            filters={"association.main": ["true"], "vpc-id": [subnet.vpc_id]}
        )
    for table in tables:
        for route in table.routes:
            if route.destination_cidr_block != "0.0.0.0/0":
                continue
            if route.nat_gateway is not None:
                return None
            gateway_id = str(getattr(route.gateway, "id", "") or "")
            if gateway_id.startswith("igw-") and public_ip:
                return None
            if gateway_id.startswith("igw-"):
                return (
                    f"subnet {subnet.id} routes 0.0.0.0/0 to {gateway_id} but the task has no "
                    "public IP (assignPublicIp DISABLED) and there is no NAT gateway"
                )
    return (
        f"subnet {subnet.id} has no route to the internet (no NAT gateway or internet gateway "
        "on 0.0.0.0/0) and its VPC has no ECR endpoints"
    )


def ingress_problem(
    account: str,
    region: str,
    task_security_group_ids: Sequence[str],
    load_balancer_security_group_ids: Sequence[str],
    vpc_id: str,
    port: int,
) -> str | None:
    """Why the ALB cannot open connections to the task on ``port``, or ``None`` when it can."""
    ec2 = ec2_backends[account][region]
    vpc_cidr = ipaddress.ip_network(ec2.get_vpc(vpc_id).cidr_block)
    for group_id in task_security_group_ids:
        group = ec2.get_security_group_from_id(group_id)
        if group is None:
            continue
        for rule in _rules_allow(group.ingress_rules, port):
            source = getattr(rule, "source_group", None) or {}
            if source.get("GroupId") in load_balancer_security_group_ids:
                return None
            cidr = (getattr(rule, "ip_range", None) or {}).get("CidrIp")
            if cidr and ipaddress.ip_network(cidr, strict=False).overlaps(vpc_cidr):
                return None
    return (
        f"security groups {', '.join(task_security_group_ids)} allow no inbound TCP {port} from "
        f"the load balancer's security groups ({', '.join(load_balancer_security_group_ids)})"
    )


# --- ELBv2 ----------------------------------------------------------------------------------


def target_group(account: str, region: str, arn: str) -> FakeTargetGroup | None:
    return elbv2_backends[account][region].target_groups.get(arn)


@dataclass(frozen=True)
class HealthCheck:
    """A target group's health-check settings, as the ALB applies them."""

    enabled: bool
    path: str
    port: str
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str
    deregistration_delay: float

    def port_for(self, traffic_port: int) -> int:
        return traffic_port if self.port == "traffic-port" else int(self.port)

    def matches(self, status: int) -> bool:
        """Whether ``status`` satisfies the matcher (``200``, ``200,302``, ``200-299``)."""
        for part in self.matcher.split(","):
            low, _, high = part.strip().partition("-")
            if low and int(low) <= status <= int(high or low):
                return True
        return False


def health_check_of(group: FakeTargetGroup) -> HealthCheck:
    matcher = (getattr(group, "matcher", None) or {}).get("HttpCode") or "200"
    delay = group.attributes.get("deregistration_delay.timeout_seconds", 300)
    return HealthCheck(
        enabled=bool(group.health_check_enabled),
        path=group.health_check_path or "/",
        port=str(group.health_check_port or "traffic-port"),
        interval=float(group.health_check_interval_seconds or 30),
        timeout=float(group.health_check_timeout_seconds or 5),
        healthy_threshold=int(group.healthy_threshold_count or 5),
        unhealthy_threshold=int(group.unhealthy_threshold_count or 2),
        matcher=str(matcher),
        deregistration_delay=float(str(delay)),
    )


def load_balancer_security_groups(account: str, region: str, group: FakeTargetGroup) -> list[str]:
    backend = elbv2_backends[account][region]
    groups: list[str] = []
    for arn in group.load_balancer_arns:
        balancer = backend.load_balancers.get(arn)
        if balancer is not None:
            groups.extend(balancer.security_groups or [])
    return groups


# --- CloudWatch Logs ------------------------------------------------------------------


def log_group_exists(account: str, region: str, name: str) -> bool:
    return name in logs_backends[account][region].groups


class MotoLogSink:
    """Writes a task's output to its stream in the emulated CloudWatch Logs."""

    def __init__(self, account: str, region: str, group: str, stream: str) -> None:
        self._backend = logs_backends[account][region]
        self._group = group
        self._stream = stream

    def write(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        now = int(time.time() * 1000)
        group = self._backend.groups.get(self._group)
        if group is None:
            return  # the group was deleted while the task ran: the awslogs driver drops output
        if self._stream not in group.streams:
            group.create_log_stream(self._stream)
        group.put_log_events(self._stream, [{"timestamp": now, "message": line} for line in lines])


# --- CloudWatch -----------------------------------------------------------------------


def metric_alarm(account: str, region: str, name: str) -> Alarm | None:
    """The metric alarm ``name``, as CloudWatch holds it now; ``None`` when there is none."""
    return cloudwatch_backends[account][region].alarms.get(name)


def put_metrics(
    account: str, region: str, namespace: str, dimensions: dict[str, str], values: dict[str, float]
) -> None:
    """Record ``values`` (metric name -> value) now, with ``dimensions``, as AWS publishes its
    own metrics (zeros included: a count of 0 healthy hosts is a datapoint)."""
    now = utcnow().replace(tzinfo=None)  # moto keeps metric times naive UTC
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    data = [
        {"MetricName": n, "Dimensions": dims, "Value": v, "Timestamp": now}
        for n, v in values.items()
    ]
    cloudwatch_backends[account][region].put_metric_data(namespace, data)
