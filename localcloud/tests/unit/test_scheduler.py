"""The rolling deployment and the circuit breaker, driven step by step (no HTTP)."""

from __future__ import annotations

import math

import pytest
from localcloud.ecs.breaker import threshold
from localcloud.ecs.model import Phase
from localcloud.ecs.taskruntime import ExitStatus

from .conftest import FakeRuntime


def complete(rig):
    rig.until(lambda: rig.primary.rollout_state == "COMPLETED")
    return rig.primary


def test_the_first_deployment_completes_once_every_task_is_healthy(make_rig):
    rig = make_rig(desired=3)

    def not_completed_early():
        if rig.primary.rollout_state == "COMPLETED":
            assert sum(t.healthy for t in rig.tasks()) == 3

    rig.run(120, check=not_completed_early)
    deployment = rig.primary
    assert deployment.rollout_state == "COMPLETED"
    assert deployment.rollout_reason == f"ECS deployment {deployment.id} completed."
    assert len(rig.runtime.processes) == 3
    assert rig.svc.last_completed is deployment
    assert [state for _, d, state in rig.scheduler.transitions if d == deployment.id] == [
        "COMPLETED"
    ]
    assert rig.messages()[0] == "(service api) has reached a steady state."
    published = rig.svc.service.deployments[0]
    assert (published["rolloutState"], published["runningCount"]) == ("COMPLETED", 3)


@pytest.mark.parametrize(
    ("minimum", "maximum"), [(100, 200), (50, 100), (50, 150), (0, 100), (100, 125)]
)
def test_a_rolling_update_stays_within_minimum_healthy_and_maximum_percent(
    make_rig, minimum, maximum
):
    desired = 4
    rig = make_rig(desired=desired, minimum_healthy_percent=minimum, maximum_percent=maximum)
    complete(rig)
    rig.deploy("app:v2")
    floor = math.ceil(desired * minimum / 100)
    ceiling = max(math.floor(desired * maximum / 100), 1)

    def within_bounds():
        tasks = rig.tasks()
        assert sum(t.active for t in tasks) <= ceiling
        assert sum(t.healthy for t in tasks) >= floor

    rig.run(600, check=within_bounds)
    assert rig.primary.rollout_state == "COMPLETED"
    assert {t.deployment.task_definition for t in rig.tasks() if t.active} == {
        rig.revisions["app:v2"]
    }
    assert len(rig.svc.deployments) == 1
    old = rig.tasks("app:v1")
    assert all(t.phase == Phase.STOPPED for t in old)
    assert {t.task.stop_code for t in old} == {"ServiceSchedulerInitiated"}


@pytest.mark.parametrize(("desired", "expected"), [(1, 3), (2, 3), (6, 3), (7, 4), (10, 5)])
def test_the_breaker_threshold_is_half_the_desired_count_clamped_to_3_to_200(desired, expected):
    assert threshold(desired) == expected
    assert threshold(10_000) == 200


def test_the_breaker_fails_a_deployment_and_rolls_back_to_the_last_completed(make_rig):
    runtime = FakeRuntime(launch_errors={"app:v2": "CannotStartContainerError: no such file"})
    rig = make_rig(desired=2, runtime=runtime)
    completed = complete(rig)
    failed = rig.deploy("app:v2")
    rig.until(lambda: failed.rollout_state != "IN_PROGRESS")
    assert failed.rollout_state == "FAILED"
    assert failed.failed_tasks >= threshold(2)  # two tasks fail per pass: 4 at the check
    assert failed.rollout_reason == "ECS deployment circuit breaker: tasks failed to start."
    rollback = rig.primary
    assert rollback is not failed
    assert rollback is not completed
    assert rollback.task_definition == completed.task_definition
    assert rollback.rollout_reason == (
        f"ECS deployment circuit breaker: rolling back to deploymentId {completed.id}."
    )
    assert rig.svc.service.task_definition == rig.revisions["app:v1"]
    assert f"(service api) rolling back to deployment {completed.id}." in rig.messages()
    # The old tasks kept serving throughout; the rollback completes on its own revision.
    assert sum(t.healthy for t in rig.tasks("app:v1")) >= 2
    complete(rig)
    assert rig.primary is rollback
    assert {s for _, d, s in rig.scheduler.transitions if d == failed.id} == {"FAILED"}


def test_without_rollback_a_failed_deployment_stalls_and_launches_nothing(make_rig):
    runtime = FakeRuntime(launch_errors={"app:v2": "CannotStartContainerError: no such file"})
    rig = make_rig(desired=2, rollback=False, runtime=runtime)
    complete(rig)
    failed = rig.deploy("app:v2")
    rig.until(lambda: failed.rollout_state == "FAILED")
    stopped = len(rig.tasks("app:v2"))
    rig.run(900, every=10)
    assert rig.primary is failed
    assert len(rig.tasks("app:v2")) == stopped  # no launch once FAILED
    assert sum(t.healthy for t in rig.tasks("app:v1")) == 2  # the old tasks keep serving


def test_without_the_breaker_ecs_keeps_retrying_with_a_growing_back_off(make_rig):
    runtime = FakeRuntime(launch_errors={"app:v2": "CannotStartContainerError: no such file"})
    rig = make_rig(desired=1, circuit_breaker=False, runtime=runtime)
    complete(rig)
    failed = rig.deploy("app:v2")
    waits = []
    for count in range(1, 7):
        rig.until(lambda n=count: failed.consecutive_launch_failures == n, limit=1000)
        waits.append(failed.next_launch_at - rig.clock.t)
    assert waits == [10, 20, 40, 80, 160, 300]  # 10 s doubling, capped at 300 s
    assert failed.rollout_state == "IN_PROGRESS"
    assert failed.failed_tasks == 6
    assert any("unable to consistently start tasks" in m for m in rig.messages())


def test_a_healthy_task_resets_the_failed_task_count(make_rig):
    rig = make_rig(desired=2)
    complete(rig)
    deployment = rig.deploy("app:v2")
    rig.until(lambda: any(t.phase == Phase.RUNNING for t in rig.tasks("app:v2")))
    # One of the new tasks crashes before it is ever healthy: it counts.
    crashed = rig.tasks("app:v2")[0]
    crashed.process.exit_status = ExitStatus(1)
    rig.until(lambda: deployment.failed_tasks == 1)
    assert crashed.task.stop_code == "EssentialContainerExited"
    # A later task turning healthy resets it (resetOnHealthyTask defaults to true).
    rig.until(lambda: any(t.healthy for t in rig.tasks("app:v2")))
    assert deployment.failed_tasks == 0
    complete(rig)


def test_no_capacity_places_no_task_and_counts_a_failure(make_rig):
    rig = make_rig(desired=2, circuit_breaker=False)
    rig.svc.capacity_shortage = True
    rig.run(30)
    assert rig.tasks() == []
    assert rig.primary.failed_tasks >= 1
    assert any("was unable to place a task" in m for m in rig.messages())
    rig.svc.capacity_shortage = False
    complete(rig)
