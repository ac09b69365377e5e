"""diagnose: each runbook 4.2 rule fires on its scenario; a healthy service gets "no problem
found" and the rules it ran."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from localcloud.runtime import scripted
from localcloud.runtime.scripted import Behaviour
from localcloud.testing.stacks import StackOptions

STUCK = StackOptions(circuit_breaker=False, rollback=False)


def findings(s, expect_exit: int = 20) -> dict[str, dict]:
    run = s.opsctl("--output", "json", "diagnose")
    assert run.returncode == expect_exit, run
    doc = run.json
    assert doc["healthy"] is (expect_exit == 0)
    return {f["rule"]: f for f in doc["findings"]}


def text(finding: dict) -> str:
    return " ".join([*finding["evidence"], finding["likely_cause"], finding["fix"]])


def stopped_with(s, fragment: str, count: int = 1):
    return lambda: (
        sum(fragment in (t.get("stoppedReason") or "") for t in s.stopped_tasks()) >= count
    )


def unhealthy_with(s, reason: str):
    elbv2 = s.client("elbv2")

    def check() -> bool:
        health = elbv2.describe_target_health(TargetGroupArn=s.stack.target_group_arn)[
            "TargetHealthDescriptions"
        ]
        return any(h["TargetHealth"].get("Reason") == reason for h in health)

    return check


def deploy_image(s, reference: str) -> None:
    """What a person does by hand: register a revision naming ``reference``, update the service."""
    ecs = s.client("ecs")
    current = ecs.describe_task_definition(taskDefinition=s.stack.family)["taskDefinition"]
    definitions = current["containerDefinitions"]
    definitions[0]["image"] = reference
    keys = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory", "executionRoleArn")
    arn = ecs.register_task_definition(
        containerDefinitions=definitions, **{k: current[k] for k in keys}
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=s.stack.cluster, service=s.stack.service, taskDefinition=arn)


def test_a_healthy_service_gets_no_problem_found_and_the_rules_it_ran(make_scenario):
    s = make_scenario()
    run = s.opsctl("diagnose")
    assert run.returncode == 0, run
    assert run.stdout.startswith("no problem found: api in api-cluster"), run
    assert "rules checked (13)" in run.stdout
    assert "2 healthy; checks /health" in run.stdout  # what it looked at, not just silence
    assert findings(s, expect_exit=0) == {}


def test_history_of_a_rolled_back_deploy_is_not_a_problem(make_scenario):
    s = make_scenario(behaviours={"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 10
    assert findings(s, expect_exit=0) == {}


def test_image_not_found(make_scenario):
    s = make_scenario(STUCK)
    deploy_image(s, f"{s.stack.repository_url}:typo")
    s.wait(stopped_with(s, "CannotPullContainerError"), what="a failed pull")
    rules = findings(s)
    assert "image-not-found" in rules
    assert ":typo" in text(rules["image-not-found"])
    assert rules["image-not-found"]["runbook"] == "4.2 Task stuck in PENDING"
    assert "registry-unreachable" not in rules


def test_registry_unreachable_through_the_subnets(make_scenario):
    s = make_scenario(STUCK)
    ec2 = s.client("ec2")
    table = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [s.stack.subnet_ids[0]]}]
    )
    ec2.delete_route(
        RouteTableId=table["RouteTables"][0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0"
    )
    s.opsctl("redeploy", "--no-wait")
    s.wait(stopped_with(s, "i/o timeout"), what="a pull that timed out")
    rules = findings(s)
    finding = rules["registry-unreachable"]
    assert "has no default route" in text(finding)
    assert "NAT gateway" in finding["fix"]
    assert "image-not-found" not in rules


def test_resource_initialization_without_log_group(make_scenario):
    s = make_scenario(StackOptions(circuit_breaker=False, log_group=False), settle=False)
    s.wait(stopped_with(s, "ResourceInitializationError"), what="a ResourceInitializationError")
    rules = findings(s)
    finding = rules["resource-initialization"]
    assert "/aws/ecs/api does not exist" in finding["likely_cause"]
    assert "no-healthy-targets" in rules


def test_capacity(make_scenario):
    s = make_scenario(STUCK)
    s.harness.simulator.set_capacity_shortage(s.stack.cluster, s.stack.service)
    assert s.opsctl("redeploy", "--no-wait").returncode == 0
    s.wait(
        lambda: any("unable to place a task" in e["message"] for e in s.service()["events"]),
        what="placement failure",
    )
    rules = findings(s)
    assert "Capacity is unavailable" in text(rules["capacity"])


def test_crash_loop_shows_exit_codes_and_the_last_output(make_scenario):
    s = make_scenario(STUCK, {"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2", "--no-wait").returncode == 0
    s.wait(stopped_with(s, "Essential container in task exited", 2), what="two crashes")
    rules = findings(s)
    finding = rules["crash-loop"]
    assert "exit codes: 1 x" in finding["evidence"][0]
    assert any("ValidationError" in line for line in finding["evidence"])
    assert finding["runbook"] == "4.2 ALB returning 502/503"


def test_port_mismatch(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False, grace_period=3600, environment={"PORT": "8080"}),
        settle=False,
    )
    s.wait(unhealthy_with(s, "Target.FailedHealthChecks"), what="deaf targets")
    rules = findings(s)
    assert "PORT is 8080 but the load balancer uses container port 8000" in text(
        rules["port-mismatch"]
    )
    assert "not listening" in rules["targets-unhealthy"]["likely_cause"]


def test_health_check_path(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False, grace_period=3600, health_check_path="/healthz"),
        settle=False,
    )
    s.wait(unhealthy_with(s, "Target.ResponseCodeMismatch"), what="404s")
    rules = findings(s)
    finding = rules["health-check-path"]
    assert "/healthz" in finding["likely_cause"]
    assert "[404]" in text(finding)
    assert "port-mismatch" not in rules


def test_security_group_blocks_the_load_balancer(make_scenario):
    s = make_scenario(StackOptions(grace_period=3600))
    s.client("ec2").revoke_security_group_ingress(
        GroupId=s.stack.task_security_group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8000,
                "ToPort": 8000,
                "UserIdGroupPairs": [{"GroupId": s.stack.alb_security_group}],
            }
        ],
    )
    s.wait(unhealthy_with(s, "Target.Timeout"), what="timeouts")
    rules = findings(s)
    assert "allow no inbound TCP 8000" in text(rules["security-group-blocks-alb"])
    assert "no-healthy-targets" in rules


def test_startup_slower_than_the_grace_period(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False, grace_period=0),
        {"v1": scripted.SLOW_START},
        settle=False,
    )
    s.wait(stopped_with(s, "failed ELB health checks"), what="a task killed by health checks")
    rules = findings(s)
    finding = rules["grace-period"]
    assert "grace period 0s" in text(finding)
    assert "at least 60s" in text(finding)
    assert "port-mismatch" not in rules


def test_unhealthy_targets_and_no_healthy_target(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False, grace_period=3600),
        {"v1": scripted.NEVER_HEALTHY},
        settle=False,
    )
    s.wait(unhealthy_with(s, "Target.ResponseCodeMismatch"), what="500s")
    rules = findings(s)
    assert "[500]" in text(rules["targets-unhealthy"])
    assert "no healthy target" in rules["no-healthy-targets"]["title"]
    assert "health-check-path" not in rules
    assert "grace-period" not in rules


def test_application_5xx_through_the_load_balancer(make_scenario):
    s = make_scenario(behaviours={"v1": scripted.SERVER_ERRORS})
    for _ in range(3):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{s.alb_url}/process", timeout=5)  # noqa: S310 - the simulated ALB
        assert error.value.code == 500
    rules = findings(s)
    finding = rules["alb-5xx"]
    assert "3 5xx returned by the targets" in finding["evidence"][0]
    assert finding["likely_cause"] == "the application itself answers 5xx"


def test_load_balancer_503_when_nothing_is_healthy(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False), {"v1": Behaviour(startup_seconds=10_000)}, settle=False
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{s.alb_url}/health", timeout=5)  # noqa: S310
    assert error.value.code == 503
    rules = findings(s)
    assert "503 from the ALB itself" in rules["alb-5xx"]["likely_cause"]


def test_failed_deployment_without_rollback(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=True, rollback=False), {"v2": scripted.CRASHES_AT_START}
    )
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 11, run
    assert run.json["outcome"] == "failed"
    rules = findings(s)
    assert "FAILED" in text(rules["deployment-failed"])
    assert "opsctl rollback" in rules["deployment-failed"]["fix"]


def test_text_output_names_evidence_cause_runbook_and_fix(make_scenario):
    s = make_scenario(STUCK)
    deploy_image(s, f"{s.stack.repository_url}:typo")
    s.wait(stopped_with(s, "CannotPullContainerError"), what="a failed pull")
    run = s.opsctl("diagnose")
    assert run.returncode == 20
    for label in (
        "CRITICAL",
        "evidence:",
        "likely cause:",
        "runbook: 4.2 Task stuck in PENDING",
        "fix:",
    ):
        assert label in run.stdout
    markdown = s.opsctl("--output", "markdown", "diagnose").stdout
    assert markdown.startswith("### ❌ `api`:")
