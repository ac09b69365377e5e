"""Classifying a followed deployment: rolled back is never success."""

from __future__ import annotations

from opsctl.rollout import Verdict, classify, explain, failure_threshold


def test_completed(make):
    service = make.service(make.deployment("ecs-svc/2", 2))
    assert classify(service, "ecs-svc/2", frozenset({"ecs-svc/1"}), False) == Verdict.COMPLETED


def test_in_progress(make):
    ours = make.deployment("ecs-svc/2", 2, rollout_state="IN_PROGRESS")
    service = make.service(ours, make.deployment("ecs-svc/1", status="ACTIVE"))
    assert classify(service, "ecs-svc/2", frozenset({"ecs-svc/1"}), False) == Verdict.IN_PROGRESS


def test_failed_with_a_circuit_breaker_rollback_is_rolled_back(make):
    rollback = make.deployment(
        "ecs-svc/3",
        1,
        rollout_state="IN_PROGRESS",
        rollout_reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.",
    )
    ours = make.deployment("ecs-svc/2", 2, status="ACTIVE", rollout_state="FAILED")
    service = make.service(rollback, ours)
    assert classify(service, "ecs-svc/2", frozenset({"ecs-svc/1"}), True) == Verdict.ROLLED_BACK
    # Even when the rollback completed and our deployment is already gone.
    done = make.service(make.deployment("ecs-svc/3", 1, rollout_reason=rollback.rollout_reason))
    assert classify(done, "ecs-svc/2", frozenset({"ecs-svc/1"}), False) == Verdict.ROLLED_BACK


def test_a_rollback_that_existed_before_us_is_not_ours(make):
    old_rollback = make.deployment(
        "ecs-svc/1",
        status="ACTIVE",
        rollout_reason="ECS deployment circuit breaker: rolling back to x.",
    )
    ours = make.deployment("ecs-svc/2", 2, rollout_state="FAILED")
    service = make.service(ours, old_rollback)
    assert classify(service, "ecs-svc/2", frozenset({"ecs-svc/1"}), True) == Verdict.FAILED


def test_failed_without_rollback(make):
    ours = make.deployment("ecs-svc/2", 2, rollout_state="FAILED")
    assert classify(make.service(ours), "ecs-svc/2", frozenset(), True) == Verdict.FAILED


def test_superseded_by_someone_elses_deployment(make):
    theirs = make.deployment("ecs-svc/9", 3, rollout_state="IN_PROGRESS")
    ours = make.deployment("ecs-svc/2", 2, status="ACTIVE", rollout_state="IN_PROGRESS")
    assert (
        classify(make.service(theirs, ours), "ecs-svc/2", frozenset(), False) == Verdict.SUPERSEDED
    )
    assert classify(make.service(theirs), "ecs-svc/2", frozenset(), False) == Verdict.SUPERSEDED


def test_circuit_breaker_threshold_is_half_the_desired_count_clamped(make):
    assert failure_threshold(make.service(desired=1)) == 3
    assert failure_threshold(make.service(desired=10)) == 5
    assert failure_threshold(make.service(desired=1000)) == 200
    assert failure_threshold(make.service(circuit_breaker_enabled=False)) is None


def test_timeout_explanation_names_counts_failures_reasons_and_targets(make):
    ours = make.deployment("ecs-svc/2", 2, rollout_state="IN_PROGRESS", running=0, failed_tasks=4)
    service = make.service(ours, circuit_breaker_enabled=False)
    stopped = (
        make.task(
            "a", started_by="ecs-svc/2", reason="Task failed ELB health checks in (target-group x)"
        ),
    )
    targets = (
        make.health(
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [500]",
        ),
    )
    lines = explain(Verdict.TIMED_OUT, service, ours, None, stopped, targets, 600, ())
    text = "\n".join(lines)
    assert "still IN_PROGRESS after 600 s: 0/2 tasks running" in text
    assert "4 tasks of it failed (circuit breaker off: ECS keeps retrying forever)" in text
    assert "Task failed ELB health checks" in text
    assert "Target.ResponseCodeMismatch" in text
    assert "opsctl diagnose" in text
    assert explain(Verdict.COMPLETED, service, ours, None, (), (), 1, ()) == ()
