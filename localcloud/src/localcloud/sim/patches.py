"""Where the simulator hooks into moto (installed once, inert while no simulator is active).

* ECS RegisterTaskDefinition records ``registeredAt`` (moto leaves it out).
* ECS CreateService keeps ``deploymentConfiguration`` and ``healthCheckGracePeriodSeconds``
  (moto drops them) with AWS's defaults filled in, and hands the service to the simulator.
* ECS UpdateService stores the full task-definition ARN, merges a partial
  ``deploymentConfiguration`` into the current one, and lets the simulator start a new PRIMARY
  deployment (new revision, ``forceNewDeployment`` or new network configuration) before the
  response is written, so the caller sees its deployment id in the response as with AWS.
* ECS ListTasks honours ``serviceName`` and defaults ``desiredStatus`` to RUNNING, as AWS does
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html).
* ECS StopTask and DeleteService on a simulated service go through the scheduler.
* ELBv2 DescribeTargetHealth reports the simulator's health for the targets it registered.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend, Service, Task, TaskDefinition
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

from localcloud.sim.tasks import SimTask, utcnow

if TYPE_CHECKING:
    from localcloud.sim.engine import Simulator

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}

_lock = threading.Lock()
_active: Simulator | None = None
_installed = False


def active() -> Simulator | None:
    return _active


def activate(simulator: Simulator) -> None:
    global _active
    with _lock:
        if _active is not None and _active is not simulator:
            raise RuntimeError("another ECS simulator is already active in this process")
        _install()
        _active = simulator


def deactivate(simulator: Simulator) -> None:
    global _active
    with _lock:
        if _active is simulator:
            _active = None


def _merged_configuration(
    current: dict[str, Any] | None, update: dict[str, Any] | None
) -> dict[str, Any]:
    merged = copy.deepcopy(DEFAULT_DEPLOYMENT_CONFIGURATION)
    for source in (current or {}, update or {}):
        for key, value in source.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            elif value is not None:
                merged[key] = value
    return merged


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True

    original_register = EC2ContainerServiceBackend.register_task_definition

    def register_task_definition(
        self: EC2ContainerServiceBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> TaskDefinition:
        definition = original_register(self, *args, **kwargs)
        if _active is not None:
            definition.registered_at = utcnow()  # type: ignore[attr-defined]
        return definition

    EC2ContainerServiceBackend.register_task_definition = register_task_definition  # type: ignore[method-assign]

    original_create_response = EC2ContainerServiceResponse.create_service

    def create_service_response(self: EC2ContainerServiceResponse) -> ActionResult:
        result = original_create_response(self)
        if _active is not None:
            service = result.result["service"]  # type: ignore[index]
            service.deployment_configuration = _merged_configuration(
                None, self._get_param("deploymentConfiguration")
            )
            grace = self._get_param("healthCheckGracePeriodSeconds")
            service.health_check_grace_period_seconds = int(grace) if grace is not None else 0
        return result

    EC2ContainerServiceResponse.create_service = create_service_response  # type: ignore[method-assign]

    original_create = EC2ContainerServiceBackend.create_service

    def create_service(
        self: EC2ContainerServiceBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> Service:
        service = original_create(self, *args, **kwargs)
        if _active is not None:
            if service.task_definition is not None:
                service.task_definition = self.describe_task_definition(service.task_definition).arn
            _active.on_service_created(self, service)
        return service

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]

    original_update = EC2ContainerServiceBackend.update_service

    def update_service(
        self: EC2ContainerServiceBackend, service_properties: dict[str, Any]
    ) -> Service:
        simulator = _active
        if simulator is None:
            return original_update(self, service_properties)
        properties = dict(service_properties)
        before = self._get_service(
            properties.get("cluster", "default"), str(properties["service"]).split("/")[-1]
        )
        old_configuration = getattr(before, "deployment_configuration", None)
        old_network = copy.deepcopy(getattr(before, "network_configuration", None))
        old_task_definition = before.task_definition
        service = original_update(self, service_properties)
        if properties.get("task_definition"):
            service.task_definition = self.describe_task_definition(
                properties["task_definition"]
            ).arn
        service.deployment_configuration = _merged_configuration(  # type: ignore[attr-defined]
            old_configuration, properties.get("deployment_configuration")
        )
        new_deployment = bool(properties.get("force_new_deployment")) or (
            service.task_definition != old_task_definition
        )
        if (
            properties.get("network_configuration")
            and properties["network_configuration"] != old_network
        ):
            new_deployment = True
        simulator.on_service_updated(self, service, new_deployment=new_deployment)
        return service

    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]

    original_delete = EC2ContainerServiceBackend.delete_service

    def delete_service(
        self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool
    ) -> Service:
        service = original_delete(self, cluster_name, service_name, force)
        if _active is not None:
            _active.on_service_deleted(self, service)
        return service

    EC2ContainerServiceBackend.delete_service = delete_service  # type: ignore[method-assign]

    original_list_tasks = EC2ContainerServiceBackend.list_tasks

    def list_tasks(
        self: EC2ContainerServiceBackend,
        cluster_str: str | None = None,
        container_instance: str | None = None,
        family: str | None = None,
        started_by: str | None = None,
        service_name: str | None = None,
        desiredStatus: str | None = None,  # noqa: N803 - moto's parameter name
    ) -> list[Task]:
        if _active is None:
            return original_list_tasks(
                self,
                cluster_str,
                container_instance,
                family,
                started_by,
                service_name,
                desiredStatus,
            )
        tasks = original_list_tasks(
            self,
            cluster_str,
            container_instance,
            family,
            started_by,
            None,
            desiredStatus or "RUNNING",
        )
        if service_name:
            group = f"service:{service_name.split('/')[-1]}"
            tasks = [t for t in tasks if t.group == group]
        return tasks

    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]

    original_stop_task = EC2ContainerServiceBackend.stop_task

    def stop_task(
        self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str
    ) -> Task:
        simulator = _active
        if simulator is not None:
            task_id = task_str.split("/")[-1]
            for task in self.tasks.get(self._get_cluster(cluster_str).name, {}).values():
                if (
                    isinstance(task, SimTask)
                    and task.id == task_id
                    and simulator.on_task_stopped_by_user(task, reason)
                ):
                    return task
        return original_stop_task(self, cluster_str, task_str, reason)

    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]

    _patch_health(FakeTargetGroup.health_for)


def _patch_health(original: Callable[..., FakeHealthStatus]) -> None:
    def health_for(
        self: FakeTargetGroup,
        target: dict[str, Any],
        ec2_backend: Any,  # noqa: ANN401 - moto's own signature
    ) -> FakeHealthStatus:
        simulator = _active
        if simulator is not None:
            health = simulator.target_health(self.arn, str(target["Id"]))
            if health is not None:
                state, reason, description = health
                registered = self.targets.get(target["Id"]) or {}
                port = target.get("Port") or registered.get("Port") or self.port
                return FakeHealthStatus(
                    target["Id"], port, self.health_check_port, state, reason, description
                )
        return original(self, target, ec2_backend)

    FakeTargetGroup.health_for = health_for  # type: ignore[method-assign]
