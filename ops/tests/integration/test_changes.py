"""opsctl changes on the ECS simulator: one timeline of deployments (and who started them),
verdicts, task-definition diffs, images, alarm states and Terraform applies, each source read
with the deploy role's permissions and failing on its own; diagnose links its first finding to
the nearest change before it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions

STATE_BUCKET = "tfstate-123456789012-us-east-1"
"""The bootstrap's state bucket in the emulator's account and region (infra/bootstrap)."""
STATE_KEY = "dev/terraform.tfstate"
STATE_URL = f"s3://{STATE_BUCKET}/{STATE_KEY}"
ALARM = "api-target-5xx"


def _state_bucket(s, writes: int = 2) -> None:
    """A versioned state bucket whose dev state was written ``writes`` times (applies)."""
    s3 = s.client("s3")
    s3.create_bucket(Bucket=STATE_BUCKET)
    s3.put_bucket_versioning(Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for serial in range(writes):
        s3.put_object(Bucket=STATE_BUCKET, Key=STATE_KEY, Body=json.dumps({"serial": serial}))
    s3.put_object(Bucket=STATE_BUCKET, Key="prod/terraform.tfstate", Body=b"{}")


def _alarm_fires(s) -> None:
    cloudwatch = s.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="5xx seen")


def _by_kind(doc: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in doc["changes"]:
        found.setdefault(entry["kind"], []).append(entry)
    return found


def test_one_timeline_of_every_source_newest_first(make_scenario, iam_guard):
    s = make_scenario(behaviours={"v3": scripted.CRASHES_AT_START})
    s.push("v2")
    s.push("v3")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    assert s.opsctl("deploy", "--image-tag", "v3").returncode == 10
    _alarm_fires(s)
    _state_bucket(s)

    run = s.opsctl("-o", "json", "changes", "--since", "1h", "--state-url", STATE_URL)
    assert run.returncode == 0, run
    doc = run.json
    times = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in doc["changes"]]
    assert times == sorted(times, reverse=True)
    assert {x["source"]: x["state"] for x in doc["sources"]} == {
        "ECS service deployments": "read",
        "CloudTrail": "read",
        "task definitions": "read",
        "ECR images": "read",
        "CloudWatch alarms": "read",
        "Terraform state": "read",
    }
    kinds = _by_kind(doc)

    # Deployments: ours from opsctl (CloudTrail's UpdateService names the caller), the first
    # from CreateService; the failed one with the circuit breaker's rollback.
    deployments = kinds["deployment"]
    assert len(deployments) == 3
    v2, v3 = (next(d for d in deployments if d["revision"] == n) for n in (2, 3))
    for deployment in (v2, v3):
        assert deployment["who"].startswith("arn:aws:"), deployment
        assert deployment["who_source"] == "CloudTrail UpdateService"
    assert v2["summary"].endswith(" api:1 → api:2")
    assert v2["details"][0].startswith("SUCCESSFUL")
    assert v3["details"][0].startswith("ROLLBACK_SUCCESSFUL: ECS deployment circuit breaker")
    (rollback,) = kinds["rollback"]
    assert rollback["summary"].endswith("rolled back to api:2")

    # opsctl's verdicts, from the revisions' tags.
    verdicts = {e["summary"] for e in kinds["verdict"]}
    assert "api:2 verified good" in {v.split(" (")[0] for v in verdicts}
    assert "api:3 marked rolled_back" in verdicts

    # Each new revision, with what differs from the one before: only the image.
    revisions = {e["subject"]: e for e in kinds["task_definition"]}
    assert set(revisions) >= {"api:2", "api:3"}
    (change,) = revisions["api:3"]["changes"]
    assert change["path"] == "containerDefinitions[0].image"
    assert change["old"].endswith(s.stack.digests.get("v2", "")) or "@sha256:" in change["old"]
    assert "@sha256:" in change["new"]

    # Images pushed, and the deployed-* tag opsctl added before rolling each out.
    images = [e["summary"] for e in kinds["image"]]
    assert any(i.startswith("pushed ") and "(v3)" in i for i in images), images
    assert any(" deployed-" in i for i in images), images

    (alarm,) = kinds["alarm"]
    assert alarm["summary"] == f"{ALARM}: INSUFFICIENT_DATA → ALARM"
    assert "5xx seen" in alarm["details"]

    terraform = kinds["terraform"]
    assert len(terraform) == 2  # dev's two writes; prod's state is not dev's role's to list
    assert {t["summary"] for t in terraform} == {"Terraform state written"}
    assert all(t["subject"] == STATE_URL for t in terraform)

    made = {c.operation for c in iam_guard.calls}
    assert {
        "ecs:ListServiceDeployments",
        "ecs:DescribeServiceDeployments",
        "ecs:DescribeServiceRevisions",
        "cloudtrail:LookupEvents",
        "cloudwatch:DescribeAlarmHistory",
        "s3:ListObjectVersions",
    } <= made


def test_text_fits_80_columns_and_markdown_renders(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    s.env["COLUMNS"] = "80"
    run = s.opsctl("changes", "--since", "1h")
    assert run.returncode == 0, run
    lines = [line.rstrip() for line in run.stdout.splitlines()]
    assert lines[0].startswith("api (api-cluster, us-east-1): changes since ")
    assert len(lines[0]) <= 80
    header = lines.index(next(line for line in lines if line.startswith("time ")))
    table = lines[header : lines.index("Sources")]
    assert max(len(line) for line in table) <= 80, "\n".join(table)
    assert any(" api:1 → api:2" in line for line in table)
    assert any("SUCCESSFUL: " in line for line in table)
    assert any("(CloudTrail UpdateService)" in line for line in table)
    # No state location: said, with what to do, not hidden.
    assert re.search(r"^Terraform state +skipped +0$", run.stdout, re.M)
    assert "  Terraform state: state location unknown: pass --state-url s3://" in run.stdout
    markdown = s.opsctl("-o", "markdown", "changes", "--since", "1h")
    assert markdown.returncode == 0, markdown
    assert markdown.stdout.startswith("### What changed: `api` (api-cluster)")
    assert "| deployment |" in markdown.stdout


def test_a_source_that_fails_costs_only_its_entries(make_scenario, iam_guard):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    iam_guard.statements = tuple(
        replace(x, actions=tuple(a for a in x.actions if a != "cloudtrail:LookupEvents"))
        for x in iam_guard.statements
    )
    iam_guard.expect_refusals = True
    run = s.opsctl("-o", "json", "changes", "--since", "1h")
    assert run.returncode == 0, run
    doc = run.json
    sources = {x["source"]: x for x in doc["sources"]}
    assert sources["CloudTrail"]["state"] == "failed"
    assert sources["CloudTrail"]["note"].startswith("not permitted (AccessDenied")
    assert sources["ECS service deployments"]["state"] == "read"
    # Without CloudTrail, who deployed revision 2 still comes from opsctl's verdict tags.
    ours = next(e for e in doc["changes"] if e["kind"] == "deployment" and e["revision"] == 2)
    assert ours["who_source"] == "opsctl tag"
    assert ours["who"].startswith("arn:aws:")
    assert {r.action for c in iam_guard.refusals() for r in c.refused} == {
        "cloudtrail:LookupEvents"
    }


def test_a_bad_state_url_is_refused_before_any_aws_call(make_scenario, iam_guard):
    s = make_scenario()
    iam_guard.calls.clear()
    run = s.opsctl("changes", "--state-url", "https://example.com/state")
    assert run.returncode == 2, run
    assert "expected s3://<bucket>/<key>" in run.stderr
    assert iam_guard.calls == []


def test_diagnose_links_its_first_finding_to_the_deploy_before_it(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False, rollback=False), {"v2": scripted.CRASHES_AT_START}
    )
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2", "--no-wait").returncode == 0
    s.wait(
        lambda: (
            sum(t.get("stopCode") == "EssentialContainerExited" for t in s.stopped_tasks()) >= 2
        ),
        what="two crashed tasks",
    )
    run = s.opsctl("-o", "json", "diagnose")
    assert run.returncode == 20, run
    doc = run.json
    nearest = doc["nearest_change"]
    assert nearest is not None, doc["nearest_change_note"]
    assert nearest["kind"] == "deployment"
    assert nearest["revision"] == 2
    assert nearest["who_source"] == "CloudTrail UpdateService"
    text = s.opsctl("diagnose")
    assert "nearest change before it:" in text.stdout
    assert "→ api:2" in text.stdout
