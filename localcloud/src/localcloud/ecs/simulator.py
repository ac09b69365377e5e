"""The ECS simulator's facade: one object that owns what ECS and the ALB do by themselves.

:class:`Simulator` ties the parts together: the moto hooks (:mod:`.hooks`) tell it about
CreateService, UpdateService, DeleteService and StopTask; a thread runs the scheduler
(:mod:`.scheduler`) over every service every ``SimConfig.tick`` real seconds, which launches
tasks (:mod:`.launcher`), health-checks targets (:mod:`.health`) and stops tasks
(:mod:`.lifecycle`); :mod:`.publish` writes the result back to moto. The same thread publishes
the per-minute metrics AWS publishes about a service (:mod:`.metrics`) and evaluates CloudWatch
alarms (:mod:`localcloud.cloudwatch`), on the same time scale. The simulated ALB
(:mod:`localcloud.alb`) asks it where requests may go; the service deployment calls
(:mod:`.api`) read and stop its service deployments (:mod:`.history`). Tests, drills and the
local cloud use the control methods at the end (:meth:`Simulator.settle`,
:meth:`Simulator.wait_for`, ...).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from moto.ecs.models import EC2ContainerServiceBackend, Service, ecs_backends

from localcloud.alb import IDLE_TIMEOUT_SECONDS, AlbFront
from localcloud.cloudwatch import AlarmEvaluator
from localcloud.ecs import history, hooks, metrics
from localcloud.ecs.api import Stop
from localcloud.ecs.clock import SimClock
from localcloud.ecs.health import HealthChecker
from localcloud.ecs.launcher import Launcher
from localcloud.ecs.lifecycle import Lifecycle
from localcloud.ecs.model import Deployment, Phase, ServiceRecord, SimConfig, Target
from localcloud.ecs.publish import publish
from localcloud.ecs.scheduler import Scheduler
from localcloud.ecs.servicedeployments import (
    STOPPABLE,
    STOPPING,
    ServiceDeployment,
    ServiceRevision,
    Status,
)
from localcloud.ecs.taskruntime import TaskRuntime
from localcloud.ecs.tasks import SimTask, utcnow

CLOSED_PORT = 1
"""A loopback port nothing listens on (tcpmux, port 1, is never served here): where the ALB
sends a request for a target whose process has no address, so it fails as a dead target does."""


class Simulator:
    """Owns ECS service and ALB state transitions inside the emulator's process.

    Use as a context manager after the :class:`~localcloud.emulator.Emulator` started, or call
    :meth:`start`/:meth:`stop`. Only one simulator may be active in a process (moto's state is
    global); services that exist when it starts are adopted.
    """

    def __init__(self, runtime: TaskRuntime, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.clock = SimClock(self.config.time_scale)
        self._lock = threading.RLock()
        self._services: dict[tuple[str, str, str, str], ServiceRecord] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ecs-sim")
        self._alb: AlbFront | None = None
        lifecycle = Lifecycle(self.config, self.clock, self._pool)
        self._launcher = Launcher(self.config, self.clock, runtime)
        self._scheduler = Scheduler(
            self.config,
            self._launcher,
            lifecycle,
            HealthChecker(self.config, self.clock, lifecycle, self._pool),
        )
        self._lifecycle = lifecycle
        self._alarms = AlarmEvaluator(self.config.time_scale, self.config.alarm_evaluation_seconds)
        self.evaluating_alarms = self.config.evaluate_alarms
        """Whether CloudWatch's alarm evaluation runs (each pass, for the alarms that are due);
        off, alarms keep the states they are created or set in, as moto leaves them."""
        self._next_minute: dict[tuple[str, str, str, str], float] = {}

    @property
    def runtime(self) -> TaskRuntime:
        """Where task processes run (a test may swap it between launches)."""
        return self._launcher.runtime

    @runtime.setter
    def runtime(self, runtime: TaskRuntime) -> None:
        self._launcher.runtime = runtime

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Simulator:
        hooks.activate(self)
        with self._lock:
            for backend in _ecs_backends():
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
        hooks.deactivate(self)
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
                # A bug in one pass must not stop the simulated AWS: report it, go on.
                traceback.print_exc()

    def step(self) -> None:
        """One scheduler pass over every service, then the per-minute metrics and the alarms
        that are due."""
        with self._lock:
            now = self.clock.now()
            for key, svc in list(self._services.items()):
                if svc.backend.services.get(f"{svc.cluster}:{svc.name}") is not svc.service:
                    self._forget(key, svc)
                    continue
                self._scheduler.step(svc, now)
                publish(svc)
                if now >= self._next_minute.get(key, 0.0):
                    self._next_minute[key] = now + metrics.MINUTE
                    metrics.publish_minute(svc)
        # Outside the lock: an evaluation reads all of CloudWatch's metric data, and the ALB
        # must not wait for it (the scheduler reads alarm states from moto, as ECS reads them
        # from CloudWatch).
        if self.evaluating_alarms:
            self._alarms.run()

    def forget_all(self) -> None:
        """Drop every simulated service and stop their processes (before an emulator reset)."""
        with self._lock:
            for key, svc in list(self._services.items()):
                self._forget(key, svc)
            if self._alb is not None:
                self._alb.close()
                self._alb = None

    def _forget(self, key: tuple[str, str, str, str], svc: ServiceRecord) -> None:
        del self._services[key]
        self._next_minute.pop(key, None)
        for task in svc.tasks.values():
            if task.process is not None:
                self._pool.submit(task.process.stop, 0)

    # --- hooks called by moto (request threads): hooks.SimulatorHooks -----------------------

    def on_service_created(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        with self._lock:
            svc = ServiceRecord(backend.account_id, backend.region_name, backend, service)
            svc.events = deque(maxlen=self.config.max_events)
            if service.task_definition:
                deployment = Deployment.of(service)
                svc.deployments.append(deployment)
                history.begin(svc, deployment)
            self._services[svc.key] = svc
            publish(svc)

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
                deployment = Deployment.of(service)
                svc.deployments.insert(0, deployment)
                history.begin(svc, deployment)
            publish(svc)

    def on_service_deleted(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        with self._lock:
            key = (backend.account_id, backend.region_name, service.cluster_name, service.name)
            svc = self._services.get(key)
            if svc is not None:
                for task in list(svc.tasks.values()):
                    if task.phase != Phase.STOPPED:
                        self._lifecycle.stop_task(
                            svc, task, "ServiceSchedulerInitiated", "Service deleted"
                        )
                svc.deployments.clear()
                # "When you delete a service, Amazon ECS deletes the corresponding service
                # deployments." https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html
                svc.service_deployments.clear()
                svc.revisions.clear()
                publish(svc)

    def on_task_stopped_by_user(self, task: SimTask, reason: str) -> bool:
        with self._lock:
            for svc in self._services.values():
                record = svc.tasks.get(task.id)
                if record is not None:
                    if record.phase != Phase.STOPPED:
                        self._lifecycle.stop_task(
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

    # --- service deployments: api.Deployments (request threads) ------------------------------

    def service_deployments(
        self, account: str, region: str, cluster: str, service: str
    ) -> list[ServiceDeployment] | None:
        with self._lock:
            svc = self._services.get((account, region, cluster, service))
            return list(svc.service_deployments) if svc is not None else None

    def service_deployment(self, arn: str) -> ServiceDeployment | None:
        with self._lock:
            for svc in self._services.values():
                record = history.find(svc, arn)
                if record is not None:
                    return record
        return None

    def stop_service_deployment(self, arn: str) -> Stop | None:
        """StopServiceDeployment(ROLLBACK): ROLLBACK_REQUESTED now; the scheduler's next pass
        fails the deployment and starts the rollback (``Scheduler.watch``)."""
        with self._lock:
            for svc in self._services.values():
                record = history.find(svc, arn)
                if record is None:
                    continue
                if record.status in STOPPING:
                    return Stop.CONTINUES
                if record.status not in STOPPABLE:
                    return Stop.FINISHED
                if svc.last_completed is None:
                    return Stop.NO_SOURCE
                record.move(
                    Status.ROLLBACK_REQUESTED, "Rollback requested by StopServiceDeployment."
                )
                return Stop.REQUESTED
        return None

    def service_revision(self, arn: str) -> ServiceRevision | None:
        with self._lock:
            for svc in self._services.values():
                if arn in svc.revisions:
                    return svc.revisions[arn]
        return None

    # --- for the simulated ALB: alb.Routing -------------------------------------------------

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
                        candidates[target.state].append(address or ("127.0.0.1", CLOSED_PORT))
            return candidates["healthy"] or candidates["unhealthy"]

    def alb_url(self, load_balancer: str, port: int = 0) -> str:
        """The simulated ALB's URL on 127.0.0.1 for a load balancer ARN or name, listening on
        ``port`` when it starts (0: a free port)."""
        return self.alb_front().url(load_balancer, port)

    def alb_front(self) -> AlbFront:
        """The simulated ALB listeners (one per load balancer, started on first use)."""
        with self._lock:
            if self._alb is None:
                # Never less than half a second: scaled time must not turn a busy machine's
                # slow answer into the ALB's 504.
                idle_timeout = max(self.clock.real(IDLE_TIMEOUT_SECONDS), 0.5)
                self._alb = AlbFront(self, idle_timeout)
            return self._alb

    # --- control API for tests, drills and the local cloud ----------------------------------

    def rollout_transitions(self, deployment_id: str) -> list[tuple[float, str]]:
        """``(wall-clock time, rolloutState)`` each time the deployment COMPLETED or FAILED."""
        with self._lock:
            return [(t, state) for t, d, state in self._scheduler.transitions if d == deployment_id]

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

    def _find(self, cluster: str, service: str) -> ServiceRecord:
        for svc in self._services.values():
            if svc.cluster == cluster and svc.name == service:
                return svc
        raise KeyError(f"no simulated service {cluster}/{service}")

    def _targets(self) -> Iterator[Target]:
        for svc in self._services.values():
            for task in svc.tasks.values():
                yield from task.targets


def _ecs_backends() -> Iterator[EC2ContainerServiceBackend]:
    for regional in list(ecs_backends.values()):
        yield from list(regional.values())
