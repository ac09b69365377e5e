"""Target health with ELB reason codes, the grace period and the circuit breaker."""

from __future__ import annotations

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions

LONG_GRACE = StackOptions(circuit_breaker=False, grace_period=3600)


def reasons(w) -> set[str | None]:
    return {h["TargetHealth"].get("Reason") for h in w.health()}


def test_new_targets_go_through_initial_to_healthy(world):
    w = world()
    seen: list[tuple[str, str | None]] = []
    while w.service()["deployments"][0]["rolloutState"] != "COMPLETED":
        seen += [(h["TargetHealth"]["State"], h["TargetHealth"].get("Reason")) for h in w.health()]
    assert ("initial", "Elb.InitialHealthChecking") in seen or (
        "initial",
        "Elb.RegistrationInProgress",
    ) in seen
    assert {h["TargetHealth"]["State"] for h in w.health()} == {"healthy"}
    assert {h["Target"]["Port"] for h in w.health()} == {8000}
    ips = {t["attachments"][0]["details"][-1]["value"] for t in w.tasks()}
    assert {h["Target"]["Id"] for h in w.health()} == ips


def test_reason_codes_follow_what_the_app_answers(world):
    w = world(LONG_GRACE, {"v1": scripted.NEVER_HEALTHY})
    w.wait(lambda: "Target.ResponseCodeMismatch" in reasons(w), what="500s")
    description = {h["TargetHealth"].get("Description") for h in w.health()}
    assert "Health checks failed with these codes: [500]" in description
    assert any("is unhealthy in (target-group" in e["message"] for e in w.service()["events"])


def test_wrong_port_fails_health_checks(world):
    w = world(LONG_GRACE, {"v1": scripted.WRONG_PORT})
    w.wait(lambda: reasons(w) == {"Target.FailedHealthChecks"}, what="refused connections")


def test_hanging_app_times_out(world):
    w = world(LONG_GRACE, {"v1": scripted.HANGS})
    w.wait(lambda: "Target.Timeout" in reasons(w), what="timeouts")


def test_health_check_settings_are_read_live(world):
    w = world(StackOptions(grace_period=3600))
    w.settle()
    w.client("elbv2").modify_target_group(
        TargetGroupArn=w.stack.target_group_arn, HealthCheckPath="/missing"
    )
    w.wait(lambda: "Target.ResponseCodeMismatch" in reasons(w), what="404s")
    assert any("[404]" in (h["TargetHealth"].get("Description") or "") for h in w.health())


def test_unhealthy_tasks_are_killed_only_after_the_grace_period(world):
    w = world(
        StackOptions(circuit_breaker=False, grace_period=3600), {"v1": scripted.NEVER_HEALTHY}
    )
    w.wait(lambda: "Target.ResponseCodeMismatch" in reasons(w), what="unhealthy targets")
    assert w.tasks("STOPPED") == []  # still inside the grace period
    w2 = world(StackOptions(circuit_breaker=False, grace_period=0), {"v1": scripted.NEVER_HEALTHY})
    w2.wait(lambda: len(w2.tasks("STOPPED")) >= 1, what="a task killed by health checks")
    killed = w2.tasks("STOPPED")[0]
    assert (
        killed["stoppedReason"]
        == f"Task failed ELB health checks in (target-group {w2.stack.target_group_arn})"
    )
    assert killed["stopCode"] == "ServiceSchedulerInitiated"


def test_circuit_breaker_rolls_back_to_the_last_completed_deployment(world):
    w = world(behaviours={"v2": scripted.CRASHES_AT_START})
    w.settle()
    completed = w.service()["deployments"][0]["id"]
    w.push("v2")
    failed = w.deploy(f"{w.stack.repository_url}:v2")["deployments"][0]["id"]
    w.wait(
        lambda: w.service()["deployments"][0]["id"] not in (failed, completed),
        what="a rollback deployment",
    )
    deployments = {d["id"]: d for d in w.service()["deployments"]}
    rollback = w.service()["deployments"][0]
    assert (
        rollback["rolloutStateReason"]
        == f"ECS deployment circuit breaker: rolling back to deploymentId {completed}."
    )
    assert rollback["taskDefinition"].endswith(":1")
    if failed in deployments:
        assert deployments[failed]["rolloutState"] == "FAILED"
        assert deployments[failed]["failedTasks"] >= 3  # 0.5 x 2 clamped to 3
    w.settle()
    assert w.service()["taskDefinition"].endswith(":1")
    messages = [e["message"] for e in w.service()["events"]]
    assert (
        f"(service api) (deployment {failed}) deployment failed: tasks failed to start." in messages
    )


def test_circuit_breaker_without_rollback_stalls(world):
    w = world(StackOptions(circuit_breaker=True, rollback=False), {"v2": scripted.CRASHES_AT_START})
    w.settle()
    w.push("v2")
    w.deploy(f"{w.stack.repository_url}:v2")
    w.wait(lambda: w.service()["deployments"][0]["rolloutState"] == "FAILED", what="FAILED")
    primary = w.service()["deployments"][0]
    assert primary["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    stopped = len(w.tasks("STOPPED"))
    assert w.service()["runningCount"] == 2  # the old tasks keep serving
    w.harness.simulator.wait_for(lambda: True)
    assert len(w.tasks("STOPPED")) == stopped  # no new launches once FAILED


def test_without_circuit_breaker_ecs_keeps_retrying(world):
    w = world(StackOptions(circuit_breaker=False), {"v2": scripted.CRASHES_AT_START})
    w.settle()
    w.push("v2")
    w.deploy(f"{w.stack.repository_url}:v2")
    w.wait(lambda: w.service()["deployments"][0]["failedTasks"] >= 4, what="repeated failures")
    service = w.service()
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert any("unable to consistently start tasks" in e["message"] for e in service["events"])
