"""How ECS stops a task, whatever phase it is in when ECS decides to (no HTTP, a clock the test
moves, process stops run when the test lets them)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from localcloud.ecs.model import Phase
from localcloud.ecs.taskruntime import ExitStatus

SCALING = "Scaling activity initiated by (deployment ecs-svc/1)"


class HeldExecutor(Executor):
    """Runs a submitted call only when the test releases it, as a busy pool thread would."""

    def __init__(self) -> None:
        self.held: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.held.append((future, fn, args))
        return future

    def release(self) -> None:
        held, self.held = self.held, []
        for future, fn, args in held:
            future.set_result(fn(*args))


def starting_task(rig):
    rig.until(lambda: any(t.phase == Phase.ACTIVATING for t in rig.tasks()))
    return next(t for t in rig.tasks() if t.phase == Phase.ACTIVATING)


def test_a_task_stopped_while_its_container_starts_keeps_ecs_stop_code_and_exit_code(make_rig):
    rig = make_rig(desired=1, circuit_breaker=False)
    executor = HeldExecutor()
    rig.scheduler.lifecycle.executor = executor
    task = starting_task(rig)
    process = task.process
    rig.scheduler.lifecycle.stop_task(rig.svc, task, "ServiceSchedulerInitiated", SCALING)
    # ECS sends the stop; the task is STOPPING, not STOPPED, while the container still runs.
    assert task.phase == Phase.STOPPING
    rig.step()
    assert task.phase == Phase.STOPPING
    assert process.exit_status is None
    # The container dies of the SIGTERM (143) before the scheduler looks again.
    executor.release()
    assert process.stops == [20.0]  # SIGTERM, SIGKILL after the container's stopTimeout
    rig.step()
    assert task.phase == Phase.STOPPED
    assert task.task.stop_code == "ServiceSchedulerInitiated"
    assert task.task.stopped_reason == SCALING
    assert task.task.sim_containers[0].exit_code == 143
    assert task.deployment.failed_tasks == 0  # ECS stopped it: not a failure of the task


def test_a_container_that_exits_after_ecs_decided_to_stop_it_is_not_essential_container_exited(
    make_rig,
):
    rig = make_rig(desired=1, circuit_breaker=False)
    task = starting_task(rig)
    rig.step()
    assert task.phase == Phase.RUNNING
    rig.scheduler.lifecycle.stop_task(rig.svc, task, "ServiceSchedulerInitiated", SCALING)
    assert task.phase == Phase.DEACTIVATING  # draining its target
    task.process.exit_status = ExitStatus(143)
    rig.step()
    assert task.phase == Phase.STOPPED
    assert (task.task.stop_code, task.task.stopped_reason) == ("ServiceSchedulerInitiated", SCALING)
    assert task.task.sim_containers[0].exit_code == 143
    # A later decision does not relabel a task that is already stopping or stopped.
    rig.scheduler.lifecycle.stop_task(rig.svc, task, "UserInitiated", "by hand")
    assert task.task.stop_code == "ServiceSchedulerInitiated"
