"""A failed deployment, and the rollback ECS starts for it.

Three things fail an in-progress deployment, and all three end the same way
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html):
the deployment circuit breaker, a deployment alarm in ALARM, and StopServiceDeployment with
``stopType=ROLLBACK``. The PRIMARY deployment turns FAILED; when a rollback is asked for and a
deployment COMPLETED before, a new PRIMARY deployment of that one's task definition starts
("rolling back to deploymentId ..."), and the service deployment moves to ROLLBACK_IN_PROGRESS
(ROLLBACK_SUCCESSFUL once the rollback completes); without one it is STOPPED, or
ROLLBACK_FAILED when what failed was itself a rollback.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from localcloud.ecs import history
from localcloud.ecs.model import Deployment, ServiceRecord, new_deployment_id
from localcloud.ecs.servicedeployments import Status
from localcloud.ecs.tasks import utcnow


@dataclass(frozen=True)
class Cause:
    """Why a deployment failed, in the words DescribeServices, the events and
    DescribeServiceDeployments use."""

    monitor: str
    """``breaker``, ``alarms`` or ``user``."""
    rollout_reason: str
    """``rolloutStateReason`` of the failed deployment."""
    event: str
    """The service event, after ``(deployment <id>) deployment failed: ``."""
    rollback_reason: str
    """``rolloutStateReason`` of the rollback deployment; ``{target}`` is the deployment id it
    returns to."""
    triggered: tuple[str, ...] = ()
    """The alarms in ALARM, for a failure the alarms detected."""


CIRCUIT_BREAKER = Cause(
    monitor="breaker",
    rollout_reason="ECS deployment circuit breaker: tasks failed to start.",
    event="tasks failed to start.",
    rollback_reason="ECS deployment circuit breaker: rolling back to deploymentId {target}.",
)

STOPPED_BY_USER = Cause(
    monitor="user",
    rollout_reason="ECS deployment stopped: a rollback was requested (StopServiceDeployment).",
    event="rollback requested.",
    rollback_reason="ECS deployment rollback requested: rolling back to deploymentId {target}.",
)


def alarms(names: tuple[str, ...]) -> Cause:
    """The deployment alarms ``names`` were in ALARM."""
    listed = ", ".join(names)
    return Cause(
        monitor="alarms",
        rollout_reason=f"ECS deployment alarms: alarm(s) in ALARM state: {listed}.",
        event=f"alarm(s) {listed} in ALARM state.",
        rollback_reason="ECS deployment alarms: rolling back to deploymentId {target}.",
        triggered=names,
    )


def fail(
    svc: ServiceRecord,
    primary: Deployment,
    cause: Cause,
    *,
    roll_back: bool,
    transitions: list[tuple[float, str, str]],
) -> Deployment | None:
    """Fail ``primary`` for ``cause``; roll back to the last COMPLETED deployment when
    ``roll_back`` and there is one. Returns the rollback deployment, if any."""
    primary.rollout_state = "FAILED"
    primary.rollout_reason = cause.rollout_reason
    primary.updated_at = utcnow()
    primary.bake_until = None
    transitions.append((time.time(), primary.id, "FAILED"))
    svc.event(f"(deployment {primary.id}) deployment failed: {cause.event}")
    record = primary.service_deployment
    if record is not None and cause.monitor != "user":
        history.mark_monitor(record, cause.monitor, cause.triggered)
    target = svc.last_completed
    is_rollback = not history.owns_target(primary)
    if not roll_back or target is None:
        if record is not None and not record.finished:
            record.move(
                Status.ROLLBACK_FAILED if is_rollback else Status.STOPPED, cause.rollout_reason
            )
        return None
    svc.last_completed = None  # IN_PROGRESS again until the rollback completes
    primary.status = "ACTIVE"
    rollback = Deployment(
        id=new_deployment_id(),
        task_definition=target.task_definition,
        network_configuration=target.network_configuration,
        launch_type=target.launch_type,
        platform_version=target.platform_version,
        rollout_reason=cause.rollback_reason.format(target=target.id),
    )
    rollback.service_deployment = record
    rollback.is_rollback = True
    svc.deployments.insert(0, rollback)
    svc.service.task_definition = target.task_definition
    svc.event(f"rolling back to deployment {target.id}.")
    if record is not None and not record.finished:
        revision = history.revision_of(svc, rollback)
        record.rollback = {
            "reason": cause.rollout_reason,
            "startedAt": utcnow(),
            "serviceRevisionArn": revision.arn,
        }
        record.move(Status.ROLLBACK_IN_PROGRESS, cause.rollout_reason)
    return rollback
