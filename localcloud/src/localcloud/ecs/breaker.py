"""The deployment circuit breaker and ECS's launch back-off, on one deployment's counters.

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html:
a deployment counts its failed tasks; at the threshold, ``0.5 x desiredCount`` clamped to
3..200, it is FAILED and, when ``rollback`` is on, the service rolls back to the last deployment
that COMPLETED. A task that turns healthy resets the count (``resetOnHealthyTask``, default true).
Failures also back off further launches (10 s doubling, at most 300 s here), and after three in
a row ECS warns that it "is unable to consistently start tasks successfully".
"""

from __future__ import annotations

import math
import time
from typing import Any

from localcloud.ecs.model import Deployment, ServiceRecord, SimConfig, new_deployment_id
from localcloud.ecs.tasks import utcnow


def threshold(desired: int) -> int:
    """How many failed tasks trip the breaker (API_ServiceDeploymentCircuitBreaker.html)."""
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html
    return min(max(math.ceil(0.5 * desired), 3), 200)


def count_failure(
    svc: ServiceRecord, deployment: Deployment, now: float, config: SimConfig
) -> None:
    """A task of ``deployment`` failed to start or to turn healthy: back off, count it."""
    deployment.consecutive_launch_failures += 1
    backoff = min(
        config.launch_backoff_seconds * 2 ** (deployment.consecutive_launch_failures - 1),
        config.launch_backoff_max_seconds,
    )
    deployment.next_launch_at = now + backoff
    if deployment.rollout_state == "IN_PROGRESS":
        deployment.failed_tasks += 1
        deployment.updated_at = utcnow()
    if deployment.consecutive_launch_failures >= 3 and not deployment.warned_unstable:
        deployment.warned_unstable = True
        svc.event(
            "is unable to consistently start tasks successfully. For more information, see "
            "the Troubleshooting section of the Amazon ECS Developer Guide."
        )


def reset_failures(svc: ServiceRecord, deployment: Deployment) -> None:
    """A task of ``deployment`` turned healthy: no back-off, and (``resetOnHealthyTask``) no
    failed tasks counted against the breaker."""
    breaker = svc.deployment_configuration.get("deploymentCircuitBreaker") or {}
    if breaker.get("resetOnHealthyTask", True) and deployment.rollout_state == "IN_PROGRESS":
        deployment.failed_tasks = 0
    deployment.consecutive_launch_failures = 0
    deployment.next_launch_at = 0.0


def trip(
    svc: ServiceRecord,
    primary: Deployment,
    configuration: dict[str, Any],
    desired: int,
    transitions: list[tuple[float, str, str]],
) -> None:
    """Fail ``primary`` when the breaker is on and its failed tasks reached the threshold; then
    roll back to the last COMPLETED deployment when ``rollback`` is on (a new PRIMARY
    deployment of its task definition), or leave it stalled."""
    breaker = configuration.get("deploymentCircuitBreaker") or {}
    if not breaker.get("enable") or primary.failed_tasks < threshold(desired):
        return
    primary.rollout_state = "FAILED"
    primary.rollout_reason = "ECS deployment circuit breaker: tasks failed to start."
    primary.updated_at = utcnow()
    transitions.append((time.time(), primary.id, "FAILED"))
    svc.event(f"(deployment {primary.id}) deployment failed: tasks failed to start.")
    target = svc.last_completed
    if not breaker.get("rollback") or target is None:
        return
    svc.last_completed = None  # IN_PROGRESS again until the rollback completes
    primary.status = "ACTIVE"
    rollback = Deployment(
        id=new_deployment_id(),
        task_definition=target.task_definition,
        network_configuration=target.network_configuration,
        launch_type=target.launch_type,
        platform_version=target.platform_version,
        rollout_reason=f"ECS deployment circuit breaker: rolling back to deploymentId {target.id}.",
    )
    svc.deployments.insert(0, rollback)
    svc.service.task_definition = target.task_definition
    svc.event(f"rolling back to deployment {target.id}.")
