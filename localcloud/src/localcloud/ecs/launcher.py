"""Placing and launching tasks: what ECS and the Fargate agent do before a container runs.

:meth:`Launcher.place` creates the task (its elastic network interface in the service's first
subnet, the moto task object DescribeTasks serves). :meth:`Launcher.launch` then checks what AWS
checks when the task leaves PENDING (a network path to the registry, the image in ECR, the
awslogs log group) and asks the :class:`~localcloud.ecs.taskruntime.TaskRuntime` to start the
container. A pull that cannot succeed keeps the task PENDING while the agent retries, then stops
it with ``CannotPullContainerError``; a missing log group or a runtime's
:class:`~localcloud.ecs.taskruntime.LaunchError` stops it with ``TaskFailedToStart`` at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.ec2.models import ec2_backends

from localcloud.ecs import backends
from localcloud.ecs.breaker import count_failure
from localcloud.ecs.clock import SimClock
from localcloud.ecs.lifecycle import finish_stop, set_phase
from localcloud.ecs.model import Deployment, Phase, ServiceRecord, SimConfig, TaskRecord
from localcloud.ecs.taskruntime import (
    ContainerSpec,
    LaunchError,
    LogSink,
    NullLogSink,
    TaskRuntime,
    TaskSpec,
)
from localcloud.ecs.tasks import SimTask, utcnow

_PULL_RETRIED = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
"""How the Fargate agent words a pull it gave up on."""


class Launcher:
    """Creates tasks and starts their containers through ``runtime``."""

    def __init__(self, config: SimConfig, clock: SimClock, runtime: TaskRuntime) -> None:
        self.config = config
        self.clock = clock
        self.runtime = runtime

    def place(self, svc: ServiceRecord, deployment: Deployment, now: float) -> TaskRecord | None:
        """A new PROVISIONING task of ``deployment``; ``None`` when its task definition is gone."""
        backend = svc.backend
        try:
            definition = backend.describe_task_definition(deployment.task_definition)
        except Exception:
            return None
        cluster = backend._get_cluster(svc.cluster)
        network = (deployment.network_configuration or {}).get("awsvpcConfiguration") or {}
        subnets: list[str] = list(network.get("subnets") or [])
        groups: list[str] = list(network.get("securityGroups") or [])
        ec2 = ec2_backends[svc.account][svc.region]
        private_ip, attachments, zone = "10.0.0.1", [], None
        if subnets:
            subnet = ec2.get_subnet(subnets[0])
            zone = subnet.availability_zone
            eni = ec2.create_network_interface(
                subnet=subnets[0],
                private_ip_address=None,  # type: ignore[arg-type] # moto picks a free subnet address
                group_ids=groups,
                description="ECS task",
            )
            eni.status = "in-use"
            private_ip = str(eni.private_ip_address)
            attachments = [
                {
                    "id": str(uuid.uuid4()),
                    "type": "ElasticNetworkInterface",
                    "status": "ATTACHED",
                    "details": [
                        {"name": "subnetId", "value": subnets[0]},
                        {"name": "networkInterfaceId", "value": eni.id},
                        {"name": "macAddress", "value": eni.mac_address},
                        {"name": "privateIPv4Address", "value": private_ip},
                    ],
                }
            ]
        task = SimTask(
            backend,
            cluster,
            definition,
            service_name=svc.name,
            deployment_id=deployment.id,
            launch_type=deployment.launch_type,
            platform_version=deployment.platform_version,
            network_configuration=deployment.network_configuration or {},
            private_ip=private_ip,
            attachments=attachments,
            availability_zone=zone,
        )
        backend.tasks.setdefault(svc.cluster, {})[task.task_arn] = task
        container_port = None
        for balancer in svc.load_balancers:
            if balancer.get("containerPort"):
                container_port = int(balancer["containerPort"])
                break
        record = TaskRecord(task, deployment, Phase.PROVISIONING, now, container_port)
        svc.tasks[task.id] = record
        return record

    def launch(self, svc: ServiceRecord, task: TaskRecord, now: float) -> None:
        """PENDING is over: check the pull and the log group, then start the container."""
        definition = svc.backend.describe_task_definition(task.task.task_definition_arn)
        container_def: dict[str, Any] = definition.container_definitions[0]
        image = str(container_def.get("image", ""))
        digest: str | None = None
        tags: tuple[str, ...] = ()
        config = None
        network = (task.deployment.network_configuration or {}).get("awsvpcConfiguration") or {}
        task.task.pull_stopped_at = utcnow()
        problem = None
        if self.config.check_network and network.get("subnets"):
            path = backends.registry_path_problem(
                svc.account,
                svc.region,
                network.get("subnets") or [],
                network.get("securityGroups") or [],
                network.get("assignPublicIp") == "ENABLED",
            )
            if path is not None:
                problem = (
                    f"{_PULL_RETRIED}: failed to resolve ref {image}: "
                    f"dial tcp 52.94.1.1:443: i/o timeout ({path})"
                )
        reference = backends.parse_ecr_image(image)
        if problem is None and reference is not None:
            resolved = backends.resolve_ecr_image(reference)
            if resolved is None:
                problem = f"{_PULL_RETRIED}: failed to resolve ref {image}: {image}: not found"
            else:
                digest, tags = resolved.digest, resolved.tags
                config = backends.image_config(reference, resolved.digest)
        log_sink: LogSink = NullLogSink()
        log_config = container_def.get("logConfiguration") or {}
        if problem is None and log_config.get("logDriver") == "awslogs":
            options = log_config.get("options") or {}
            group = str(options.get("awslogs-group", ""))
            region = str(options.get("awslogs-region") or svc.region)
            create = str(options.get("awslogs-create-group", "false")).lower() == "true"
            if not backends.log_group_exists(svc.account, region, group) and not create:
                problem = (
                    "ResourceInitializationError: failed to validate logger args: create "
                    "stream has "
                    "been retried 1 times: failed to create Cloudwatch log stream: "
                    "ResourceNotFoundException: The specified log group does not exist. : "
                    "exit status 1"
                )
            else:
                prefix = str(options.get("awslogs-stream-prefix", ""))
                stream = (
                    f"{prefix}/{container_def.get('name')}/{task.task.id}"
                    if prefix
                    else task.task.id
                )
                log_sink = backends.MotoLogSink(svc.account, region, group, stream)
        for container in task.task.sim_containers:
            container.image_digest = digest
        if problem is not None and problem.startswith("CannotPullContainerError"):
            # The agent retries the pull before giving up: the task is stuck in PENDING.
            task.pull_error = problem
            task.pull_error_until = now + self.config.pull_retry_seconds
            return
        if problem is not None:
            self.failed_to_start(svc, task, problem, now)
            return
        environment = {
            str(item["name"]): str(item.get("value", ""))
            for item in container_def.get("environment") or []
        }
        spec = TaskSpec(
            task_arn=task.task.task_arn,
            task_id=task.task.id,
            cluster=svc.cluster,
            service=svc.name,
            task_definition_arn=task.task.task_definition_arn,
            container=ContainerSpec(
                name=str(container_def.get("name")),
                image=image,
                image_digest=digest,
                image_tags=tuple(tags),
                command=tuple(container_def.get("command") or ()),
                entry_point=tuple(container_def.get("entryPoint") or ()),
                environment=environment,
                container_ports=tuple(
                    int(m["containerPort"]) for m in container_def.get("portMappings") or []
                ),
                stop_timeout=float(container_def.get("stopTimeout") or 30),
                image_config=config,
            ),
            private_ip=task.task.private_ip,
            clock=self.clock,
            logs=log_sink,
        )
        task.stop_timeout = spec.container.stop_timeout
        try:
            task.process = self.runtime.launch(spec)
        except LaunchError as error:
            self.failed_to_start(svc, task, error.reason, now)
            return
        set_phase(task, Phase.ACTIVATING, now)

    def failed_to_start(
        self, svc: ServiceRecord, task: TaskRecord, reason: str, now: float
    ) -> None:
        """Stop ``task`` with ``TaskFailedToStart``; it counts against its deployment."""
        task.task.stop_code = "TaskFailedToStart"
        task.task.stopped_reason = reason
        task.task.desired_status = "STOPPED"
        for container in task.task.sim_containers:
            container.last_status = "STOPPED"
            container.reason = reason
        finish_stop(task, None, now)
        count_failure(svc, task.deployment, now, self.config)
