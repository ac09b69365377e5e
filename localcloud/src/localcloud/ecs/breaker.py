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

from localcloud.ecs.model import Deployment, ServiceRecord, SimConfig
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


def tripped(svc: ServiceRecord, primary: Deployment, desired: int) -> bool:
    """Whether the breaker is on and ``primary``'s failed tasks reached the threshold; the
    scheduler then fails it (:func:`localcloud.ecs.failure.fail`), rolling back when the
    breaker's ``rollback`` is on."""
    breaker = svc.deployment_configuration.get("deploymentCircuitBreaker") or {}
    return bool(breaker.get("enable")) and primary.failed_tasks >= threshold(desired)


def rolls_back(svc: ServiceRecord) -> bool:
    """Whether the breaker's ``rollback`` is on."""
    breaker = svc.deployment_configuration.get("deploymentCircuitBreaker") or {}
    return bool(breaker.get("rollback"))
