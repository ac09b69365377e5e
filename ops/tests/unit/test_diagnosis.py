"""Each runbook 4.2 rule on synthetic evidence: it fires on its symptom, silent otherwise."""

from __future__ import annotations

import pytest
from opsctl.diagnosis import (
    LOOKS_FOR,
    RULES,
    Evidence,
    Metrics,
    diagnose,
    looked_at,
    needs_network_evidence,
)


def evidence(make, **changes) -> Evidence:
    base = {
        "service": make.service(),
        "task_definition": make.task_definition(),
        "container_name": "app",
        "container_port": 8000,
        "running": (),
        "stopped": (),
        "target_group": make.target_group(),
        "targets": (make.health(), make.health()),
        "load_balancer": make.load_balancer(),
        "task_security_groups": (make.security_group(),),
        "subnet_routes": (make.route("subnet-1", "vpc-1", "nat-1"),),
        "vpc_endpoints": (),
        "metrics": Metrics(15, 0, 0, 0, 0, 0),
        "crash_logs": (),
    }
    base.update(changes)
    return Evidence(**base)


def rules(ev: Evidence) -> set[str]:
    return {f.rule for f in diagnose(ev)}


def test_healthy_evidence_fires_nothing(make):
    assert diagnose(evidence(make)) == ()


def test_every_rule_is_covered_here():
    covered = {
        "deployment-failed",
        "image-not-found",
        "registry-unreachable",
        "resource-initialization",
        "capacity",
        "crash-loop",
        "port-mismatch",
        "health-check-path",
        "security-group-blocks-alb",
        "grace-period",
        "targets-unhealthy",
        "no-healthy-targets",
        "alb-5xx",
    }
    assert {name for name, _ in RULES} == covered


def pull(make, reason):
    return (make.task("t1", stop_code="TaskFailedToStart", reason=reason),)


def test_image_not_found(make):
    ev = evidence(
        make,
        stopped=pull(make, "CannotPullContainerError: failed to resolve ref x:typo: not found"),
    )
    assert "image-not-found" in rules(ev)
    assert "registry-unreachable" not in rules(ev)


@pytest.mark.parametrize(
    ("route", "public_ip", "fires"),
    [(None, False, True), ("igw-1", False, True), ("igw-1", True, False), ("nat-1", False, False)],
)
def test_registry_unreachable_depends_on_the_route(make, route, public_ip, fires):
    ev = evidence(
        make,
        service=make.service(assign_public_ip=public_ip),
        stopped=pull(make, "CannotPullContainerError: dial tcp 52.1.1.1:443: i/o timeout"),
        subnet_routes=(make.route("subnet-1", "vpc-1", route),),
    )
    assert ("registry-unreachable" in rules(ev)) is fires


def test_registry_unreachable_through_egress_rules(make):
    closed = make.security_group(egress=(make.rule("tcp", 80, 80, ("0.0.0.0/0",), (), ()),))
    ev = evidence(
        make,
        stopped=pull(make, "CannotPullContainerError: i/o timeout"),
        task_security_groups=(closed,),
    )
    finding = next(f for f in diagnose(ev) if f.rule == "registry-unreachable")
    assert any("no outbound HTTPS" in line for line in finding.evidence)


def test_resource_initialization_names_the_log_group(make):
    reason = (
        "ResourceInitializationError: failed to validate logger args: The specified log "
        "group does not exist."
    )
    finding = next(
        f
        for f in diagnose(evidence(make, stopped=pull(make, reason)))
        if f.rule == "resource-initialization"
    )
    assert "/aws/ecs/api" in finding.likely_cause


def test_capacity_needs_the_deployment_short_of_tasks(make):
    events = (
        make.event(
            "(service api) was unable to place a task. Reason: Capacity is unavailable at "
            "this time."
        ),
    )
    short = make.service(make.deployment(running=1, rollout_state="IN_PROGRESS"), events=events)
    assert "capacity" in rules(evidence(make, service=short))
    assert "capacity" not in rules(evidence(make, service=make.service(events=events)))


def test_crash_loop_needs_two_crashes(make):
    crash = [
        make.task(f"t{i}", stop_code="EssentialContainerExited", exit_code=137) for i in range(2)
    ]
    assert "crash-loop" not in rules(evidence(make, stopped=tuple(crash[:1])))
    finding = next(
        f for f in diagnose(evidence(make, stopped=tuple(crash))) if f.rule == "crash-loop"
    )
    assert "exit 137" in finding.likely_cause


def unhealthy(make, reason="Target.FailedHealthChecks", description="Health checks failed"):
    return (make.health("unhealthy", reason, description),)


def test_port_mismatch_needs_a_symptom(make):
    wrong = make.task_definition(environment=(("PORT", "8080"),))
    assert "port-mismatch" not in rules(evidence(make, task_definition=wrong))
    assert "port-mismatch" in rules(evidence(make, task_definition=wrong, targets=unhealthy(make)))
    group = make.target_group(health_check_port="9000")
    assert "port-mismatch" in rules(evidence(make, target_group=group, targets=unhealthy(make)))


def test_health_check_path(make):
    codes = unhealthy(
        make, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]"
    )
    assert "health-check-path" in rules(
        evidence(make, target_group=make.target_group(health_check_path="/hc"), targets=codes)
    )
    assert "health-check-path" in rules(evidence(make, targets=codes))  # 404 on /health itself
    five = unhealthy(
        make, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]"
    )
    assert "health-check-path" not in rules(evidence(make, targets=five))


def test_security_group_blocks_alb(make):
    timeouts = unhealthy(make, "Target.Timeout", "Request timed out")
    assert "security-group-blocks-alb" in rules(evidence(make, targets=timeouts))
    open_to_alb = make.security_group(ingress=(make.rule("tcp", 8000, 8000, (), ("sg-alb",), ()),))
    assert "security-group-blocks-alb" not in rules(
        evidence(make, targets=timeouts, task_security_groups=(open_to_alb,))
    )


def test_grace_period(make):
    killed = (
        make.task(
            "t1",
            stop_code="ServiceSchedulerInitiated",
            reason="Task failed ELB health checks in (target-group x)",
        ),
    )
    assert "grace-period" in rules(
        evidence(make, service=make.service(grace_period=0), stopped=killed)
    )
    assert "grace-period" not in rules(
        evidence(make, service=make.service(grace_period=60), stopped=killed)
    )
    assert "grace-period" not in rules(evidence(make, service=make.service(grace_period=0)))


def test_no_healthy_targets(make):
    assert "no-healthy-targets" in rules(evidence(make, targets=unhealthy(make)))
    assert "no-healthy-targets" in rules(evidence(make, targets=()))
    assert "no-healthy-targets" not in rules(
        evidence(make, targets=(), service=make.service(desired=0))
    )


@pytest.mark.parametrize(
    ("metrics", "cause"),
    [
        (Metrics(15, 10, 0, 0, 10, 0), "503 from the ALB itself"),
        (Metrics(15, 10, 0, 10, 0, 0), "502 from the ALB itself"),
        (Metrics(15, 10, 0, 0, 0, 10), "504 from the ALB itself"),
        (Metrics(15, 0, 7, 0, 0, 0), "the application itself answers 5xx"),
    ],
)
def test_alb_5xx_tells_elb_from_target_errors(make, metrics, cause):
    finding = next(f for f in diagnose(evidence(make, metrics=metrics)) if f.rule == "alb-5xx")
    assert cause in finding.likely_cause


def test_deployment_failed(make):
    failed = make.service(
        make.deployment(rollout_state="FAILED", rollout_reason="circuit breaker: tasks failed")
    )
    assert "deployment-failed" in rules(evidence(make, service=failed))


def test_every_finding_is_complete(make):
    ev = evidence(
        make,
        service=make.service(make.deployment(rollout_state="FAILED"), grace_period=0),
        stopped=(
            *pull(make, "CannotPullContainerError: not found"),
            make.task("k", reason="Task failed ELB health checks in (target-group x)"),
        ),
        targets=unhealthy(make, "Target.Timeout", "Request timed out"),
        metrics=Metrics(15, 1, 1, 1, 0, 0),
    )
    for finding in diagnose(ev):
        assert finding.evidence
        assert finding.likely_cause
        assert finding.runbook.startswith(("4.2", "3.1"))
        assert finding.fix


# --- evidence that no live target shows any more (drill 04 under load) ----------------------

GROUP_ARN = "arn:tg"


def _unhealthy_event(make, minutes: int, reason: str) -> object:
    return make.event(
        f"(service api) (task 3f2a) (port 8000) is unhealthy in (target-group {GROUP_ARN}) "
        f"due to (reason {reason}).",
        minutes,
    )


def _gone(make, *events, **changes):
    """The state drill 04 met: the task whose target answered 404 is stopped, its target
    drains, and only ECS's service events still say why."""
    base = {
        "service": make.service(events=tuple(events)),
        "target_group": make.target_group(arn=GROUP_ARN, health_check_path="/healthz"),
        "targets": (
            make.health(
                "draining",
                "Target.DeregistrationInProgress",
                "Target deregistration is in progress",
            ),
        ),
        "stopped": (
            make.task(
                "t1",
                stop_code="ServiceSchedulerInitiated",
                reason=f"Task failed ELB health checks in (target-group {GROUP_ARN})",
            ),
        ),
    }
    base.update(changes)
    return evidence(make, **base)


def test_health_check_path_from_service_events_when_the_target_is_gone(make):
    ev = _gone(
        make,
        make.event("(service api) has stopped 1 running tasks: (task 3f2a).", 3),
        _unhealthy_event(make, 2, "Health checks failed with these codes: [404]"),
        make.event("(service api) has reached a steady state.", 0),
    )
    found = {f.rule: f for f in diagnose(ev)}
    assert "health-check-path" in found
    text = " ".join(found["health-check-path"].evidence)
    assert "checks /healthz" in text
    assert "ECS reported a target unhealthy" in text
    assert "[404]" in text
    assert "[404]" in " ".join(found["targets-unhealthy"].evidence)


def test_the_404_on_health_itself_counts_from_events_too(make):
    ev = _gone(
        make,
        _unhealthy_event(make, 2, "Health checks failed with these codes: [404]"),
        target_group=make.target_group(arn=GROUP_ARN),
    )
    assert "health-check-path" in rules(ev)


def test_events_before_the_last_steady_state_are_history(make):
    recovered = evidence(
        make,
        service=make.service(
            events=(
                make.event("(service api) has reached a steady state.", 9),
                _unhealthy_event(make, 2, "Health checks failed with these codes: [404]"),
            )
        ),
        target_group=make.target_group(arn=GROUP_ARN, health_check_path="/healthz"),
    )
    assert diagnose(recovered) == ()


def test_events_without_a_symptom_now_are_not_a_finding(make):
    # Healthy targets and no task stopped by health checks: an unhealthy event with no steady
    # state after it yet (a slow first check) is no problem by itself.
    ev = evidence(
        make,
        service=make.service(
            events=(_unhealthy_event(make, 2, "Health checks failed with these codes: [404]"),)
        ),
        target_group=make.target_group(arn=GROUP_ARN, health_check_path="/healthz"),
    )
    assert "health-check-path" not in rules(ev)


def test_after_a_recovery_stopped_tasks_and_old_events_are_history(make):
    # drill 04's end: the path is back, the targets are healthy, ECS has not said "steady
    # state" yet, and the tasks it stopped for failing checks are still listed.
    recovered = _gone(
        make,
        _unhealthy_event(make, 2, "Health checks failed with these codes: [404]"),
        target_group=make.target_group(arn=GROUP_ARN),
        targets=(make.health(), make.health()),
    )
    assert "health-check-path" not in rules(recovered)


def test_events_of_another_target_group_do_not_count(make):
    other = make.event(
        "(service api) (task 3f2a) (port 8000) is unhealthy in (target-group arn:other) "
        "due to (reason Health checks failed with these codes: [404]).",
        2,
    )
    assert "health-check-path" not in rules(_gone(make, other))


def test_timeouts_from_events_name_the_security_group(make):
    ev = _gone(
        make,
        _unhealthy_event(make, 2, "Request timed out"),
        target_group=make.target_group(arn=GROUP_ARN),
    )
    assert "security-group-blocks-alb" in rules(ev)
    assert needs_network_evidence((), (), ev.service.events)
    assert not needs_network_evidence((), ())


def test_every_rule_says_what_it_looks_for_in_a_table_cell():
    assert list(LOOKS_FOR) == [name for name, _ in RULES]
    # rule (25) + gap (2) + this: the rules-checked table fits 80 columns
    assert max(len(text) for text in LOOKS_FOR.values()) <= 53


def test_looked_at_names_every_source(make):
    lines = looked_at(evidence(make))
    joined = "\n".join(lines)
    assert "service: 2/2 tasks running; deployment ecs-svc/1 COMPLETED" in joined
    assert "tasks: 0 running, 0 stopped" in joined
    assert "target group api-tg: 2 healthy; checks /health" in joined
    assert "5xx in the last 15 min: 0 from the load balancer, 0 from the targets" in joined
    assert "service events since the last steady state: 0" in joined
