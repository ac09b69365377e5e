"""ECS service deployments and service revisions: the history ECS keeps of each rollout.

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html: every
deployment of a service (CreateService, an UpdateService that needs one, ``forceNewDeployment``)
is a *service deployment* with its own ARN, moving PENDING -> IN_PROGRESS -> SUCCESSFUL, or
STOPPED (a newer deployment, or a failure with no rollback), or ROLLBACK_REQUESTED ->
ROLLBACK_IN_PROGRESS -> ROLLBACK_SUCCESSFUL / ROLLBACK_FAILED. It deploys a *target service
revision* (task definition, launch type, network, load balancers, images) over the *source
revisions* that ran when it began. Revisions are immutable
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-revision.html).

This module is the data and its API shapes (botocore's ``ServiceDeployment``,
``ServiceDeploymentBrief`` and ``ServiceRevision``); the scheduler and the circuit breaker move
the statuses, :mod:`localcloud.ecs.api` serves them.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localcloud.ecs.tasks import utcnow


class Status:
    """``ServiceDeploymentStatus``."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESSFUL = "SUCCESSFUL"
    STOPPED = "STOPPED"
    STOP_REQUESTED = "STOP_REQUESTED"
    ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"


ALL_STATUSES = frozenset(v for k, v in vars(Status).items() if k.isupper())
STOPPABLE = frozenset({Status.PENDING, Status.IN_PROGRESS})
"""What StopServiceDeployment turns into ROLLBACK_REQUESTED
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html)."""
STOPPING = frozenset(
    {Status.STOP_REQUESTED, Status.ROLLBACK_REQUESTED, Status.ROLLBACK_IN_PROGRESS}
)
"""Already stopping: StopServiceDeployment lets the stop or rollback continue."""
FINISHED = frozenset(
    {Status.SUCCESSFUL, Status.STOPPED, Status.ROLLBACK_SUCCESSFUL, Status.ROLLBACK_FAILED}
)


class Monitor:
    """``ServiceDeploymentRollbackMonitorsStatus`` (circuit breaker and alarms)."""

    DISABLED = "DISABLED"
    MONITORING = "MONITORING"
    TRIGGERED = "TRIGGERED"
    MONITORING_COMPLETE = "MONITORING_COMPLETE"


def _short_id() -> str:
    """22 URL-safe characters, the form of the last part of a service deployment ARN."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def _arn(region: str, account: str, kind: str, cluster: str, service: str, key: str) -> str:
    return f"arn:aws:ecs:{region}:{account}:{kind}/{cluster}/{service}/{key}"


@dataclass(frozen=True)
class ServiceRevision:
    """One immutable configuration of a service, as DescribeServiceRevisions shows it.

    Its number is the one of the ``ecs-svc/<number>`` deployment that runs it in
    DescribeServices, so the two views can be joined.
    """

    arn: str
    service_arn: str
    cluster_arn: str
    task_definition: str
    launch_type: str
    platform_version: str | None
    load_balancers: tuple[dict[str, Any], ...]
    network_configuration: dict[str, Any] | None
    container_images: tuple[dict[str, str], ...]
    created_at: datetime

    @classmethod
    def new(
        cls,
        *,
        account: str,
        region: str,
        cluster: str,
        service: str,
        deployment_id: str,
        task_definition: str,
        launch_type: str,
        platform_version: str | None,
        load_balancers: list[dict[str, Any]],
        network_configuration: dict[str, Any] | None,
        container_images: list[dict[str, str]],
    ) -> ServiceRevision:
        number = deployment_id.rsplit("/", 1)[-1]
        return cls(
            arn=_arn(region, account, "service-revision", cluster, service, number),
            service_arn=f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}",
            cluster_arn=f"arn:aws:ecs:{region}:{account}:cluster/{cluster}",
            task_definition=task_definition,
            launch_type=launch_type,
            platform_version=platform_version,
            load_balancers=tuple(dict(b) for b in load_balancers),
            network_configuration=network_configuration,
            container_images=tuple(container_images),
            created_at=utcnow(),
        )

    def to_api(self) -> dict[str, Any]:
        """``ServiceRevision``."""
        revision: dict[str, Any] = {
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "taskDefinition": self.task_definition,
            "launchType": self.launch_type,
            "platformFamily": "Linux",
            "loadBalancers": [dict(b) for b in self.load_balancers],
            "containerImages": [dict(i) for i in self.container_images],
            "guardDutyEnabled": False,
            "createdAt": self.created_at,
        }
        if self.launch_type == "FARGATE":
            revision["platformVersion"] = self.platform_version or "1.4.0"
        if self.network_configuration:
            revision["networkConfiguration"] = self.network_configuration
        return revision


@dataclass
class RevisionCounts:
    """A revision's task counts inside one service deployment (``ServiceRevisionSummary``)."""

    revision: ServiceRevision
    requested: int = 0
    running: int = 0
    pending: int = 0

    def to_api(self) -> dict[str, Any]:
        return {
            "arn": self.revision.arn,
            "requestedTaskCount": self.requested,
            "runningTaskCount": self.running,
            "pendingTaskCount": self.pending,
        }


@dataclass
class ServiceDeployment:
    """One service deployment: its status, its revisions and what watched it."""

    arn: str
    service_arn: str
    cluster_arn: str
    target: RevisionCounts
    sources: list[RevisionCounts]
    configuration: dict[str, Any]
    """The service's deployment configuration when the deployment began."""
    status: str = Status.PENDING
    status_reason: str | None = None
    lifecycle_stage: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stopped_at: datetime | None = None
    updated_at: datetime = field(default_factory=utcnow)
    rollback: dict[str, Any] | None = None
    breaker_status: str = Monitor.DISABLED
    breaker_failures: int = 0
    breaker_threshold: int = 0
    alarm_status: str = Monitor.DISABLED
    alarm_names: tuple[str, ...] = ()
    triggered_alarms: tuple[str, ...] = ()

    @classmethod
    def new(
        cls,
        *,
        account: str,
        region: str,
        cluster: str,
        service: str,
        target: ServiceRevision,
        sources: list[ServiceRevision],
        configuration: dict[str, Any],
    ) -> ServiceDeployment:
        breaker = configuration.get("deploymentCircuitBreaker") or {}
        alarms = configuration.get("alarms") or {}
        alarm_names = tuple(str(n) for n in alarms.get("alarmNames") or ())
        return cls(
            arn=_arn(region, account, "service-deployment", cluster, service, _short_id()),
            service_arn=target.service_arn,
            cluster_arn=target.cluster_arn,
            target=RevisionCounts(target),
            sources=[RevisionCounts(s) for s in sources],
            configuration=configuration,
            breaker_status=Monitor.MONITORING if breaker.get("enable") else Monitor.DISABLED,
            alarm_status=(
                Monitor.MONITORING if alarms.get("enable") and alarm_names else Monitor.DISABLED
            ),
            alarm_names=alarm_names,
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def move(self, status: str, reason: str | None = None) -> None:
        """Set ``status`` (and its reason), stamping the times AWS stamps for it."""
        now = utcnow()
        self.status = status
        if reason is not None:
            self.status_reason = reason
        self.updated_at = now
        if status == Status.IN_PROGRESS and self.started_at is None:
            self.started_at = now
        if status in FINISHED:
            self.finished_at = self.finished_at or now
            for monitor in ("breaker_status", "alarm_status"):
                if getattr(self, monitor) == Monitor.MONITORING:
                    setattr(self, monitor, Monitor.MONITORING_COMPLETE)
        if status == Status.STOPPED:
            self.stopped_at = self.stopped_at or now

    def to_brief(self) -> dict[str, Any]:
        """``ServiceDeploymentBrief`` (ListServiceDeployments)."""
        brief: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "targetServiceRevisionArn": self.target.revision.arn,
            "status": self.status,
        }
        for key, value in (
            ("startedAt", self.started_at),
            ("finishedAt", self.finished_at),
            ("statusReason", self.status_reason),
        ):
            if value is not None:
                brief[key] = value
        return brief

    def to_api(self) -> dict[str, Any]:
        """``ServiceDeployment`` (DescribeServiceDeployments)."""
        deployment: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "sourceServiceRevisions": [s.to_api() for s in self.sources],
            "targetServiceRevision": self.target.to_api(),
            "status": self.status,
            "deploymentConfiguration": self.configuration,
            "deploymentCircuitBreaker": {
                "status": self.breaker_status,
                "failureCount": self.breaker_failures,
                "threshold": self.breaker_threshold,
            },
            "alarms": {
                "status": self.alarm_status,
                "alarmNames": list(self.alarm_names),
                "triggeredAlarmNames": list(self.triggered_alarms),
            },
        }
        for key, value in (
            ("startedAt", self.started_at),
            ("finishedAt", self.finished_at),
            ("stoppedAt", self.stopped_at),
            ("statusReason", self.status_reason),
            ("lifecycleStage", self.lifecycle_stage),
            ("rollback", self.rollback),
        ):
            if value is not None:
                deployment[key] = value
        return deployment
