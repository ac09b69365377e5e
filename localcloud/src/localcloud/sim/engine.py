"""The ECS service scheduler and ALB health checker, simulated on the AWS side of the wire.

One scheduler pass (every ``SimConfig.tick`` real seconds) does for each service what ECS and
the ALB do (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html):

* moves tasks PROVISIONING -> PENDING -> ACTIVATING -> RUNNING, checking first what AWS checks
  (a network path to the registry, the image in ECR, the awslogs group), then asks the runtime
  to launch the container;
* registers RUNNING tasks in the service's target groups and health-checks them over HTTP with
  the target group's path, port, interval, timeout, matcher and thresholds; reason codes follow
  the ELB API (``Elb.RegistrationInProgress``, ``Elb.InitialHealthChecking``,
  ``Target.ResponseCodeMismatch``, ``Target.Timeout``, ``Target.FailedHealthChecks``,
  ``Target.DeregistrationInProgress``);
* stops tasks whose targets are unhealthy once the health-check grace period has passed,
  draining their targets for the target group's deregistration delay first;
* runs rolling deployments within ``minimumHealthyPercent``/``maximumPercent``, marks them
  COMPLETED, and applies the deployment circuit breaker: threshold ``0.5 x desiredCount``
  clamped to 3..200 consecutive failed tasks, rollback to the last COMPLETED deployment when
  enabled, a stalled FAILED deployment otherwise;
* writes what the API shows: ``deployments``, ``runningCount``/``pendingCount``, service
  ``events`` (newest first), task ``stopCode``/``stoppedReason``/exit codes.
"""

from __future__ import annotations

import http.client
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.ec2.models import ec2_backends
from moto.ecs.models import EC2ContainerServiceBackend, Service, ecs_backends
from moto.elbv2.models import FakeTargetGroup

from localcloud import patches
from localcloud.oci import ImageConfig
from localcloud.sim import backends
from localcloud.sim.clock import SimClock
from localcloud.sim.runtime import (
    ContainerSpec,
    ExitStatus,
    LaunchError,
    LogSink,
    NullLogSink,
    TaskProcess,
    TaskRuntime,
    TaskSpec,
)
from localcloud.sim.tasks import SimTask, utcnow

if TYPE_CHECKING:
    from localcloud.sim.alb import AlbFront


@dataclass(frozen=True)
class SimConfig:
    """Timings (simulated seconds unless noted) and switches of the simulator."""

    time_scale: float = 1.0
    """Real seconds per simulated second (0.01 runs a 30 s health-check interval in 0.3 s)."""
    tick: float = 0.05
    """Real seconds between scheduler passes."""
    provisioning_seconds: float = 3.0
    pull_seconds: float = 5.0
    pull_retry_seconds: float = 30.0
    """How long a task whose image cannot be pulled stays PENDING while the agent retries
    ("pull image manifest has been retried 5 time(s)") before it stops."""
    activating_seconds: float = 2.0
    registration_seconds: float = 2.0
    """How long a new target shows ``Elb.RegistrationInProgress`` before its first check."""
    launch_backoff_seconds: float = 10.0
    launch_backoff_max_seconds: float = 300.0
    stopped_task_retention_seconds: float = 3600.0
    check_network: bool = True
    """Fail image pulls (CannotPullContainerError) when the task's subnets and security groups
    give no path to ECR, and health checks (Target.Timeout) when the task's security groups do
    not admit the load balancer."""
    max_events: int = 100


class _Phase:
    PROVISIONING = "PROVISIONING"
    PENDING = "PENDING"
    ACTIVATING = "ACTIVATING"
    RUNNING = "RUNNING"
    DEACTIVATING = "DEACTIVATING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"


_STARTING = (_Phase.PROVISIONING, _Phase.PENDING, _Phase.ACTIVATING)


@dataclass
class _Probe:
    """The outcome of one health check."""

    ok: bool
    reason: str | None = None
    description: str | None = None


@dataclass
class _Target:
    group_arn: str
    ip: str
    port: int
    task_id: str
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = "Target registration is in progress"
    next_check: float = 0.0
    ok_streak: int = 0
    fail_streak: int = 0
    drain_until: float | None = None
    probe: Future[_Probe] | None = None


@dataclass
class _Deployment:
    id: str
    task_definition: str
    network_configuration: dict[str, Any] | None
    launch_type: str
    platform_version: str | None
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_reason: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    failed_tasks: int = 0
    consecutive_launch_failures: int = 0
    next_launch_at: float = 0.0
    warned_unstable: bool = False

    def __post_init__(self) -> None:
        if not self.rollout_reason:
            self.rollout_reason = f"ECS deployment {self.id} in progress."


@dataclass
class _Task:
    task: SimTask
    deployment: _Deployment
    phase: str
    since: float
    container_port: int | None
    process: TaskProcess | None = None
    started: float | None = None
    ever_healthy: bool = False
    targets: list[_Target] = field(default_factory=list)
    stop_future: Future[ExitStatus] | None = None
    stopped_since: float | None = None
    stop_timeout: float = 30.0
    """The container's stopTimeout (simulated seconds between SIGTERM and SIGKILL)."""
    pull_error: str | None = None
    """Why the image cannot be pulled; the task stops with it once the retries are over."""
    pull_error_until: float = 0.0


@dataclass
class _Service:
    account: str
    region: str
    backend: EC2ContainerServiceBackend
    service: Service
    deployments: list[_Deployment] = field(default_factory=list)
    tasks: dict[str, _Task] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))
    last_completed: _Deployment | None = None
    capacity_shortage: bool = False

    @property
    def name(self) -> str:
        return str(self.service.name)

    @property
    def cluster(self) -> str:
        return str(self.service.cluster_name)


def _new_deployment_id() -> str:
    # ECS deployment ids look like ecs-svc/<19 digits>.
    return f"ecs-svc/{10**18 + secrets.randbelow(9 * 10**18)}"


def _ecs_error(reason: str) -> str:
    return reason.split(":", 1)[0]


class Simulator:
    """Owns ECS service and ALB state transitions inside the emulator's process.

    Use as a context manager after the :class:`~localcloud.emulator.Emulator` started, or call
    :meth:`start`/:meth:`stop`. Only one simulator may be active in a process (moto's state is
    global); services that exist when it starts are adopted.
    """

    def __init__(self, runtime: TaskRuntime, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.clock = SimClock(self.config.time_scale)
        self.runtime = runtime
        self._lock = threading.RLock()
        self._services: dict[tuple[str, str, str, str], _Service] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ecs-sim")
        self._alb: Any = None
        self._transitions: list[tuple[float, str, str]] = []

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Simulator:
        patches.activate(self)
        with self._lock:
            for _, _, backend in _ecs_backends():
                for service in list(backend.services.values()):
                    if service.status == "ACTIVE":
                        self.on_service_created(backend, service)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="ecs-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        patches.deactivate(self)
        if self._alb is not None:
            self._alb.close()
        self.runtime.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._services.clear()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self.config.tick):
            try:
                self.step()
            except Exception:
                import traceback

                traceback.print_exc()

    def step(self) -> None:
        """One scheduler pass over every service."""
        with self._lock:
            for key, svc in list(self._services.items()):
                if not self._exists(svc):
                    self._forget(key, svc)
                    continue
                self._step_service(svc)

    def forget_all(self) -> None:
        """Drop every simulated service and stop their processes (before an emulator reset)."""
        with self._lock:
            for key, svc in list(self._services.items()):
                self._forget(key, svc)
            if self._alb is not None:
                self._alb.close()
                self._alb = None

    # --- hooks called by the moto patches (request threads) ---------------------------------

    def on_service_created(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        with self._lock:
            svc = _Service(backend.account_id, backend.region_name, backend, service)
            svc.events = deque(maxlen=self.config.max_events)
            if service.task_definition:
                svc.deployments.append(self._deployment_for(service))
            self._services[self._key(svc)] = svc
            self._publish(svc)

    def on_service_updated(
        self, backend: EC2ContainerServiceBackend, service: Service, *, new_deployment: bool
    ) -> None:
        with self._lock:
            svc = self._services.get(
                (backend.account_id, backend.region_name, service.cluster_name, service.name)
            )
            if svc is None or svc.service is not service:
                self.on_service_created(backend, service)
                return
            primary = svc.deployments[0] if svc.deployments else None
            if (
                primary is None
                or new_deployment
                or primary.task_definition != service.task_definition
            ):
                if primary is not None:
                    primary.status = "ACTIVE"
                    primary.updated_at = utcnow()
                svc.deployments.insert(0, self._deployment_for(service))
            self._publish(svc)

    def on_service_deleted(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        with self._lock:
            key = (backend.account_id, backend.region_name, service.cluster_name, service.name)
            svc = self._services.get(key)
            if svc is not None:
                for task in list(svc.tasks.values()):
                    if task.phase != _Phase.STOPPED:
                        self._stop_task(svc, task, "ServiceSchedulerInitiated", "Service deleted")
                svc.deployments.clear()
                self._publish(svc)

    def on_task_stopped_by_user(self, task: SimTask, reason: str) -> bool:
        with self._lock:
            for svc in self._services.values():
                record = svc.tasks.get(task.id)
                if record is not None:
                    if record.phase != _Phase.STOPPED:
                        self._stop_task(
                            svc, record, "UserInitiated", reason or "Task stopped by user"
                        )
                    return True
        return False

    def target_health(
        self, group_arn: str, target_id: str
    ) -> tuple[str, str | None, str | None] | None:
        """``(state, reason, description)`` of a target the simulator registered."""
        with self._lock:
            for target in self._targets():
                if target.group_arn == group_arn and target.ip == target_id:
                    return target.state, target.reason, target.description
        return None

    def routable_addresses(self, group_arn: str) -> list[tuple[str, int]]:
        """Where the ALB may send a request for ``group_arn``: healthy targets, or every
        unhealthy one when none is healthy (the ALB fails open)."""
        with self._lock:
            candidates: dict[str, list[tuple[str, int]]] = {"healthy": [], "unhealthy": []}
            for svc in self._services.values():
                for task in svc.tasks.values():
                    for target in task.targets:
                        if target.group_arn != group_arn or target.state not in candidates:
                            continue
                        address = task.process.address(target.port) if task.process else None
                        candidates[target.state].append(address or ("127.0.0.1", _closed_port()))
            return candidates["healthy"] or candidates["unhealthy"]

    # --- control API for tests, drills and the local cloud ----------------------------------

    def rollout_transitions(self, deployment_id: str) -> list[tuple[float, str]]:
        """``(wall-clock time, rolloutState)`` each time the deployment COMPLETED or FAILED."""
        with self._lock:
            return [(t, state) for t, d, state in self._transitions if d == deployment_id]

    def set_capacity_shortage(self, cluster: str, service: str, shortage: bool = True) -> None:
        """Make Fargate report no capacity for ``service`` (tasks cannot be placed)."""
        with self._lock:
            self._find(cluster, service).capacity_shortage = shortage

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait (real seconds) until ``predicate()`` holds; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate():
                    return
            time.sleep(self.config.tick)
        raise TimeoutError(f"condition not met within {timeout} s")

    def settle(self, cluster: str, service: str, timeout: float = 30.0) -> str:
        """Wait until the service's PRIMARY deployment is COMPLETED; return its id."""

        def done() -> bool:
            svc = self._find(cluster, service)
            return (
                bool(svc.deployments)
                and svc.deployments[0].rollout_state == "COMPLETED"
                and len(svc.deployments) == 1
            )

        self.wait_for(done, timeout)
        return self._find(cluster, service).deployments[0].id

    def alb_url(self, load_balancer: str, port: int = 0) -> str:
        """The simulated ALB's URL on 127.0.0.1 for a load balancer ARN or name, listening on
        ``port`` when it starts (0: a free port)."""
        return self.alb_front().url(load_balancer, port)

    def alb_front(self) -> AlbFront:
        """The simulated ALB listeners (one per load balancer, started on first use)."""
        from localcloud.sim.alb import AlbFront

        with self._lock:
            if self._alb is None:
                self._alb = AlbFront(self)
            front: AlbFront = self._alb
        return front

    # --- internals ------------------------------------------------------------------------

    @staticmethod
    def _key(svc: _Service) -> tuple[str, str, str, str]:
        return (svc.account, svc.region, svc.cluster, svc.name)

    def _find(self, cluster: str, service: str) -> _Service:
        for svc in self._services.values():
            if svc.cluster == cluster and svc.name == service:
                return svc
        raise KeyError(f"no simulated service {cluster}/{service}")

    def _exists(self, svc: _Service) -> bool:
        current = svc.backend.services.get(f"{svc.cluster}:{svc.name}")
        return current is svc.service

    def _forget(self, key: tuple[str, str, str, str], svc: _Service) -> None:
        del self._services[key]
        for task in svc.tasks.values():
            if task.process is not None:
                self._pool.submit(task.process.stop, 0)

    def _targets(self) -> Iterator[_Target]:
        for svc in self._services.values():
            for task in svc.tasks.values():
                yield from task.targets

    def _deployment_for(self, service: Service) -> _Deployment:
        return _Deployment(
            id=_new_deployment_id(),
            task_definition=str(service.task_definition),
            network_configuration=getattr(service, "network_configuration", None) or None,
            launch_type=str(service.launch_type or "FARGATE"),
            platform_version=getattr(service, "platform_version", None),
        )

    def _event(self, svc: _Service, message: str) -> None:
        svc.events.appendleft(
            {
                "id": str(uuid.uuid4()),
                "createdAt": utcnow(),
                "message": f"(service {svc.name}) {message}",
            }
        )

    # --- configuration read from the service ------------------------------------------------

    @staticmethod
    def _deployment_configuration(svc: _Service) -> dict[str, Any]:
        return getattr(svc.service, "deployment_configuration", None) or {}

    def _grace(self, svc: _Service) -> float:
        return float(getattr(svc.service, "health_check_grace_period_seconds", None) or 0)

    # --- one pass over one service ----------------------------------------------------------

    def _step_service(self, svc: _Service) -> None:
        now = self.clock.now()
        for task in list(svc.tasks.values()):
            self._advance(svc, task, now)
        self._health_checks(svc, now)
        self._rollout(svc, now)
        self._publish(svc)

    def _advance(self, svc: _Service, task: _Task, now: float) -> None:
        config = self.config
        elapsed = now - task.since
        if task.phase == _Phase.PROVISIONING and elapsed >= config.provisioning_seconds:
            self._set_phase(task, _Phase.PENDING, now)
            task.task.pull_started_at = utcnow()
        elif task.phase == _Phase.PENDING and task.pull_error is not None:
            if now >= task.pull_error_until:
                self._failed_to_start(svc, task, task.pull_error, now)
        elif task.phase == _Phase.PENDING and elapsed >= config.pull_seconds:
            self._launch(svc, task, now)
        elif (
            task.phase == _Phase.ACTIVATING
            and elapsed >= config.activating_seconds
            and not (task.process is not None and task.process.starting())
        ):
            self._set_phase(task, _Phase.RUNNING, now)
            task.started = now
            task.task.started_at = utcnow()
            for container in task.task.sim_containers:
                container.last_status = "RUNNING"
            self._register_targets(svc, task, now)
        if task.phase in (_Phase.ACTIVATING, _Phase.RUNNING, _Phase.DEACTIVATING):
            exit_status = task.process.poll() if task.process else None
            if exit_status is not None:
                self._container_exited(svc, task, exit_status, now)
        if task.phase == _Phase.DEACTIVATING and all(
            t.drain_until is not None and now >= t.drain_until for t in task.targets
        ):
            self._begin_stopping(task, now)
        if (
            task.phase == _Phase.STOPPING
            and task.stop_future is not None
            and task.stop_future.done()
        ):
            try:
                status = task.stop_future.result()
            except Exception:
                status = ExitStatus(137)
            self._finish_stop(task, status, now)
        for target in list(task.targets):
            if target.drain_until is not None and now >= target.drain_until:
                self._deregister(svc, task, target)
        if (
            task.phase == _Phase.STOPPED
            and not task.targets
            and task.stopped_since is not None
            and now - task.stopped_since >= config.stopped_task_retention_seconds
        ):
            del svc.tasks[task.task.id]
            svc.backend.tasks.get(svc.cluster, {}).pop(task.task.task_arn, None)

    @staticmethod
    def _set_phase(task: _Task, phase: str, now: float) -> None:
        task.phase = phase
        task.since = now
        task.task.status = phase

    # --- launching ------------------------------------------------------------------------

    def _start_task(self, svc: _Service, deployment: _Deployment, now: float) -> _Task | None:
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
        for balancer in svc.service.load_balancers or []:
            if balancer.get("containerPort"):
                container_port = int(balancer["containerPort"])
                break
        record = _Task(task, deployment, _Phase.PROVISIONING, now, container_port)
        svc.tasks[task.id] = record
        return record

    def _launch(self, svc: _Service, task: _Task, now: float) -> None:
        definition = svc.backend.describe_task_definition(task.task.task_definition_arn)
        container_def: dict[str, Any] = definition.container_definitions[0]
        image = str(container_def.get("image", ""))
        digest: str | None = None
        tags: tuple[str, ...] = ()
        config: ImageConfig | None = None
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
                    "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                    f"failed to resolve ref {image}: dial tcp 52.94.1.1:443: i/o timeout ({path})"
                )
        reference = backends.parse_ecr_image(image)
        if problem is None and reference is not None:
            resolved = backends.resolve_ecr_image(reference)
            if resolved is None:
                problem = (
                    "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                    f"failed to resolve ref {image}: {image}: not found"
                )
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
            self._failed_to_start(svc, task, problem, now)
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
            self._failed_to_start(svc, task, error.reason, now)
            return
        self._set_phase(task, _Phase.ACTIVATING, now)

    def _failed_to_start(self, svc: _Service, task: _Task, reason: str, now: float) -> None:
        task.task.stop_code = "TaskFailedToStart"
        task.task.stopped_reason = reason
        task.task.desired_status = "STOPPED"
        for container in task.task.sim_containers:
            container.last_status = "STOPPED"
            container.reason = reason
        self._finish_stop(task, None, now)
        self._count_failure(svc, task.deployment, now)

    # --- target registration and health ----------------------------------------------------

    def _register_targets(self, svc: _Service, task: _Task, now: float) -> None:
        for balancer in svc.service.load_balancers or []:
            group_arn = balancer.get("targetGroupArn")
            group = backends.target_group(svc.account, svc.region, group_arn) if group_arn else None
            if group is None:
                continue
            port = int(balancer.get("containerPort") or group.port)
            group.register([{"Id": task.task.private_ip, "Port": port}])
            task.targets.append(
                _Target(
                    group_arn=group.arn,
                    ip=task.task.private_ip,
                    port=port,
                    task_id=task.task.id,
                    next_check=now + self.config.registration_seconds,
                )
            )
            self._event(svc, f"registered 1 targets in (target-group {group.arn})")
        if not task.targets:
            task.ever_healthy = True
            task.deployment.consecutive_launch_failures = 0
            self._reset_failures(svc, task.deployment)

    def _health_checks(self, svc: _Service, now: float) -> None:
        for task in svc.tasks.values():
            for target in task.targets:
                if target.state == "draining":
                    continue
                group = backends.target_group(svc.account, svc.region, target.group_arn)
                if group is None:
                    continue
                check = backends.health_check_of(group)
                if target.probe is not None and target.probe.done():
                    self._apply_probe(svc, task, target, check, target.probe.result())
                    target.probe = None
                if target.probe is None and now >= target.next_check:
                    target.next_check = now + check.interval
                    target.probe = self._probe(svc, task, target, group)
            self._enforce_health(svc, task, now)

    def _probe(
        self, svc: _Service, task: _Task, target: _Target, group: FakeTargetGroup
    ) -> Future[_Probe]:
        check = backends.health_check_of(group)
        # Scaled time must not make a busy machine look like a hanging app: never wait less
        # than half a second for an answer.
        timeout = max(self.clock.real(check.timeout), 0.5)
        if not check.enabled:
            done: Future[_Probe] = Future()
            done.set_result(_Probe(ok=True))
            return done
        port = check.port_for(target.port)
        address = task.process.address(port) if task.process is not None else None
        blocked = None
        if self.config.check_network and group.vpc_id:
            network = (task.deployment.network_configuration or {}).get("awsvpcConfiguration") or {}
            blocked = backends.ingress_problem(
                svc.account,
                svc.region,
                network.get("securityGroups") or [],
                backends.load_balancer_security_groups(svc.account, svc.region, group),
                group.vpc_id,
                port,
            )
        if blocked is not None or address is None:
            outcome = (
                _Probe(False, "Target.Timeout", "Request timed out")
                if blocked is not None
                else _Probe(False, "Target.FailedHealthChecks", "Health checks failed")
            )
            # The ALB only learns of a dropped connection when its timeout expires.
            delay = timeout if blocked is not None else 0.0
            return self._pool.submit(_sleep_then, delay, outcome)
        return self._pool.submit(_http_probe, address, check.path, timeout, check.matches)

    def _apply_probe(
        self,
        svc: _Service,
        task: _Task,
        target: _Target,
        check: backends.HealthCheck,
        probe: _Probe,
    ) -> None:
        if probe.ok:
            target.ok_streak += 1
            target.fail_streak = 0
            if target.state != "healthy" and target.ok_streak >= check.healthy_threshold:
                target.state, target.reason, target.description = "healthy", None, None
                if all(t.state == "healthy" for t in task.targets) and not task.ever_healthy:
                    task.ever_healthy = True
                    task.task.health_status = "HEALTHY"
                    self._reset_failures(svc, task.deployment)
            elif target.state == "initial":
                target.reason = "Elb.InitialHealthChecking"
                target.description = "Initial health checks in progress"
            return
        target.fail_streak += 1
        target.ok_streak = 0
        if target.state == "initial" and target.fail_streak < check.unhealthy_threshold:
            target.reason = "Elb.InitialHealthChecking"
            target.description = "Initial health checks in progress"
            return
        if (
            target.state in ("initial", "healthy")
            and target.fail_streak >= check.unhealthy_threshold
        ):
            target.state = "unhealthy"
            task.task.health_status = "UNHEALTHY"
            self._event(
                svc,
                f"(port {target.port}) is unhealthy in (target-group {target.group_arn}) "
                f"due to (reason {probe.description}).",
            )
        if target.state == "unhealthy":
            target.reason, target.description = probe.reason, probe.description

    def _enforce_health(self, svc: _Service, task: _Task, now: float) -> None:
        if task.phase != _Phase.RUNNING or task.started is None:
            return
        unhealthy = [t for t in task.targets if t.state == "unhealthy"]
        if not unhealthy or now < task.started + self._grace(svc):
            return
        reason = f"Task failed ELB health checks in (target-group {unhealthy[0].group_arn})"
        self._stop_task(svc, task, "ServiceSchedulerInitiated", reason)
        self._event(svc, f"has stopped 1 running tasks: (task {task.task.id}).")
        self._count_failure(svc, task.deployment, now)

    # --- stopping -------------------------------------------------------------------------

    def _stop_task(self, svc: _Service, task: _Task, code: str, reason: str) -> None:
        now = self.clock.now()
        task.task.desired_status = "STOPPED"
        task.task.stop_code = code
        task.task.stopped_reason = reason
        task.task.stopping_at = utcnow()
        if task.phase in _STARTING:
            if task.process is not None:
                self._pool.submit(task.process.stop, 0)
            self._finish_stop(task, None, now)
            return
        if task.phase in (_Phase.STOPPING, _Phase.STOPPED, _Phase.DEACTIVATING):
            return
        self._set_phase(task, _Phase.DEACTIVATING, now)
        self._drain_targets(svc, task, now)
        if not task.targets:
            self._begin_stopping(task, now)

    def _drain_targets(self, svc: _Service, task: _Task, now: float) -> None:
        for target in task.targets:
            if target.state == "draining":
                continue
            group = backends.target_group(svc.account, svc.region, target.group_arn)
            delay = backends.health_check_of(group).deregistration_delay if group else 0.0
            target.state = "draining"
            target.reason = "Target.DeregistrationInProgress"
            target.description = "Target deregistration is in progress"
            target.drain_until = now + delay
        if task.targets:
            self._event(
                svc,
                f"deregistered {len(task.targets)} targets in "
                f"(target-group {task.targets[0].group_arn})",
            )

    def _begin_stopping(self, task: _Task, now: float) -> None:
        self._set_phase(task, _Phase.STOPPING, now)
        if task.process is None:
            self._finish_stop(task, None, now)
            return
        task.stop_future = self._pool.submit(task.process.stop, self.clock.real(task.stop_timeout))

    def _container_exited(self, svc: _Service, task: _Task, status: ExitStatus, now: float) -> None:
        was_scheduled_stop = task.phase == _Phase.DEACTIVATING
        if not was_scheduled_stop:
            task.task.desired_status = "STOPPED"
            task.task.stop_code = "EssentialContainerExited"
            task.task.stopped_reason = "Essential container in task exited"
            task.task.stopping_at = utcnow()
            self._drain_targets(svc, task, now)
        self._finish_stop(task, status, now)
        if not was_scheduled_stop and not task.ever_healthy:
            self._count_failure(svc, task.deployment, now)

    def _finish_stop(self, task: _Task, status: ExitStatus | None, now: float) -> None:
        self._set_phase(task, _Phase.STOPPED, now)
        task.stopped_since = now
        task.task.desired_status = "STOPPED"
        stamp = utcnow()
        task.task.execution_stopped_at = stamp
        task.task.stopped_at = stamp
        task.task.connectivity = "DISCONNECTED"
        for container in task.task.sim_containers:
            container.last_status = "STOPPED"
            if status is not None:
                container.exit_code = status.exit_code
                container.reason = status.reason

    def _deregister(self, svc: _Service, task: _Task, target: _Target) -> None:
        task.targets.remove(target)
        group = backends.target_group(svc.account, svc.region, target.group_arn)
        if group is not None and target.ip in group.targets:
            group.deregister([{"Id": target.ip}])

    # --- deployments ----------------------------------------------------------------------

    def _count_failure(self, svc: _Service, deployment: _Deployment, now: float) -> None:
        deployment.consecutive_launch_failures += 1
        backoff = min(
            self.config.launch_backoff_seconds * 2 ** (deployment.consecutive_launch_failures - 1),
            self.config.launch_backoff_max_seconds,
        )
        deployment.next_launch_at = now + backoff
        if deployment.rollout_state == "IN_PROGRESS":
            deployment.failed_tasks += 1
            deployment.updated_at = utcnow()
        if deployment.consecutive_launch_failures >= 3 and not deployment.warned_unstable:
            deployment.warned_unstable = True
            self._event(
                svc,
                "is unable to consistently start tasks successfully. For more information, see "
                "the Troubleshooting section of the Amazon ECS Developer Guide.",
            )

    def _reset_failures(self, svc: _Service, deployment: _Deployment) -> None:
        breaker = self._deployment_configuration(svc).get("deploymentCircuitBreaker") or {}
        # resetOnHealthyTask defaults to true: a healthy task resets the failure count.
        if breaker.get("resetOnHealthyTask", True) and deployment.rollout_state == "IN_PROGRESS":
            deployment.failed_tasks = 0
        deployment.consecutive_launch_failures = 0
        deployment.next_launch_at = 0.0

    def _is_healthy(self, task: _Task) -> bool:
        return task.phase == _Phase.RUNNING and all(t.state == "healthy" for t in task.targets)

    @staticmethod
    def _is_active(task: _Task) -> bool:
        return task.phase in (*_STARTING, _Phase.RUNNING)

    def _rollout(self, svc: _Service, now: float) -> None:
        if not svc.deployments:
            return
        configuration = self._deployment_configuration(svc)
        desired = int(svc.service.desired_count or 0)
        min_healthy = math.ceil(
            desired * int(configuration.get("minimumHealthyPercent", 100)) / 100
        )
        max_total = max(
            math.floor(desired * int(configuration.get("maximumPercent", 200)) / 100), 1
        )
        primary = svc.deployments[0]
        tasks = list(svc.tasks.values())
        mine = [t for t in tasks if t.deployment is primary and self._is_active(t)]
        active = [t for t in tasks if self._is_active(t)]
        stalled = primary.rollout_state == "FAILED"

        # Launch the primary deployment's tasks within maximumPercent.
        started = []
        while (
            not stalled
            and len(mine) < desired
            and len(active) < max_total
            and now >= primary.next_launch_at
        ):
            if svc.capacity_shortage:
                self._event(
                    svc,
                    "was unable to place a task. Reason: Capacity is unavailable at this time. "
                    "Please try again later or in a different availability zone.",
                )
                self._count_failure(svc, primary, now)
                break
            record = self._start_task(svc, primary, now)
            if record is None:
                break
            mine.append(record)
            active.append(record)
            started.append(record)
        if started:
            ids = " ".join(f"(task {t.task.id})" for t in started)
            self._event(svc, f"has started {len(started)} tasks: {ids}.")

        # Scale in the primary deployment beyond desiredCount.
        for task in sorted(mine, key=self._is_healthy)[: max(len(mine) - desired, 0)]:
            self._stop_task(
                svc,
                task,
                "ServiceSchedulerInitiated",
                f"Scaling activity initiated by (deployment {primary.id})",
            )

        # Replace older deployments' tasks while keeping minimumHealthyPercent.
        if not stalled:
            healthy = sum(1 for t in tasks if self._is_healthy(t))
            old = [t for t in tasks if t.deployment is not primary and self._is_active(t)]
            stopped = []
            for task in sorted(old, key=self._is_healthy):
                if self._is_healthy(task):
                    if healthy - 1 < min_healthy:
                        continue
                    healthy -= 1
                self._stop_task(
                    svc,
                    task,
                    "ServiceSchedulerInitiated",
                    f"Scaling activity initiated by (deployment {primary.id})",
                )
                stopped.append(task)
            if stopped:
                ids = " ".join(f"(task {t.task.id})" for t in stopped)
                self._event(svc, f"has stopped {len(stopped)} running tasks: {ids}.")

        # Forget older deployments once none of their tasks is left running and the primary
        # deployment no longer needs them listed (a failed deployment stays visible, ACTIVE and
        # FAILED, while the circuit breaker's rollback is in progress).
        for deployment in svc.deployments[1:]:
            drained = not any(
                t.deployment is deployment and t.phase != _Phase.STOPPED for t in tasks
            )
            if drained and (
                deployment.rollout_state != "FAILED" or primary.rollout_state != "IN_PROGRESS"
            ):
                svc.deployments.remove(deployment)

        if primary.rollout_state == "IN_PROGRESS":
            healthy_mine = sum(1 for t in mine if self._is_healthy(t))
            others_left = any(
                t.deployment is not primary and t.phase != _Phase.STOPPED for t in tasks
            )
            if healthy_mine >= desired and not others_left:
                primary.rollout_state = "COMPLETED"
                primary.rollout_reason = f"ECS deployment {primary.id} completed."
                primary.updated_at = utcnow()
                svc.last_completed = primary
                self._transitions.append((time.time(), primary.id, "COMPLETED"))
                self._event(svc, f"(deployment {primary.id}) deployment completed.")
                self._event(svc, "has reached a steady state.")
                svc.deployments[1:] = []
            else:
                self._circuit_breaker(svc, primary, configuration, desired)

    def _circuit_breaker(
        self, svc: _Service, primary: _Deployment, configuration: dict[str, Any], desired: int
    ) -> None:
        breaker = configuration.get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable"):
            return
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html
        threshold = min(max(math.ceil(0.5 * desired), 3), 200)
        if primary.failed_tasks < threshold:
            return
        primary.rollout_state = "FAILED"
        primary.rollout_reason = "ECS deployment circuit breaker: tasks failed to start."
        primary.updated_at = utcnow()
        self._transitions.append((time.time(), primary.id, "FAILED"))
        self._event(svc, f"(deployment {primary.id}) deployment failed: tasks failed to start.")
        target = svc.last_completed
        if not breaker.get("rollback") or target is None:
            return
        svc.last_completed = None  # IN_PROGRESS again until the rollback completes
        primary.status = "ACTIVE"
        rollback = _Deployment(
            id=_new_deployment_id(),
            task_definition=target.task_definition,
            network_configuration=target.network_configuration,
            launch_type=target.launch_type,
            platform_version=target.platform_version,
            rollout_reason="ECS deployment circuit breaker: rolling back to deploymentId "
            f"{target.id}.",
        )
        svc.deployments.insert(0, rollback)
        svc.service.task_definition = target.task_definition
        self._event(svc, f"rolling back to deployment {target.id}.")

    # --- what the API shows ---------------------------------------------------------------

    def _publish(self, svc: _Service) -> None:
        tasks = list(svc.tasks.values())
        deployments = []
        desired = int(svc.service.desired_count or 0)
        for index, deployment in enumerate(svc.deployments):
            own = [t for t in tasks if t.deployment is deployment]
            deployments.append(
                {
                    "id": deployment.id,
                    "status": deployment.status,
                    "taskDefinition": deployment.task_definition,
                    "desiredCount": desired if index == 0 else 0,
                    "pendingCount": sum(1 for t in own if t.phase in _STARTING),
                    "runningCount": sum(1 for t in own if t.phase == _Phase.RUNNING),
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
        service.running_count = sum(1 for t in tasks if t.phase == _Phase.RUNNING)
        service.pending_count = sum(1 for t in tasks if t.phase in _STARTING)
        service.events = list(svc.events)
        if svc.deployments:
            service.task_definition = svc.deployments[0].task_definition


def _ecs_backends() -> Iterator[tuple[str, str, EC2ContainerServiceBackend]]:
    for account, regional in list(ecs_backends.items()):
        for region, backend in list(regional.items()):
            yield account, region, backend


def _sleep_then(delay: float, outcome: _Probe) -> _Probe:
    time.sleep(delay)
    return outcome


def _http_probe(
    address: tuple[str, int], path: str, timeout: float, matches: Callable[[int], bool]
) -> _Probe:
    """One ALB health check: GET ``path``; the status must satisfy the matcher."""
    connection = http.client.HTTPConnection(address[0], address[1], timeout=max(timeout, 0.05))
    try:
        connection.request("GET", path, headers={"User-Agent": "ELB-HealthChecker/2.0"})
        status = connection.getresponse().status
    except TimeoutError:
        return _Probe(False, "Target.Timeout", "Request timed out")
    except OSError:
        return _Probe(False, "Target.FailedHealthChecks", "Health checks failed")
    finally:
        connection.close()
    if matches(status):
        return _Probe(True)
    return _Probe(
        False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]"
    )


def _closed_port() -> int:
    """A loopback port nothing listens on (tcpmux, port 1, is never served here)."""
    return 1
