"""ECS: the service and task definition fields moto drops.

Gaps (docs/emulator.md, "ECS CreateService and RegisterTaskDefinition"):

* RegisterTaskDefinition does not record ``registeredAt`` (``opsctl revisions`` shows it).
* CreateService drops ``deploymentConfiguration`` (DescribeServices then shows none; AWS shows
  its defaults, :data:`DEFAULT_DEPLOYMENT_CONFIGURATION`), ``healthCheckGracePeriodSeconds``,
  ``enableECSManagedTags``, ``enableExecuteCommand`` and ``availabilityZoneRebalancing`` (a
  re-plan after apply shows a permanent diff). UpdateService keeps them.

What ECS does *by itself* (deployments, tasks, events) is not a fix here: that is the ECS
simulator's (:mod:`localcloud.ecs`), which hooks into moto only while it runs.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend, TaskDefinition
from moto.ecs.responses import EC2ContainerServiceResponse

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
"""What DescribeServices shows for a service created without a deployment configuration."""

_SERVICE_FIELDS_DROPPED_ON_CREATE = {
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "enableExecuteCommand": "enable_execute_command",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}


def merged_deployment_configuration(
    current: dict[str, Any] | None, update: dict[str, Any] | None
) -> dict[str, Any]:
    """AWS's defaults, overlaid with ``current``, then with the partial ``update``."""
    merged = copy.deepcopy(DEFAULT_DEPLOYMENT_CONFIGURATION)
    for source in (current or {}, update or {}):
        for key, value in source.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            elif value is not None:
                merged[key] = value
    return merged


def install() -> None:
    """Record ``registeredAt`` and keep CreateService's fields (call once)."""
    original_register = EC2ContainerServiceBackend.register_task_definition

    def register_task_definition(
        self: EC2ContainerServiceBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> TaskDefinition:
        definition = original_register(self, *args, **kwargs)
        definition.registered_at = datetime.now(UTC)  # type: ignore[attr-defined]
        return definition

    EC2ContainerServiceBackend.register_task_definition = register_task_definition  # type: ignore[method-assign]

    original_create = EC2ContainerServiceResponse.create_service

    def create_service(self: EC2ContainerServiceResponse) -> ActionResult:
        result = original_create(self)
        service = result.result["service"]  # type: ignore[index]
        service.deployment_configuration = merged_deployment_configuration(
            None, self._get_param("deploymentConfiguration")
        )
        for param, attribute in _SERVICE_FIELDS_DROPPED_ON_CREATE.items():
            value = self._get_param(param)
            if value is not None:
                setattr(service, attribute, value)
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
