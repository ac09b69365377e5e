"""How a task stops: draining its targets, SIGTERM then SIGKILL, ``stopCode`` and exit codes.

ECS stops a task in three steps
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html):
DEACTIVATING while its targets drain for the target group's deregistration delay
(``Target.DeregistrationInProgress``), STOPPING while the container gets SIGTERM and, after its
``stopTimeout``, SIGKILL, then STOPPED with the container's exit code. A task whose container
was never started skips the first two; one whose container is still starting skips draining (it
has no target yet) but is stopped like any other, and STOPPED only once its process is gone. A
container that exits by itself stops its task with ``EssentialContainerExited`` and, if it was
never healthy, counts against the deployment; one that exits after ECS decided to stop the task
(whatever the phase it is seen in) keeps ECS's ``stopCode`` and reason.
"""

from __future__ import annotations

from concurrent.futures import Executor

from localcloud.ecs import backends
from localcloud.ecs.breaker import count_failure
from localcloud.ecs.clock import SimClock
from localcloud.ecs.model import STARTING, Phase, ServiceRecord, SimConfig, Target, TaskRecord
from localcloud.ecs.taskruntime import ExitStatus
from localcloud.ecs.tasks import utcnow


def set_phase(task: TaskRecord, phase: str, now: float) -> None:
    """Move ``task`` to ``phase`` (its ``lastStatus``) at simulated time ``now``."""
    task.phase = phase
    task.since = now
    task.task.status = phase


def finish_stop(task: TaskRecord, status: ExitStatus | None, now: float) -> None:
    """STOPPED: timestamps, connectivity, the containers' exit codes (``status``, if any)."""
    set_phase(task, Phase.STOPPED, now)
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


def deregister(svc: ServiceRecord, task: TaskRecord, target: Target) -> None:
    """Forget ``target`` once drained, in the simulator and in moto's target group."""
    task.targets.remove(target)
    group = backends.target_group(svc.account, svc.region, target.group_arn)
    if group is not None and target.ip in group.targets:
        group.deregister([{"Id": target.ip}])


class Lifecycle:
    """Stops tasks; process stops run on ``executor`` (they wait for the process to exit)."""

    def __init__(self, config: SimConfig, clock: SimClock, executor: Executor) -> None:
        self.config = config
        self.clock = clock
        self.executor = executor

    def stop_task(self, svc: ServiceRecord, task: TaskRecord, code: str, reason: str) -> None:
        """ECS decided to stop ``task`` (``stopCode`` ``code``, ``stoppedReason`` ``reason``);
        a task already stopping keeps the reason it is stopping for."""
        now = self.clock.now()
        if task.phase in (Phase.STOPPING, Phase.STOPPED, Phase.DEACTIVATING):
            return
        task.stop_decided = True
        task.task.desired_status = "STOPPED"
        task.task.stop_code = code
        task.task.stopped_reason = reason
        task.task.stopping_at = utcnow()
        if task.phase in STARTING:
            # A container still starting is stopped as a running one is (SIGTERM, SIGKILL
            # after stopTimeout) and its exit code recorded; with none started, it is over.
            self.begin_stopping(task, now)
            return
        set_phase(task, Phase.DEACTIVATING, now)
        self.drain_targets(svc, task, now)
        if not task.targets:
            self.begin_stopping(task, now)

    def drain_targets(self, svc: ServiceRecord, task: TaskRecord, now: float) -> None:
        """Every target of ``task`` drains for its group's deregistration delay."""
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
            svc.event(
                f"deregistered {len(task.targets)} targets in "
                f"(target-group {task.targets[0].group_arn})"
            )

    def begin_stopping(self, task: TaskRecord, now: float) -> None:
        """STOPPING: SIGTERM, SIGKILL after the container's (scaled) stopTimeout."""
        set_phase(task, Phase.STOPPING, now)
        if task.process is None:
            finish_stop(task, None, now)
            return
        task.stop_future = self.executor.submit(
            task.process.stop, self.clock.real(task.stop_timeout)
        )

    def container_exited(
        self, svc: ServiceRecord, task: TaskRecord, status: ExitStatus, now: float
    ) -> None:
        """The container's process exited: by itself (EssentialContainerExited), or as the
        end of a stop ECS began."""
        was_scheduled_stop = task.stop_decided
        if not was_scheduled_stop:
            task.task.desired_status = "STOPPED"
            task.task.stop_code = "EssentialContainerExited"
            task.task.stopped_reason = "Essential container in task exited"
            task.task.stopping_at = utcnow()
            self.drain_targets(svc, task, now)
        finish_stop(task, status, now)
        if not was_scheduled_stop and not task.ever_healthy:
            count_failure(svc, task.deployment, now, self.config)
