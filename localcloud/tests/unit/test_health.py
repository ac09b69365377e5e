"""ALB target health and what ECS does about it, driven step by step (no HTTP)."""

from __future__ import annotations

import pytest
from localcloud.ecs.backends import HealthCheck
from localcloud.ecs.model import Phase


def target_of(rig, task):
    (target,) = task.targets
    return target


def running(rig):
    rig.until(lambda: len(rig.tasks()) == 2 and all(t.phase == Phase.RUNNING for t in rig.tasks()))
    return rig.tasks()


def test_a_new_target_goes_from_registration_to_initial_checks_to_healthy(make_rig):
    rig = make_rig(healthy_threshold=3)
    task = running(rig)[0]
    target = target_of(rig, task)
    assert (target.state, target.reason) == ("initial", "Elb.RegistrationInProgress")
    assert rig.group.targets[task.task.private_ip]["Port"] == 8000  # registered in moto too
    seen = []
    rig.until(lambda: seen.append((target.state, target.reason)) or target.state == "healthy")
    assert ("initial", "Elb.InitialHealthChecking") in seen
    # Three good checks, one interval (10 s) apart: not healthy before the third.
    assert [s for s, _ in seen].count("initial") >= 2 * 10
    assert (target.reason, target.description) == (None, None)
    assert task.ever_healthy
    assert task.task.health_status == "HEALTHY"
    assert all(path == "/health" for _, path in rig.prober.calls)


@pytest.mark.parametrize(
    ("answer", "reason", "description"),
    [
        (500, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]"),
        (404, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]"),
        ("timeout", "Target.Timeout", "Request timed out"),
    ],
)
def test_failed_checks_make_a_target_unhealthy_with_the_elb_reason(
    make_rig, answer, reason, description
):
    rig = make_rig(grace_period=3600, unhealthy_threshold=3)
    task = running(rig)[0]
    target = target_of(rig, task)
    rig.prober.answers[task.process.address(8000)] = answer
    failures = []
    rig.until(lambda: failures.append(target.fail_streak) or target.state == "unhealthy")
    # Below the threshold the target stays in its initial checks.
    assert max(failures[:-1]) < 3
    assert (target.reason, target.description) == (reason, description)
    assert task.task.health_status == "UNHEALTHY"
    assert any(
        f"is unhealthy in (target-group {rig.group.arn}) due to (reason {description})" in m
        for m in rig.messages()
    )


def test_a_process_that_listens_nowhere_fails_with_failed_health_checks(make_rig):
    rig = make_rig(grace_period=3600, images=("deaf:v1",))
    rig.runtime.deaf.add("deaf:v1")
    task = running(rig)[0]
    target = target_of(rig, task)
    rig.until(lambda: target.state == "unhealthy")
    assert target.reason == "Target.FailedHealthChecks"
    assert rig.prober.calls == []  # nothing to connect to: no HTTP request is ever made


def test_one_good_answer_resets_the_failure_streak(make_rig):
    rig = make_rig(grace_period=3600, unhealthy_threshold=2)
    task = running(rig)[0]
    target = target_of(rig, task)
    rig.until(lambda: target.state == "healthy")
    address = task.process.address(8000)
    rig.prober.answers[address] = 500
    rig.until(lambda: target.fail_streak == 1)
    rig.prober.answers[address] = 200
    rig.until(lambda: target.ok_streak == 1)
    rig.prober.answers[address] = 500
    rig.until(lambda: target.fail_streak == 1)
    assert target.state == "healthy"  # never two failures in a row
    rig.until(lambda: target.state == "unhealthy")
    assert target.fail_streak == 2


def test_an_unhealthy_task_is_stopped_only_after_the_grace_period(make_rig):
    rig = make_rig(grace_period=120, circuit_breaker=False)
    task = running(rig)[0]
    target = target_of(rig, task)
    rig.prober.answers[task.process.address(8000)] = 500
    rig.until(lambda: target.state == "unhealthy")
    assert rig.clock.t < task.started + 120
    assert task.phase == Phase.RUNNING  # inside the grace period
    rig.until(lambda: task.phase != Phase.RUNNING)
    assert rig.clock.t >= task.started + 120
    assert task.phase == Phase.DEACTIVATING
    assert task.task.stop_code == "ServiceSchedulerInitiated"
    assert task.task.stopped_reason == (
        f"Task failed ELB health checks in (target-group {rig.group.arn})"
    )
    assert f"(service api) has stopped 1 running tasks: (task {task.task.id})." in rig.messages()
    assert task.deployment.failed_tasks == 1


def test_a_stopping_task_drains_for_the_deregistration_delay_then_gets_sigterm(make_rig):
    rig = make_rig(deregistration_delay=45, circuit_breaker=False)
    task = running(rig)[0]
    rig.until(lambda: task.healthy)
    target = target_of(rig, task)
    rig.scheduler.lifecycle.stop_task(rig.svc, task, "UserInitiated", "by hand")
    began = rig.clock.t
    assert (task.phase, target.state) == (Phase.DEACTIVATING, "draining")
    assert target.reason == "Target.DeregistrationInProgress"
    rig.until(lambda: task.phase == Phase.STOPPED)
    assert rig.clock.t - began >= 45
    assert task.process.stops == [20]  # the container's stopTimeout, scaled (scale 1 here)
    assert task.task.sim_containers[0].exit_code == 143
    assert task.targets == []
    assert task.task.private_ip not in rig.group.targets  # deregistered from moto


def test_disabled_health_checks_count_as_passing_without_a_request(make_rig):
    rig = make_rig(health_check_enabled=False)
    rig.until(lambda: rig.primary.rollout_state == "COMPLETED")
    assert rig.prober.calls == []


def test_the_matcher_accepts_codes_lists_and_ranges():
    check = HealthCheck(
        enabled=True,
        path="/",
        port="traffic-port",
        interval=30,
        timeout=5,
        healthy_threshold=5,
        unhealthy_threshold=2,
        matcher="200,302-304",
        deregistration_delay=300,
    )
    assert [code for code in (199, 200, 201, 302, 303, 304, 305) if check.matches(code)] == [
        200,
        302,
        303,
        304,
    ]
    assert check.port_for(8000) == 8000
