"""Service deployments follow the rollouts: their statuses, revisions, counts and rollbacks,
driven step by step (no HTTP)."""

from __future__ import annotations

from localcloud.ecs import history
from localcloud.ecs.servicedeployments import Monitor, Status

from .conftest import FakeRuntime

BROKEN = FakeRuntime(launch_errors={"app:v2": "CannotStartContainerError: no such file"})


def complete(rig):
    rig.until(lambda: rig.primary.rollout_state == "COMPLETED")
    return rig.primary


def record_of(deployment):
    assert deployment.service_deployment is not None
    return deployment.service_deployment


def test_a_deployment_goes_pending_in_progress_successful(make_rig):
    rig = make_rig(desired=2)
    first = record_of(rig.primary)
    assert first.status == Status.PENDING
    assert first.started_at is None
    rig.step()
    assert first.status == Status.IN_PROGRESS
    assert first.started_at is not None
    assert first.target.requested == 2
    complete(rig)
    assert first.status == Status.SUCCESSFUL
    assert first.finished_at >= first.started_at
    assert (first.target.running, first.target.pending) == (2, 0)
    assert first.sources == []
    assert first.breaker_status == Monitor.MONITORING_COMPLETE
    assert first.alarm_status == Monitor.DISABLED


def test_the_next_deployment_has_the_running_revision_as_its_source(make_rig):
    rig = make_rig(desired=2)
    old = complete(rig)
    new = rig.deploy("app:v2")
    record = record_of(new)
    assert [s.revision for s in record.sources] == [old.revision]
    assert record.target.revision.task_definition == rig.revisions["app:v2"]
    # One revision per deployment id, numbered like it (ecs-svc/<n> -> .../<n>).
    assert record.target.revision.arn.endswith("/" + new.id.split("/")[1])
    assert ":service-revision/rig/api/" in record.target.revision.arn
    assert ":service-deployment/rig/api/" in record.arn
    rig.step()
    assert record.sources[0].running == 2  # the old tasks, counted under the source revision
    complete(rig)
    assert record.status == Status.SUCCESSFUL
    assert rig.svc.service_deployments == [record, record_of(old)]


def test_a_newer_deployment_stops_the_one_in_progress(make_rig):
    rig = make_rig(desired=2, images=("app:v1", "app:v2", "app:v3"))
    complete(rig)
    superseded = record_of(rig.deploy("app:v2"))
    rig.step()
    newer = record_of(rig.deploy("app:v3"))
    assert superseded.status == Status.STOPPED
    assert superseded.status_reason == history.SUPERSEDED
    assert superseded.stopped_at is not None
    assert newer.status == Status.PENDING


def test_a_circuit_breaker_rollback_is_rollback_in_progress_then_successful(make_rig):
    rig = make_rig(desired=2, runtime=BROKEN)
    completed = complete(rig)
    failed = rig.deploy("app:v2")
    record = record_of(failed)
    rig.until(lambda: failed.rollout_state == "FAILED")
    assert record.status == Status.ROLLBACK_IN_PROGRESS
    assert record.status_reason == "ECS deployment circuit breaker: tasks failed to start."
    assert record.breaker_status == Monitor.TRIGGERED
    assert record.breaker_failures >= record.breaker_threshold == 3
    rollback = rig.primary
    assert record.rollback["serviceRevisionArn"] == rollback.revision.arn
    assert rollback.revision.task_definition == completed.task_definition
    complete(rig)
    assert record.status == Status.ROLLBACK_SUCCESSFUL
    assert record.finished_at is not None
    # The rollback is part of the failed service deployment, not one of its own.
    assert [r.status for r in rig.svc.service_deployments] == [
        Status.ROLLBACK_SUCCESSFUL,
        Status.SUCCESSFUL,
    ]


def test_a_breaker_failure_without_rollback_stops_the_service_deployment(make_rig):
    rig = make_rig(desired=2, rollback=False, runtime=BROKEN)
    complete(rig)
    failed = rig.deploy("app:v2")
    rig.until(lambda: failed.rollout_state == "FAILED")
    record = record_of(failed)
    assert record.status == Status.STOPPED
    assert record.stopped_at is not None
    assert record.rollback is None


def test_a_first_deployment_that_fails_has_nothing_to_roll_back_to(make_rig):
    runtime = FakeRuntime(launch_errors={"app:v1": "CannotStartContainerError: no such file"})
    rig = make_rig(desired=2, runtime=runtime)
    first = rig.primary
    rig.until(lambda: first.rollout_state == "FAILED")
    assert record_of(first).status == Status.STOPPED
    assert rig.primary is first


def test_stop_with_rollback_rolls_back_as_the_breaker_does(make_rig):
    rig = make_rig(desired=2)
    completed = complete(rig)
    slow = rig.deploy("app:v2")
    rig.step()
    record = record_of(slow)
    assert record.status == Status.IN_PROGRESS
    record.move(Status.ROLLBACK_REQUESTED, "Rollback requested by StopServiceDeployment.")
    rig.step()
    assert slow.rollout_state == "FAILED"
    assert record.status == Status.ROLLBACK_IN_PROGRESS
    rollback = rig.primary
    assert rollback.is_rollback
    assert rollback.task_definition == completed.task_definition
    assert rollback.rollout_reason == (
        f"ECS deployment rollback requested: rolling back to deploymentId {completed.id}."
    )
    messages = rig.messages()
    assert f"(service api) rolling back to deployment {completed.id}." in messages
    assert f"(service api) (deployment {slow.id}) deployment failed: rollback requested." in (
        messages
    )
    assert record.breaker_status == Monitor.MONITORING  # not what stopped it
    complete(rig)
    assert record.status == Status.ROLLBACK_SUCCESSFUL
    assert {t.task.task_definition_arn for t in rig.tasks() if t.active} == {
        rig.revisions["app:v1"]
    }


def test_a_rollback_that_fails_too_is_rollback_failed(make_rig):
    runtime = FakeRuntime(launch_errors={"app:v2": "CannotStartContainerError: no such file"})
    rig = make_rig(desired=1, runtime=runtime)
    complete(rig)
    failed = rig.deploy("app:v2")
    rig.until(lambda: failed.rollout_state == "FAILED")
    record = record_of(failed)
    rollback = rig.primary
    # The revision rolled back to cannot start any more either.
    runtime.launch_errors["app:v1"] = "CannotPullContainerError: image gone"
    rig.until(lambda: rollback.rollout_state == "FAILED", limit=3000)
    assert record.status == Status.ROLLBACK_FAILED
