"""Stopping a deployment in progress with ECS's own rollback (StopServiceDeployment).

A rollback while a bad deployment still rolls out can go two ways: UpdateService to the good
revision (a new deployment replaces the bad one), or StopServiceDeployment with ``ROLLBACK``
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html):
ECS fails the deployment and returns to the last deployment that completed, as the circuit
breaker would, and marks it so in the service deployment's history. The second is what ECS
means by a rollback, and its rollback deployment is not judged by the deployment alarms that
may still be in ALARM because of the bad release; opsctl uses it when ECS would return to the
revision opsctl chose (the last known good), and UpdateService otherwise.

Where the role may not call the service deployment APIs, or the region does not offer them,
the plan says why and the caller falls back to UpdateService.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsctl.aws import Aws
from opsctl.errors import OpsctlError
from opsctl.model import Deployment, ServiceDeploymentRecord

IN_PROGRESS = ("PENDING", "IN_PROGRESS")


@dataclass(frozen=True)
class StopPlan:
    """Whether opsctl can stop ``deployment`` and have ECS return to the chosen revision."""

    service_deployment: ServiceDeploymentRecord | None
    returns_to: str | None
    """The task definition ECS's rollback would run (None when unknown)."""
    usable: bool
    why_not: str | None
    """Why UpdateService is used instead (None when ``usable``)."""


def plan(aws: Aws, cluster: str, service: str, deployment: Deployment, chosen: str) -> StopPlan:
    """Find the service deployment of ``deployment`` (the PRIMARY one, in progress) and the
    revision its rollback would return to; usable when that is ``chosen``."""
    try:
        found = aws.service_deployments(cluster, service, statuses=IN_PROGRESS)
    except OpsctlError as error:
        return StopPlan(
            None,
            None,
            False,
            f"could not read the service's deployments ({error.message}); "
            "rolled back with UpdateService instead",
        )
    ours = next((d for d in found if d.deployment_id == deployment.id), None)
    if ours is None:
        return StopPlan(
            None,
            None,
            False,
            f"ECS lists no service deployment in progress for {deployment.id}; "
            "rolled back with UpdateService instead",
        )
    try:
        sources = {r.arn: r.task_definition for r in aws.service_revisions(ours.source_revisions)}
    except OpsctlError as error:
        return StopPlan(
            ours,
            None,
            False,
            f"could not read the revisions {ours.arn} started from ({error.message}); "
            "rolled back with UpdateService instead",
        )
    targets = set(sources.values())
    returns_to = next(iter(targets)) if len(targets) == 1 else None
    if returns_to != chosen:
        started = ", ".join(sorted(t.rsplit("/", 1)[-1] for t in targets)) or "nothing"
        return StopPlan(
            ours,
            returns_to,
            False,
            f"ECS's rollback of {deployment.id} would return to what it started from "
            f"({started}), not to {chosen.rsplit('/', 1)[-1]}: rolled back with UpdateService",
        )
    return StopPlan(ours, returns_to, True, None)
