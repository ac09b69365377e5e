"""The ECS simulator's hooks into moto: how API calls reach the simulator.

moto's ECS is static: UpdateService only swaps the task definition, no deployment, task or
event ever changes by itself, ListTasks ignores ``serviceName``, and ELBv2 reports every target
healthy (docs/emulator.md, "What the ECS simulator adds"). While a simulator is active
(:func:`activate`; one per process, because moto's state is global), these wrappers hand it the
calls it must see; with none active they do exactly what moto does.

* CreateService hands the new service to the simulator (with its task definition as a full
  ARN, as AWS stores it).
* UpdateService stores the full task-definition ARN, merges a partial
  ``deploymentConfiguration`` into the current one and lets the simulator start a new PRIMARY
  deployment (new revision, ``forceNewDeployment`` or a new network configuration) before the
  response is written, so the caller sees its deployment id in the response, as with AWS.
* DeleteService and StopTask go through the simulator's scheduler.
* ListTasks honours ``serviceName`` and defaults ``desiredStatus`` to RUNNING, as AWS does
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html); without a
  simulator moto's own tasks keep moto's behaviour.
* ELBv2 DescribeTargetHealth reports the simulator's health for the targets it registered.
* ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment and
  DescribeServiceRevisions, which moto does not implement, answer from the simulator's service
  deployments (:mod:`localcloud.ecs.api`).

The fixes that model AWS whether or not a simulator runs are :mod:`localcloud.moto_fixes`; no
moto method is wrapped by both.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any, Protocol

from moto.ecs.models import EC2ContainerServiceBackend, Service, Task
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

from localcloud import moto_fixes
from localcloud.ecs import api
from localcloud.ecs.tasks import SimTask
from localcloud.moto_fixes.ecs import merged_deployment_configuration


class SimulatorHooks(api.Deployments, Protocol):
    """What the ECS simulator is told by the hooked moto calls (request threads), and what the
    service deployment calls ask it (:class:`localcloud.ecs.api.Deployments`)."""

    def on_service_created(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        """A service was created (its deployment configuration is read lazily)."""

    def on_service_updated(
        self, backend: EC2ContainerServiceBackend, service: Service, *, new_deployment: bool
    ) -> None:
        """UpdateService ran; ``new_deployment``: ECS would start a new PRIMARY deployment."""

    def on_service_deleted(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        """DeleteService ran."""

    def on_task_stopped_by_user(self, task: SimTask, reason: str) -> bool:
        """StopTask on a simulated task; ``False`` lets moto handle it."""

    def target_health(
        self, group_arn: str, target_id: str
    ) -> tuple[str, str | None, str | None] | None:
        """``(state, reason, description)`` of a target the simulator registered; ``None``
        for any other target (moto answers for it)."""


_lock = threading.Lock()
_installed = False
_active: SimulatorHooks | None = None


def install() -> None:
    """Install the hooks (inert until :func:`activate`) and :mod:`localcloud.moto_fixes`;
    idempotent."""
    global _installed
    moto_fixes.install()
    with _lock:
        if _installed:
            return
        _hook_create_service()
        _hook_update_service()
        _hook_delete_service()
        _hook_list_tasks()
        _hook_stop_task()
        _hook_target_health(FakeTargetGroup.health_for)
        api.install(active)
        _installed = True


def activate(simulator: SimulatorHooks) -> None:
    """Route the hooks to ``simulator`` (one per process: moto's state is global)."""
    global _active
    install()
    with _lock:
        if _active is not None and _active is not simulator:
            raise RuntimeError("another ECS simulator is already active in this process")
        _active = simulator


def deactivate(simulator: SimulatorHooks) -> None:
    """Stop routing hooks to ``simulator`` (moto behaves as without it again)."""
    global _active
    with _lock:
        if _active is simulator:
            _active = None


def active() -> SimulatorHooks | None:
    """The simulator the hooks call, if any."""
    return _active


def _hook_create_service() -> None:
    original = EC2ContainerServiceBackend.create_service

    def create_service(
        self: EC2ContainerServiceBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> Service:
        service = original(self, *args, **kwargs)
        simulator = _active
        if simulator is not None:
            if service.task_definition is not None:
                service.task_definition = self.describe_task_definition(service.task_definition).arn
            simulator.on_service_created(self, service)
        return service

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]


def _hook_update_service() -> None:
    original = EC2ContainerServiceBackend.update_service

    def update_service(
        self: EC2ContainerServiceBackend, service_properties: dict[str, Any]
    ) -> Service:
        simulator = _active
        if simulator is None:
            return original(self, service_properties)
        properties = dict(service_properties)
        before = self._get_service(
            properties.get("cluster", "default"), str(properties["service"]).split("/")[-1]
        )
        old_configuration = getattr(before, "deployment_configuration", None)
        old_network = copy.deepcopy(getattr(before, "network_configuration", None))
        old_task_definition = before.task_definition
        service = original(self, service_properties)
        if properties.get("task_definition"):
            service.task_definition = self.describe_task_definition(
                properties["task_definition"]
            ).arn
        service.deployment_configuration = merged_deployment_configuration(  # type: ignore[attr-defined]
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


def _hook_delete_service() -> None:
    original = EC2ContainerServiceBackend.delete_service

    def delete_service(
        self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool
    ) -> Service:
        service = original(self, cluster_name, service_name, force)
        simulator = _active
        if simulator is not None:
            simulator.on_service_deleted(self, service)
        return service

    EC2ContainerServiceBackend.delete_service = delete_service  # type: ignore[method-assign]


def _hook_list_tasks() -> None:
    original = EC2ContainerServiceBackend.list_tasks

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
            return original(
                self,
                cluster_str,
                container_instance,
                family,
                started_by,
                service_name,
                desiredStatus,
            )
        tasks = original(
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


def _hook_stop_task() -> None:
    original = EC2ContainerServiceBackend.stop_task

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
        return original(self, cluster_str, task_str, reason)

    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]


def _hook_target_health(original: Callable[..., FakeHealthStatus]) -> None:
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
