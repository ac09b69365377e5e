"""The simulator's state: its settings, and what it knows of each service, deployment, task and
target between scheduler passes (the part moto has no place for).

Only :class:`ServiceRecord` and :class:`TaskRecord` point into moto: the service they simulate
(whose desired count and deployment configuration are read at every pass, so an UpdateService
takes effect at once) and the task object moto serves through DescribeTasks. Everything else is
plain data, which the scheduler and health checker change and :mod:`localcloud.ecs.publish`
writes back to moto.
"""

from __future__ import annotations

import secrets
import uuid
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, Service

from localcloud.ecs.servicedeployments import ServiceDeployment, ServiceRevision
from localcloud.ecs.taskruntime import ExitStatus, TaskProcess
from localcloud.ecs.tasks import SimTask, utcnow


@dataclass(frozen=True)
class SimConfig:
    """Timings (simulated seconds unless noted) and switches of the simulator."""

    time_scale: float = 1.0
    """Real seconds per simulated second (0.01 runs a 30 s health-check interval in 0.3 s)."""
    tick: float = 0.05
    """Real seconds between scheduler passes."""
    provisioning_seconds: float = 3.0
    pull_seconds: float = 5.0
    pull_retry_seconds: float = 30.0
    """How long a task whose image cannot be pulled stays PENDING while the agent retries
    ("pull image manifest has been retried 5 time(s)") before it stops."""
    activating_seconds: float = 2.0
    registration_seconds: float = 2.0
    """How long a new target shows ``Elb.RegistrationInProgress`` before its first check."""
    launch_backoff_seconds: float = 10.0
    launch_backoff_max_seconds: float = 300.0
    stopped_task_retention_seconds: float = 3600.0
    evaluate_alarms: bool = True
    """Evaluate CloudWatch metric alarms as CloudWatch does (:mod:`localcloud.cloudwatch`);
    settable later through :attr:`Simulator.evaluating_alarms`."""
    alarm_evaluation_seconds: float = 60.0
    """How often CloudWatch evaluates a metric alarm whose period is a minute or more (one
    with a shorter period is evaluated once per period)."""
    check_network: bool = True
    """Fail image pulls (CannotPullContainerError) when the task's subnets and security groups
    give no path to ECR, and health checks (Target.Timeout) when the task's security groups do
    not admit the load balancer."""
    max_events: int = 100


class Phase:
    """A task's ``lastStatus`` (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html)."""

    PROVISIONING = "PROVISIONING"
    PENDING = "PENDING"
    ACTIVATING = "ACTIVATING"
    RUNNING = "RUNNING"
    DEACTIVATING = "DEACTIVATING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"


STARTING = (Phase.PROVISIONING, Phase.PENDING, Phase.ACTIVATING)
"""The phases ECS counts as ``pendingCount``."""


@dataclass(frozen=True)
class Probe:
    """The outcome of one health check."""

    ok: bool
    reason: str | None = None
    description: str | None = None


@dataclass
class Target:
    """One registration of a task in a target group, with the ALB's view of its health."""

    group_arn: str
    ip: str
    port: int
    task_id: str
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = "Target registration is in progress"
    next_check: float = 0.0
    ok_streak: int = 0
    fail_streak: int = 0
    drain_until: float | None = None
    probe: Future[Probe] | None = None


def new_deployment_id() -> str:
    """A fresh id in ECS's form, ``ecs-svc/<19 digits>``."""
    return f"ecs-svc/{10**18 + secrets.randbelow(9 * 10**18)}"


@dataclass
class Deployment:
    """One entry of the service's ``deployments``."""

    id: str
    task_definition: str
    network_configuration: dict[str, Any] | None
    launch_type: str
    platform_version: str | None
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_reason: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    failed_tasks: int = 0
    consecutive_launch_failures: int = 0
    next_launch_at: float = 0.0
    warned_unstable: bool = False
    revision: ServiceRevision | None = None
    """The service revision this deployment runs (DescribeServiceRevisions)."""
    service_deployment: ServiceDeployment | None = None
    """The service deployment it belongs to: the one it deploys, or, for a rollback, the one
    that failed and is being rolled back."""
    is_rollback: bool = False
    """Started by a rollback (the circuit breaker's, the alarms', or StopServiceDeployment's)."""
    bake_until: float | None = None
    """While the deployment alarms' bake time runs: when it ends (simulated seconds)."""

    def __post_init__(self) -> None:
        if not self.rollout_reason:
            self.rollout_reason = f"ECS deployment {self.id} in progress."

    @classmethod
    def of(cls, service: Service) -> Deployment:
        """A new deployment of what ``service`` names now (task definition, network)."""
        return cls(
            id=new_deployment_id(),
            task_definition=str(service.task_definition),
            network_configuration=getattr(service, "network_configuration", None) or None,
            launch_type=str(service.launch_type or "FARGATE"),
            platform_version=getattr(service, "platform_version", None),
        )


@dataclass
class TaskRecord:
    """A task of a service: its moto object, its phase and process, its targets."""

    task: SimTask
    deployment: Deployment
    phase: str
    since: float
    container_port: int | None
    process: TaskProcess | None = None
    started: float | None = None
    ever_healthy: bool = False
    targets: list[Target] = field(default_factory=list)
    stop_future: Future[ExitStatus] | None = None
    stopped_since: float | None = None
    stop_timeout: float = 30.0
    """The container's stopTimeout (simulated seconds between SIGTERM and SIGKILL)."""
    stop_decided: bool = False
    """ECS decided to stop the task (:meth:`~localcloud.ecs.lifecycle.Lifecycle.stop_task`):
    however its container ends from then on, the task keeps ECS's ``stopCode`` and reason."""
    pull_error: str | None = None
    """Why the image cannot be pulled; the task stops with it once the retries are over."""
    pull_error_until: float = 0.0

    @property
    def active(self) -> bool:
        """Starting or running: what counts against desiredCount and maximumPercent."""
        return self.phase in (*STARTING, Phase.RUNNING)

    @property
    def healthy(self) -> bool:
        """RUNNING with every target healthy (what counts toward minimumHealthyPercent)."""
        return self.phase == Phase.RUNNING and all(t.state == "healthy" for t in self.targets)


@dataclass
class ServiceRecord:
    """A simulated service: the moto service it drives and the state ECS keeps for it."""

    account: str
    region: str
    backend: EC2ContainerServiceBackend
    service: Service
    deployments: list[Deployment] = field(default_factory=list)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))
    last_completed: Deployment | None = None
    capacity_shortage: bool = False
    service_deployments: list[ServiceDeployment] = field(default_factory=list)
    """Newest first, until the service is deleted."""
    revisions: dict[str, ServiceRevision] = field(default_factory=dict)
    """Every service revision of the service, by ARN."""

    @property
    def name(self) -> str:
        return str(self.service.name)

    @property
    def cluster(self) -> str:
        return str(self.service.cluster_name)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.cluster, self.name)

    # What the service says now (UpdateService changes it between passes).

    @property
    def desired_count(self) -> int:
        return int(self.service.desired_count or 0)

    @property
    def deployment_configuration(self) -> dict[str, Any]:
        return getattr(self.service, "deployment_configuration", None) or {}

    @property
    def grace_period(self) -> float:
        """healthCheckGracePeriodSeconds (simulated seconds)."""
        return float(getattr(self.service, "health_check_grace_period_seconds", None) or 0)

    @property
    def load_balancers(self) -> list[dict[str, Any]]:
        return list(self.service.load_balancers or [])

    def event(self, message: str) -> None:
        """Add a service event (newest first), prefixed ``(service <name>)`` as ECS does."""
        self.events.appendleft(
            {
                "id": str(uuid.uuid4()),
                "createdAt": utcnow(),
                "message": f"(service {self.name}) {message}",
            }
        )
