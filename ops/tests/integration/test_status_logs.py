"""status, revisions, logs and target resolution."""

from __future__ import annotations

import json
import subprocess

import pytest
from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions


def test_status_shows_counts_deployments_targets_events_and_alarms(make_scenario):
    s = make_scenario()
    cloudwatch = s.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="api-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[{"Name": "TargetGroup", "Value": s.stack.target_group_arn.split(":")[-1]}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(
        AlarmName="api-5xx", StateValue="ALARM", StateReason="Threshold crossed: 7 errors"
    )
    cloudwatch.put_metric_alarm(
        AlarmName="unrelated",
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="unrelated", StateValue="ALARM", StateReason="x")
    elbv2 = s.client("elbv2")
    s.wait(  # a steady service may still be health-checking its second target on a busy machine
        lambda: (
            [
                d["TargetHealth"]["State"]
                for d in elbv2.describe_target_health(TargetGroupArn=s.stack.target_group_arn)[
                    "TargetHealthDescriptions"
                ]
            ]
            == ["healthy", "healthy"]
        ),
        what="two healthy targets",
    )
    doc = s.opsctl("--output", "json", "status").json
    assert (doc["desired"], doc["running"], doc["pending"]) == (2, 2, 0)
    assert doc["revision"] == 1
    assert doc["image_digest"] == s.stack.digests["v1"]
    assert doc["deployments"][0]["rollout_state"] == "COMPLETED"
    assert doc["deployments"][0]["image"].endswith(s.stack.digests["v1"])
    assert sorted(t["state"] for t in doc["targets"]) == ["healthy", "healthy"]
    assert any("has reached a steady state" in e["message"] for e in doc["events"])
    assert [a["name"] for a in doc["alarms"]] == ["api-5xx"]
    assert doc["circuit_breaker"] is True
    assert doc["grace_period"] == 60
    text = s.opsctl("status").stdout
    assert "2/2 running" in text
    assert "api-5xx" in text
    assert "Target health" in text


def test_status_shows_target_reason_codes(make_scenario):
    # A long grace period keeps the unhealthy tasks registered while we look.
    s = make_scenario(
        StackOptions(circuit_breaker=False, grace_period=3600), {"v2": scripted.NEVER_HEALTHY}
    )
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2", "--no-wait").returncode == 0
    elbv2 = s.client("elbv2")
    s.wait(
        lambda: any(
            d["TargetHealth"].get("Reason") == "Target.ResponseCodeMismatch"
            for d in elbv2.describe_target_health(TargetGroupArn=s.stack.target_group_arn)[
                "TargetHealthDescriptions"
            ]
        ),
        what="an unhealthy target",
    )
    doc = s.opsctl("--output", "json", "status").json
    reasons = {t["reason"] for t in doc["targets"]}
    assert "Target.ResponseCodeMismatch" in reasons
    assert any("[500]" in (t["description"] or "") for t in doc["targets"])
    assert len(doc["deployments"]) == 2


def test_revisions_lists_newest_first_with_running_and_last_known_good(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    doc = s.opsctl("--output", "json", "revisions").json
    assert [r["revision"] for r in doc["revisions"]] == [2, 1]
    assert doc["running"] == [2]
    assert (
        doc["last_known_good"] == 1
    )  # the baseline deploy recorded revision 1 before replacing it
    assert doc["revisions"][0]["registered_at"] is not None
    text = s.opsctl("revisions").stdout
    assert "last known good" in text
    assert "running" in text


def test_logs_with_a_filter_and_a_task(make_scenario):
    s = make_scenario(behaviours={"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 10
    doc = s.opsctl("--output", "json", "logs", "--since", "10m", "--filter", "Traceback").json
    assert doc["log_group"] == "/aws/ecs/api"
    assert doc["filter"] == "Traceback"
    assert len(doc["events"]) >= 3
    assert all("Traceback" in e["message"] for e in doc["events"])
    task_id = doc["events"][0]["task_id"]
    assert doc["events"][0]["stream"] == f"ecs/app/{task_id}"
    one = s.opsctl("--output", "json", "logs", "--task", task_id).json
    assert one["events"]
    assert {e["task_id"] for e in one["events"]} == {task_id}
    assert any("ValidationError" in e["message"] for e in one["events"])
    text = s.opsctl("logs", "--filter", "ValidationError").stdout
    assert "pydantic_core._pydantic_core.ValidationError" in text


def test_logs_follow_prints_new_events_as_ndjson(make_scenario):
    s = make_scenario()
    process = s.spawn(
        "--output",
        "json",
        "logs",
        "--since",
        "1m",
        "--follow",
        "--interval",
        "0.3",
        "--filter",
        "probe-marker",
    )
    try:
        s.client("logs").put_log_events(
            logGroupName="/aws/ecs/api",
            logStreamName=s.client("logs").describe_log_streams(logGroupName="/aws/ecs/api")[
                "logStreams"
            ][0]["logStreamName"],
            logEvents=[
                {
                    "timestamp": __import__("time").time_ns() // 1_000_000,
                    "message": "probe-marker 1",
                }
            ],
        )
        line = process.stdout.readline()  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(timeout=10)
    event = json.loads(line)
    assert event["message"] == "probe-marker 1"


def test_unknown_cluster_and_service_are_named(make_scenario, unrestricted_iam):
    # An administrator's view: the deploy role may not even describe another cluster.
    s = make_scenario()
    run = s.opsctl("--cluster", "nope", "--service", "api", "status", target=False)
    assert run.returncode == 3, run
    assert "cluster 'nope' not found" in run.stderr
    run = s.opsctl(
        "--cluster",
        s.stack.cluster,
        "--service",
        "nope",
        "--output",
        "json",
        "status",
        target=False,
    )
    assert run.returncode == 3
    assert run.json["error"]["type"] == "TargetError"
    assert "service 'nope' not found" in run.json["error"]["message"]


def test_target_from_environment_variables(make_scenario):
    s = make_scenario()
    s.env.update({"OPSCTL_CLUSTER": s.stack.cluster, "OPSCTL_SERVICE": s.stack.service})
    run = s.opsctl("--output", "json", "status", target=False)
    assert run.returncode == 0, run
    assert run.json["target"]["source"] == "$OPSCTL_CLUSTER, $OPSCTL_SERVICE"


def test_no_target_is_a_usage_level_error(make_scenario):
    s = make_scenario()
    run = s.opsctl("status", target=False)
    assert run.returncode == 3
    assert "no cluster and service given" in run.stderr
    assert "--tf-dir" in run.stderr


@pytest.mark.needs_terraform
def test_target_from_a_terraform_env_root(make_scenario, tmp_path):
    s = make_scenario()
    root = tmp_path / "env"
    root.mkdir()
    value = s.stack.opsctl_target(s.alb_url)
    body = ",\n".join(f'    {k} = "{v}"' for k, v in value.items())
    (root / "outputs.tf").write_text(f'output "opsctl" {{\n  value = {{\n{body}\n  }}\n}}\n')
    env = {k: v for k, v in s.env.items() if not k.startswith("AWS_")}
    subprocess.run(
        ["terraform", f"-chdir={root}", "init", "-input=false"],
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(
        ["terraform", f"-chdir={root}", "apply", "-auto-approve", "-input=false"],
        check=True,
        capture_output=True,
        env=env,
    )
    run = s.opsctl("--tf-dir", str(root), "--output", "json", "status", target=False)
    assert run.returncode == 0, run
    assert run.json["target"]["source"] == f"terraform output of {root}"
    broken = s.opsctl("--tf-dir", str(tmp_path), "status", target=False)
    assert broken.returncode == 3
    assert "terraform" in broken.stderr


def test_help_and_schema(make_scenario):
    s = make_scenario(settle=False)
    run = s.opsctl("--help", target=False)
    assert run.returncode == 0
    for command in (
        "status",
        "deploy",
        "rollback",
        "redeploy",
        "watch",
        "revisions",
        "logs",
        "diagnose",
    ):
        assert command in run.stdout
    schema = json.loads(s.opsctl("schema", "deploy", target=False).stdout)
    assert schema["$id"] == "urn:opsctl:schema:rollout:v1"
    assert s.opsctl("schema", "nope", target=False).returncode == 2
    assert s.opsctl("deploy", "--timeout", "0").returncode == 2
    # Only http(s) is smoke-tested: urllib would open file:// and ftp:// as well.
    refused = s.opsctl("deploy", "--url", "file:///etc/passwd")
    assert refused.returncode == 2
    assert "is not an http:// or https:// URL" in refused.stderr


def test_bad_logs_options_are_usage_errors_before_any_aws_call(make_scenario):
    s = make_scenario(settle=False)
    for args, what in (
        (("--since", "99999999999d"), "too far back"),
        (("--since", "banana"), "expected a duration"),
        (("--task", "bogus/../x"), "expected a whole task id"),
    ):
        run = s.opsctl("logs", *args)
        assert run.returncode == 2, run
        assert what in run.stderr
        assert "Traceback" not in run.stderr
    # Against an endpoint nobody answers: still a usage error, so no AWS call came first.
    s.env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    dead = s.opsctl("logs", "--since", "banana")
    assert dead.returncode == 2, dead


def test_a_failure_still_writes_the_job_summary(make_scenario):
    s = make_scenario()
    run = s.opsctl("--output", "markdown", "rollback", "--to-revision", "99999")
    assert run.returncode == 5, run
    assert run.stdout.startswith("### ❌ `opsctl rollback` failed (exit 5, NotFoundError)")
    assert "99999" in run.stdout
    text = s.opsctl("rollback", "--to-revision", "99999")  # stdout is a pipe here, not a tty
    assert text.returncode == 5
    assert "opsctl rollback: error (NotFoundError, exit 5)" in text.stdout
