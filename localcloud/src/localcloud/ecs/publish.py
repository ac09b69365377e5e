"""Writing the simulator's state back into moto's service, where DescribeServices reads it:
``deployments``, ``runningCount``/``pendingCount``, ``events`` and the PRIMARY deployment's task
definition (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html)."""

from __future__ import annotations

from typing import Any

from localcloud.ecs import history
from localcloud.ecs.model import STARTING, Phase, ServiceRecord


def publish(svc: ServiceRecord) -> None:
    """Make what the API shows for ``svc`` match the simulator's state (its service
    deployments' counts included)."""
    history.refresh(svc)
    tasks = list(svc.tasks.values())
    desired = svc.desired_count
    deployments: list[dict[str, Any]] = []
    for index, deployment in enumerate(svc.deployments):
        own = [t for t in tasks if t.deployment is deployment]
        deployments.append(
            {
                "id": deployment.id,
                "status": deployment.status,
                "taskDefinition": deployment.task_definition,
                "desiredCount": desired if index == 0 else 0,
                "pendingCount": sum(1 for t in own if t.phase in STARTING),
                "runningCount": sum(1 for t in own if t.phase == Phase.RUNNING),
                "failedTasks": deployment.failed_tasks,
                "createdAt": deployment.created_at,
                "updatedAt": deployment.updated_at,
                "launchType": deployment.launch_type,
                "platformVersion": deployment.platform_version or "1.4.0",
                "platformFamily": "Linux",
                "networkConfiguration": deployment.network_configuration,
                "rolloutState": deployment.rollout_state,
                "rolloutStateReason": deployment.rollout_reason,
            }
        )
    service = svc.service
    service.deployments = deployments
    service.running_count = sum(1 for t in tasks if t.phase == Phase.RUNNING)
    service.pending_count = sum(1 for t in tasks if t.phase in STARTING)
    service.events = list(svc.events)
    if svc.deployments:
        service.task_definition = svc.deployments[0].task_definition
