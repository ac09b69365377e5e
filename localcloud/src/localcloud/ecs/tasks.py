"""ECS task objects the simulator puts into moto's ECS backend.

They subclass moto's ``Task`` so ListTasks, DescribeTasks and StopTask serve them unchanged;
unlike moto's own tasks their ``lastStatus`` only moves when the simulator moves it (moto's
tasks advance one state per DescribeTasks call). moto serialises attributes by the API's
member names in snake_case, so ``stop_code`` becomes ``stopCode`` and so on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from moto.core.common_models import BaseModel
from moto.ecs.models import Cluster, EC2ContainerServiceBackend, Task, TaskDefinition


def utcnow() -> datetime:
    return datetime.now(UTC)


class SimContainer(BaseModel):
    """One container of a simulated task (``tasks[].containers[]`` in DescribeTasks)."""

    def __init__(self, task_arn: str, definition: dict[str, Any]) -> None:
        self.container_arn = f"{task_arn.replace(':task/', ':container/')}/{uuid.uuid4()}"
        self.task_arn = task_arn
        self.name = definition.get("name")
        self.image = definition.get("image")
        self.image_digest: str | None = None
        self.runtime_id: str | None = None
        self.last_status = "PENDING"
        self.exit_code: int | None = None
        self.reason: str | None = None
        self.health_status = "UNKNOWN"
        self.network_bindings: list[dict[str, Any]] = []
        self.network_interfaces: list[dict[str, Any]] = []
        self.cpu = str(definition.get("cpu", 0))
        self.memory = str(definition["memory"]) if definition.get("memory") else None
        self.memory_reservation = (
            str(definition["memoryReservation"]) if definition.get("memoryReservation") else None
        )


class SimTask(Task):
    """A task of a service, owned by the simulator."""

    def __init__(
        self,
        backend: EC2ContainerServiceBackend,
        cluster: Cluster,
        task_definition: TaskDefinition,
        *,
        service_name: str,
        deployment_id: str,
        launch_type: str,
        platform_version: str | None,
        network_configuration: dict[str, Any],
        private_ip: str,
        attachments: list[dict[str, Any]],
        availability_zone: str | None,
    ) -> None:
        # moto's Task.__init__ creates an ENI through a path that fails for Fargate tasks in a
        # VPC without DNS hostnames; the simulator creates the ENI itself and sets every
        # attribute moto's ECS backend reads.
        self._transitions = [("PROVISIONING", "PROVISIONING")]
        self._status: str | None = "PROVISIONING"
        self._tick = 0
        self._time_progressed = utcnow()
        self.model_name = "ecs::task"
        self.id = str(uuid.uuid4()).replace("-", "")
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.container_instance_arn: str | None = None
        self.desired_status = "RUNNING"
        self.task_definition_arn = task_definition.arn
        self.overrides: dict[str, Any] = {}
        self.started_by = deployment_id
        self.group = f"service:{service_name}"
        self.tags: list[dict[str, str]] = []
        self.launch_type = launch_type
        self.capacity_provider_name: str | None = None
        self.platform_version = platform_version or "1.4.0"
        self.platform_family = "Linux"
        self.stopped_reason = ""
        self.stop_code: str | None = None
        self.resource_requirements: dict[str, str] | None = None
        self.region_name = cluster.region_name
        self._account_id = backend.account_id
        self._backend = backend
        self.attachments = attachments
        self.network_configuration = network_configuration
        self.availability_zone = availability_zone
        self.connectivity = "CONNECTED"
        self.cpu = task_definition.cpu
        self.memory = task_definition.memory
        self.version = 1
        self.health_status = "UNKNOWN"
        self.created_at = utcnow()
        self.connectivity_at = self.created_at
        self.pull_started_at: datetime | None = None
        self.pull_stopped_at: datetime | None = None
        self.started_at: datetime | None = None
        self.stopping_at: datetime | None = None
        self.execution_stopped_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.private_ip = private_ip
        self.sim_containers = [
            SimContainer(self.task_arn, task_definition.container_definitions[0])
        ]
        # moto serialises ``containers``; the simulator's containers carry more of the API.
        self.containers = self.sim_containers  # type: ignore[assignment]

    @property
    def status(self) -> str | None:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    def advance(self) -> None:
        """moto advances its own tasks on each describe; the simulator moves these."""
