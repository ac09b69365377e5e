"""Each runbook 4.2 rule on synthetic evidence: it fires on its symptom, silent otherwise."""

from __future__ import annotations

import pytest
from opsctl.diagnosis import RULES, Evidence, Metrics, diagnose


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
