"""What opsctl knows about AWS, as immutable values (aws.py builds them from API responses).

Keeping AWS's response shapes inside aws.py lets every other module work with typed, frozen
values and lets unit tests build them without boto3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# The values ECS documents for a deployment's status and rolloutState
# (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html).
DeploymentStatus = Literal["PRIMARY", "ACTIVE", "INACTIVE"]
RolloutState = Literal["IN_PROGRESS", "COMPLETED", "FAILED"]


@dataclass(frozen=True)
class Deployment:
    """One entry of ``services[].deployments``."""

    id: str
    status: DeploymentStatus
    """PRIMARY (the newest), ACTIVE (older, still draining) or INACTIVE."""
    task_definition: str
    desired: int
    running: int
    pending: int
    failed_tasks: int
    rollout_state: RolloutState | None
    """IN_PROGRESS, COMPLETED or FAILED (None for services without rolling updates)."""
    rollout_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def is_circuit_breaker_rollback(self) -> bool:
        """Whether ECS started this deployment to roll back a failed one."""
        return "rolling back" in (self.rollout_reason or "")


@dataclass(frozen=True)
class ServiceEvent:
    id: str
    created_at: datetime
    message: str


@dataclass(frozen=True)
class LoadBalancerRef:
    """One entry of ``services[].loadBalancers``."""

    target_group_arn: str
    container_name: str
    container_port: int


@dataclass(frozen=True)
class Service:
    arn: str
    name: str
    cluster_arn: str
    status: str
    desired: int
    running: int
    pending: int
    task_definition: str
    deployments: tuple[Deployment, ...]
    events: tuple[ServiceEvent, ...]
    """Newest first, as ECS returns them."""
    load_balancers: tuple[LoadBalancerRef, ...]
    grace_period: int | None
    circuit_breaker_enabled: bool
    circuit_breaker_rollback: bool
    minimum_healthy_percent: int | None
    maximum_percent: int | None
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: bool
    launch_type: str | None

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    def deployment(self, deployment_id: str) -> Deployment | None:
        return next((d for d in self.deployments if d.id == deployment_id), None)


@dataclass(frozen=True)
class Container:
    """One container definition."""

    name: str
    image: str
    essential: bool
    container_ports: tuple[int, ...]
    environment: tuple[tuple[str, str], ...]
    log_driver: str | None
    log_options: tuple[tuple[str, str], ...]

    def env(self, name: str) -> str | None:
        return dict(self.environment).get(name)

    def log_option(self, name: str) -> str | None:
        return dict(self.log_options).get(name)


@dataclass(frozen=True)
class TaskDefinition:
    arn: str
    family: str
    revision: int
    status: str
    containers: tuple[Container, ...]
    registered_at: datetime | None
    tags: Mapping[str, str]
    registration: Mapping[str, Any] = field(compare=False, repr=False)
    """The RegisterTaskDefinition input that recreates this revision (for copies and diffs)."""

    def container(self, name: str | None) -> Container:
        """The container called ``name``, or the only/first essential one when ``name`` is None."""
        if name is not None:
            for container in self.containers:
                if container.name == name:
                    return container
            raise KeyError(name)
        essential = [c for c in self.containers if c.essential] or list(self.containers)
        return essential[0]


@dataclass(frozen=True)
class TaskContainer:
    name: str
    image: str | None
    image_digest: str | None
    last_status: str | None
    exit_code: int | None
    reason: str | None


@dataclass(frozen=True)
class Task:
    arn: str
    id: str
    last_status: str
    desired_status: str
    started_by: str | None
    task_definition: str
    stop_code: str | None
    stopped_reason: str | None
    created_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None
    private_ip: str | None
    containers: tuple[TaskContainer, ...]


@dataclass(frozen=True)
class TargetHealth:
    """One target of a target group and its health, as DescribeTargetHealth reports it
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html)."""

    id: str
    """The target: a task's IP address for Fargate (target type ``ip``)."""
    port: int | None
    state: str
    """initial, healthy, unhealthy, unused, draining or unavailable."""
    reason: str | None
    """Why it is not healthy, e.g. ``Target.Timeout`` (None when healthy)."""
    description: str | None


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    port: int | None
    protocol: str | None
    target_type: str | None
    vpc_id: str | None
    health_check_enabled: bool
    health_check_path: str | None
    health_check_port: str | None
    health_check_interval: int | None
    health_check_timeout: int | None
    healthy_threshold: int | None
    unhealthy_threshold: int | None
    matcher: str | None
    load_balancer_arns: tuple[str, ...]


@dataclass(frozen=True)
class Listener:
    port: int
    protocol: str
    default_action: str | None = None
    """The type of the listener's first default action: forward, redirect, fixed-response..."""


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    security_groups: tuple[str, ...]
    listeners: tuple[Listener, ...]

    @property
    def dimension(self) -> str:
        """The CloudWatch ``LoadBalancer`` dimension value (``app/<name>/<id>``)."""
        return self.arn.split(":loadbalancer/", 1)[-1]


@dataclass(frozen=True)
class Image:
    repository: str
    registry_id: str
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime | None


@dataclass(frozen=True)
class LogEvent:
    timestamp: datetime
    stream: str
    message: str
    event_id: str


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str
    reason: str
    namespace: str | None
    metric: str | None
    dimensions: tuple[tuple[str, str], ...]
    updated_at: datetime | None


@dataclass(frozen=True)
class Rule:
    """One security-group rule: protocol ``-1`` means all traffic."""

    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]
    groups: tuple[str, ...]
    prefix_lists: tuple[str, ...]

    def covers(self, port: int) -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol not in ("tcp", "6") or self.from_port is None or self.to_port is None:
            return False
        return self.from_port <= port <= self.to_port


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    vpc_id: str | None
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]


@dataclass(frozen=True)
class SubnetRoute:
    """Where a subnet sends 0.0.0.0/0 (``nat-...``, ``igw-...``, other target, or nothing)."""

    subnet_id: str
    vpc_id: str
    default_route: str | None


# --- History: what changed (opsctl changes) ----------------------------------------------------


@dataclass(frozen=True)
class ServiceDeploymentRecord:
    """One service deployment (DescribeServiceDeployments): a change of the service's revision,
    kept by ECS after the service's own ``deployments`` list has forgotten it.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html"""

    arn: str
    status: str
    """PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED,
    ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED."""
    status_reason: str | None
    created_at: datetime | None
    finished_at: datetime | None
    target_revision: str
    """The service revision it rolls out (ARN)."""
    source_revisions: tuple[str, ...]
    """The service revisions that ran when it began (ARNs)."""
    rollback_reason: str | None = None
    rollback_started_at: datetime | None = None
    rollback_revision: str | None = None
    """The service revision it rolled back to (ARN)."""
    triggered_alarms: tuple[str, ...] = ()
    circuit_breaker_failures: int | None = None

    @property
    def deployment_id(self) -> str | None:
        """The ``ecs-svc/<number>`` id DescribeServices and UpdateService use for it: a service
        revision is numbered after the deployment that introduced it."""
        number = self.target_revision.rsplit("/", 1)[-1]
        return f"ecs-svc/{number}" if number.isdigit() else None


@dataclass(frozen=True)
class ServiceRevisionRecord:
    """One service revision (DescribeServiceRevisions): the task definition and images it ran."""

    arn: str
    task_definition: str
    images: tuple[tuple[str, str | None], ...]
    """(image as named, digest ECS resolved) per container."""


@dataclass(frozen=True)
class TrailEvent:
    """A CloudTrail management event (LookupEvents), with the parts opsctl reads."""

    id: str
    name: str
    at: datetime
    who: str | None
    """``userIdentity.arn``: an assumed role's session, an IAM user."""
    user_agent: str | None
    request: Mapping[str, Any] = field(default_factory=dict)
    response: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class AlarmStateChange:
    """A ``StateUpdate`` item of an alarm's history (DescribeAlarmHistory)."""

    alarm: str
    at: datetime
    old: str | None
    new: str | None
    reason: str


@dataclass(frozen=True)
class ObjectVersion:
    """A version of an S3 object (ListObjectVersions), or a delete marker."""

    key: str
    version_id: str
    at: datetime
    size: int | None
    latest: bool
    delete_marker: bool = False
