"""A rig for the ECS simulator's scheduler and health checker: no HTTP, no threads, no sleeping.

The parts of :mod:`localcloud.ecs` run as the simulator composes them, but the clock is a
number the test moves, process stops and probes run synchronously, task processes are fakes
(:class:`FakeRuntime`) and health checks answer what the test says (:class:`FakeProber`). AWS
state lives in moto's in-memory backends of an account no other test uses; the service itself
is a plain object, so no moto hook (and no other simulator in this process) ever sees it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from localcloud.ecs import history
from localcloud.ecs.health import HealthChecker
from localcloud.ecs.launcher import Launcher
from localcloud.ecs.lifecycle import Lifecycle
from localcloud.ecs.model import Deployment, Probe, ServiceRecord, SimConfig, TaskRecord
from localcloud.ecs.publish import publish
from localcloud.ecs.scheduler import Scheduler
from localcloud.ecs.taskruntime import ExitStatus, LaunchError, TaskSpec
from moto.cloudwatch.models import cloudwatch_backends
from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends
from moto.elbv2.models import elbv2_backends

REGION = "eu-west-3"
PORT = 8000

_accounts = itertools.count(4200)
"""Each rig gets an account of its own: moto's backends are global to the process."""


class ManualClock:
    """A :class:`~localcloud.ecs.clock.SimClock` whose simulated time the test sets."""

    time_scale = 1.0

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def real(self, simulated_seconds: float) -> float:
        return simulated_seconds * self.time_scale


class SyncExecutor(Executor):
    """Runs each submitted call at once: its future is done when ``submit`` returns."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


@dataclass
class FakeProcess:
    """A task's process: listening on ``port`` (``None``: deaf), alive until it exits."""

    spec: TaskSpec
    port: int | None
    exit_status: ExitStatus | None = None
    stops: list[float] = field(default_factory=list)

    def poll(self) -> ExitStatus | None:
        return self.exit_status

    def starting(self) -> bool:
        return False

    def address(self, container_port: int) -> tuple[str, int] | None:
        if self.exit_status is not None or self.port is None:
            return None
        if container_port not in self.spec.container.container_ports:
            return None
        return ("127.0.0.1", self.port)

    def stop(self, timeout: float) -> ExitStatus:
        self.stops.append(timeout)
        if self.exit_status is None:
            self.exit_status = ExitStatus(143)
        return self.exit_status


@dataclass
class FakeRuntime:
    """Launches :class:`FakeProcess` es; an image listed in ``launch_errors`` cannot start, one
    in ``deaf`` listens nowhere."""

    launch_errors: dict[str, str] = field(default_factory=dict)
    deaf: set[str] = field(default_factory=set)
    processes: list[FakeProcess] = field(default_factory=list)
    _ports: Iterator[int] = field(default_factory=lambda: itertools.count(20000))

    def launch(self, spec: TaskSpec) -> FakeProcess:
        image = spec.container.image
        if image in self.launch_errors:
            raise LaunchError(self.launch_errors[image])
        port = None if image in self.deaf else next(self._ports)
        process = FakeProcess(spec, port)
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in self.processes:
            process.stop(0)

    def of_image(self, image: str) -> list[FakeProcess]:
        return [p for p in self.processes if p.spec.container.image == image]


@dataclass
class FakeProber:
    """Health checks answered by address: an HTTP status, or ``"timeout"``; 200 by default."""

    answers: dict[tuple[str, int], int | str] = field(default_factory=dict)
    calls: list[tuple[tuple[str, int], str]] = field(default_factory=list)

    def __call__(
        self,
        address: tuple[str, int],
        path: str,
        timeout: float,
        matches: Callable[[int], bool],
    ) -> Probe:
        del timeout
        self.calls.append((address, path))
        answer = self.answers.get(address, 200)
        if answer == "timeout":
            return Probe(False, "Target.Timeout", "Request timed out")
        assert isinstance(answer, int)
        if matches(answer):
            return Probe(True)
        return Probe(
            False,
            "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{answer}]",
        )


@dataclass
class Rig:
    """One service, its moto world, and the simulator's parts wired as the facade wires them."""

    svc: ServiceRecord
    clock: ManualClock
    runtime: FakeRuntime
    prober: FakeProber
    scheduler: Scheduler
    group: Any
    revisions: dict[str, str]
    """image -> task definition ARN."""

    def step(self, seconds: float = 1.0) -> None:
        """Let ``seconds`` of simulated time pass, then run one scheduler pass."""
        self.clock.t += seconds
        self.scheduler.step(self.svc, self.clock.t)
        publish(self.svc)

    def run(self, seconds: float, every: float = 1.0, check: Callable[[], None] | None = None):
        """Step ``every`` seconds for ``seconds``, calling ``check`` after each pass."""
        for _ in range(round(seconds / every)):
            self.step(every)
            if check is not None:
                check()

    def until(self, predicate: Callable[[], bool], limit: float = 600.0) -> float:
        """Step one second at a time until ``predicate`` holds; the simulated seconds it took."""
        began = self.clock.t
        while not predicate():
            assert self.clock.t - began < limit, f"not reached within {limit} simulated s"
            self.step(1.0)
        return self.clock.t - began

    @property
    def primary(self) -> Deployment:
        return self.svc.deployments[0]

    def deploy(self, image: str) -> Deployment:
        """UpdateService to the revision running ``image``: a new PRIMARY deployment, as the
        simulator's UpdateService hook makes it."""
        self.svc.service.task_definition = self.revisions[image]
        self.primary.status = "ACTIVE"
        deployment = Deployment.of(self.svc.service)
        self.svc.deployments.insert(0, deployment)
        history.begin(self.svc, deployment)
        return deployment

    def alarm(self, name: str, *, period: int = 60, periods: int = 3) -> Any:
        """A CloudWatch metric alarm in the rig's account (moto's object: set its state with
        ``update_state``)."""
        return cloudwatch_backends[self.svc.account][REGION].put_metric_alarm(
            name=name,
            namespace="AWS/ApplicationELB",
            metric_name="HTTPCode_Target_5XX_Count",
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=periods,
            period=period,
            threshold=1.0,
            statistic="Sum",
            description="",
            dimensions=[],
            alarm_actions=[],
        )

    def tasks(self, image: str | None = None) -> list[TaskRecord]:
        return [
            t
            for t in self.svc.tasks.values()
            if image is None or t.task.task_definition_arn == self.revisions[image]
        ]

    def messages(self) -> list[str]:
        return [e["message"] for e in self.svc.events]


@pytest.fixture
def make_rig() -> Callable[..., Rig]:
    """``make_rig(desired=2, circuit_breaker=..., ...)``: a fresh service in a fresh account."""

    def make(
        *,
        desired: int = 2,
        minimum_healthy_percent: int = 100,
        maximum_percent: int = 200,
        circuit_breaker: bool = True,
        rollback: bool = True,
        grace_period: int = 0,
        healthy_threshold: int = 2,
        unhealthy_threshold: int = 2,
        interval: int = 10,
        deregistration_delay: int = 30,
        health_check_enabled: bool = True,
        images: tuple[str, ...] = ("app:v1", "app:v2"),
        runtime: FakeRuntime | None = None,
        alarms: dict[str, Any] | None = None,
    ) -> Rig:
        account = f"{next(_accounts):012d}"
        ecs = ecs_backends[account][REGION]
        cluster = ecs.create_cluster("rig")
        revisions = {}
        for image in images:
            definition = ecs.register_task_definition(
                "api",
                container_definitions=[
                    {
                        "name": "app",
                        "image": image,
                        "portMappings": [{"containerPort": PORT}],
                        "memoryReservation": 128,
                        "stopTimeout": 20,
                    }
                ],
                network_mode="awsvpc",
                requires_compatibilities=["FARGATE"],
                cpu="256",
                memory="512",
            )
            revisions[image] = definition.arn
        ec2 = ec2_backends[account][REGION]
        vpc = ec2.create_vpc("10.30.0.0/16")
        subnet = ec2.create_subnet(vpc.id, "10.30.1.0/24", availability_zone=f"{REGION}a")
        group = elbv2_backends[account][REGION].create_target_group(
            "rig",
            protocol="HTTP",
            port=str(PORT),
            vpc_id=vpc.id,
            target_type="ip",
            healthcheck_path="/health",
            healthcheck_interval_seconds=interval,
            healthcheck_timeout_seconds=5,
            healthcheck_enabled="true" if health_check_enabled else "false",
            healthy_threshold_count=str(healthy_threshold),
            unhealthy_threshold_count=str(unhealthy_threshold),
            matcher={"HttpCode": "200"},
        )
        group.attributes["deregistration_delay.timeout_seconds"] = str(deregistration_delay)
        # The attributes ECS keeps on a service, as moto's Service and the moto fixes hold them.
        service = SimpleNamespace(
            name="api",
            cluster_name=cluster.name,
            desired_count=desired,
            deployment_configuration={
                "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": rollback},
                "maximumPercent": maximum_percent,
                "minimumHealthyPercent": minimum_healthy_percent,
                **({"alarms": alarms} if alarms is not None else {}),
            },
            health_check_grace_period_seconds=grace_period,
            load_balancers=[
                {"targetGroupArn": group.arn, "containerName": "app", "containerPort": PORT}
            ],
            task_definition=revisions[images[0]],
            launch_type="FARGATE",
            network_configuration={
                "awsvpcConfiguration": {"subnets": [subnet.id], "securityGroups": []}
            },
            platform_version=None,
        )
        svc = ServiceRecord(account, REGION, ecs, service)  # type: ignore[arg-type]
        svc.deployments.append(Deployment.of(service))  # type: ignore[arg-type]
        history.begin(svc, svc.deployments[0])
        config = SimConfig(
            check_network=False,
            provisioning_seconds=1,
            pull_seconds=1,
            activating_seconds=1,
            registration_seconds=1,
        )
        clock = ManualClock()
        executor = SyncExecutor()
        runtime = runtime or FakeRuntime()
        prober = FakeProber()
        lifecycle = Lifecycle(config, clock, executor)  # type: ignore[arg-type]
        health = HealthChecker(config, clock, lifecycle, executor, prober)  # type: ignore[arg-type]
        launcher = Launcher(config, clock, runtime)  # type: ignore[arg-type]
        scheduler = Scheduler(config, launcher, lifecycle, health)
        return Rig(svc, clock, runtime, prober, scheduler, group, revisions)

    return make
