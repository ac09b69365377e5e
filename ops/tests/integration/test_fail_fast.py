"""Fail fast: tasks that keep stopping for one decisive reason end the wait at once, with the
reason and the evidence, instead of waiting for the circuit breaker or the time-out."""

from __future__ import annotations

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions

NO_BREAKER = StackOptions(circuit_breaker=False, rollback=False)


def test_the_same_exit_code_three_times_ends_the_wait_with_the_evidence(make_scenario):
    s = make_scenario(NO_BREAKER, {"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--timeout", "60")
    assert run.returncode == 16, run
    doc = run.json
    assert doc["outcome"] == "failing"
    assert run.seconds < 30, run  # far from the 60 s time-out: it did not wait for it
    fail = doc["fail_fast"]
    assert fail["kind"] == "exit_code"
    assert fail["reason"] == "essential container app exited with 1"
    assert fail["tasks"] >= 3
    assert fail["threshold"] == 3
    assert fail["exit_code"] == 1
    assert "Essential container in task exited" in fail["stopped_reason"]
    assert any("ValidationError" in line for line in fail["log_lines"]), fail
    explanation = " ".join(doc["explanation"])
    assert "the circuit breaker is off: ECS would retry forever" in explanation
    assert "last output of task" in explanation
    # opsctl stopped waiting; it changed nothing in ECS, and it says how to stop the rollout.
    assert s.service()["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert "`opsctl rollback` stops it" in explanation
    tags = s.client("ecs").describe_task_definition(
        taskDefinition=f"{s.stack.family}:2", include=["TAGS"]
    )["tags"]
    assert {"key": "opsctl:failed-outcome", "value": "failing"} in tags
    text = s.opsctl("deploy", "--image-tag", "v2", "--timeout", "20")
    assert "is FAILING: stopped waiting (fail fast)" in text.stdout, text


def test_an_image_that_cannot_be_pulled_fails_fast(make_scenario):
    s = make_scenario(NO_BREAKER, {"v2": scripted.PULL_FAILS})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--timeout", "60")
    assert run.returncode == 16, run
    fail = run.json["fail_fast"]
    assert fail["kind"] == "image_pull"
    assert fail["reason"] == "CannotPullContainerError"
    assert fail["exit_code"] is None


def test_fail_fast_0_waits_for_ecs(make_scenario):
    s = make_scenario(NO_BREAKER, {"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    run = s.opsctl(
        "--output", "json", "deploy", "--image-tag", "v2", "--timeout", "3", "--fail-fast", "0"
    )
    assert run.returncode == 12, run
    assert run.json["fail_fast"] is None


def test_the_circuit_breaker_still_decides_when_it_counts_as_many(make_scenario):
    # desired 2: the breaker's threshold is 3, like --fail-fast's: its rollback is the verdict.
    s = make_scenario(behaviours={"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 10, run
    assert run.json["fail_fast"] is None


def test_fail_fast_acts_before_a_larger_services_breaker(make_scenario):
    # desired 10: the breaker waits for 5 failed tasks; three of the same exit code decide.
    # maximum 120%: two new tasks at a time, so the failures come two by two (2, 4, ...).
    s = make_scenario(
        StackOptions(desired_count=10, maximum_percent=120), {"v2": scripted.CRASHES_AT_START}
    )
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 16, run
    assert "the circuit breaker would wait for 5 failed tasks" in " ".join(run.json["explanation"])


def test_tasks_failing_health_checks_are_not_decisive(make_scenario):
    # A slow start is cured by a longer grace period: no verdict before ECS's own.
    s = make_scenario(NO_BREAKER, {"v2": scripted.NEVER_HEALTHY})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--timeout", "4")
    assert run.returncode == 12, run
    assert run.json["fail_fast"] is None
