"""Every result renders in every output format; JSON documents match their shipped schemas."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from opsctl.errors import ExitCode
from opsctl.model import TargetHealth
from opsctl.output import OutputFormat, render, render_log_event
from opsctl.results import (
    AlarmInfo,
    Change,
    ChangeEntry,
    ChangeKind,
    ChangesResult,
    DeploymentInfo,
    DiagnoseResult,
    ErrorInfo,
    ErrorResult,
    EventInfo,
    Finding,
    ImageInfo,
    LogEventInfo,
    LogsResult,
    Outcome,
    RevisionInfo,
    RevisionRef,
    RevisionsResult,
    RolloutInfo,
    RolloutResult,
    RuleCheck,
    Severity,
    SourceStatus,
    StatusResult,
    StoppedTaskInfo,
    TargetInfo,
    Verification,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TARGET = TargetInfo("api-cluster", "api", "us-east-1", "command line")
DIGEST = "sha256:" + "d" * 64
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/api@{DIGEST}"


def rollout(outcome: Outcome) -> RolloutResult:
    return RolloutResult(
        command="deploy",
        outcome=outcome,
        exit_code=int(outcome.exit_code),
        target=TARGET,
        deployment_id="ecs-svc/2",
        from_revision=RevisionRef(1, "arn:td:1", IMAGE),
        to_revision=RevisionRef(2, "arn:td:2", IMAGE),
        image=ImageInfo(
            "v2", "123456789012.dkr.ecr.us-east-1.amazonaws.com/api", DIGEST, ("v2",), NOW, None
        ),
        diff="--- a\n+++ b\n-  old\n+  new",
        changes=(Change("containerDefinitions[0].image", "old", "new"),),
        rollout=RolloutInfo(
            "FAILED",
            "ECS deployment circuit breaker: tasks failed to start.",
            3,
            "ecs-svc/3",
            1,
            "COMPLETED",
        ),
        verification=Verification(
            True,
            (TargetHealth("10.0.0.5", 8000, "healthy", None, None),),
            "http://x/health",
            200,
            True,
            "1.0",
            "abc",
            None,
        ),
        stopped_tasks=(
            StoppedTaskInfo(
                "t1", 2, "EssentialContainerExited", "Essential container in task exited", 1, NOW
            ),
        ),
        events=(EventInfo(NOW, "(service api) has started 2 tasks"),),
        explanation=("because",),
        elapsed_seconds=12.5,
        resume_command="opsctl watch --deployment ecs-svc/2",
        notes=("note",),
        warnings=("warning",),
    )


RESULTS = [
    StatusResult(
        target=TARGET,
        status="ACTIVE",
        desired=2,
        running=2,
        pending=0,
        revision=1,
        task_definition="arn:td:1",
        image=IMAGE,
        image_digest=DIGEST,
        grace_period=60,
        circuit_breaker=True,
        circuit_breaker_rollback=True,
        target_group_arn="arn:tg",
        deployments=(
            DeploymentInfo(
                id="ecs-svc/1",
                status="PRIMARY",
                rollout_state="COMPLETED",
                rollout_reason="done",
                revision=1,
                task_definition="arn:td:1",
                image=IMAGE,
                desired=2,
                running=2,
                pending=0,
                failed_tasks=0,
                created_at=NOW,
                updated_at=NOW,
            ),
        ),
        events=(EventInfo(NOW, "(service api) has reached a steady state."),),
        targets=(
            TargetHealth("10.0.0.5", 8000, "unhealthy", "Target.Timeout", "Request timed out"),
        ),
        alarms=(
            AlarmInfo(
                "api-5xx",
                "Threshold crossed",
                # pragma: allowlist nextline secret - a CloudWatch metric name, not a secret
                "AWS/ApplicationELB/HTTPCode_Target_5XX_Count",
                NOW,
            ),
        ),
    ),
    *(rollout(outcome) for outcome in Outcome),
    RevisionsResult(
        target=TARGET,
        family="api",
        running=(2,),
        last_known_good=1,
        scanned=2,
        revisions=(
            RevisionInfo(2, "arn:td:2", IMAGE, NOW, True, False, "bad", None, NOW, "rolled_back"),
            RevisionInfo(1, "arn:td:1", IMAGE, NOW, False, True, "good", NOW, None, None),
        ),
    ),
    LogsResult(
        TARGET,
        "/aws/ecs/api",
        NOW,
        "ERROR",
        None,
        (LogEventInfo(NOW, "ecs/app/t1", "t1", "ERROR boom"),),
    ),
    DiagnoseResult(TARGET, (), ("crash-loop",)),
    DiagnoseResult(
        TARGET,
        (
            Finding(
                "crash-loop",
                Severity.CRITICAL,
                "Crashes",
                ("exit 1 x3",),
                "bad config",
                "4.2 ALB returning 502/503",
                "fix it",
            ),
        ),
        ("crash-loop",),
    ),
    ErrorResult(
        "deploy",
        ErrorInfo(
            "NotFoundError", "image tag 'x' does not exist", "push it", int(ExitCode.NOT_FOUND)
        ),
    ),
    ChangesResult(
        target=TARGET,
        since=NOW,
        until=NOW,
        changes=(
            ChangeEntry(
                at=NOW,
                kind=ChangeKind.DEPLOYMENT,
                subject="ecs-svc/2",
                summary="ecs-svc/2 api:1 → api:2",
                details=("SUCCESSFUL",),
                who="arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions",
                who_source="CloudTrail UpdateService",
                run_url="https://github.com/o/r/actions/runs/1",
                revision=2,
            ),
            ChangeEntry(
                at=NOW,
                kind=ChangeKind.TASK_DEFINITION,
                subject="api:2",
                summary="api:2 registered: 1 change(s) from :1",
                details=("app.image: a → b",),
                who=None,
                who_source=None,
                run_url=None,
                revision=2,
                changes=(Change("containerDefinitions[0].image", "a", "b"),),
            ),
        ),
        sources=(
            SourceStatus("CloudTrail", "failed", 0, "not permitted (AccessDenied)"),
            SourceStatus("ECR images", "read", 1, None),
        ),
    ),
    ChangesResult(TARGET, NOW, NOW, (), ()),
]


@pytest.mark.parametrize(
    "result", RESULTS, ids=lambda r: f"{type(r).__name__}-{getattr(r, 'outcome', '')}"
)
@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_result_renders_in_every_format(result, fmt, validate_document):
    stream = io.StringIO()
    render(result, fmt, stream)
    text = stream.getvalue()
    if fmt == OutputFormat.JSON:
        document = json.loads(text)
        assert document["schema_version"] == 1
        validate_document(document)
    else:
        assert text.strip()


def test_a_healthy_diagnosis_says_so_and_what_it_checked():
    healthy = DiagnoseResult(
        TARGET,
        (),
        ("crash-loop", "alb-5xx"),
        checks=(
            RuleCheck("crash-loop", "two or more tasks exiting non-zero"),
            RuleCheck("alb-5xx", "5xx from the load balancer or the app"),
        ),
        looked_at=("tasks: 2 running, 0 stopped since the current deployment began",),
    )
    text = _render(healthy, OutputFormat.TEXT)
    assert text.startswith("no problem found: api in api-cluster (us-east-1)")
    assert "rules checked (2)" in text
    assert "crash-loop" in text
    assert "two or more tasks exiting non-zero" in text
    assert "tasks: 2 running" in text
    markdown = _render(healthy, OutputFormat.MARKDOWN)
    assert markdown.startswith("### ✅ `api`: no problem found")
    assert "| alb-5xx | 5xx from the load balancer or the app |" in markdown
    document = json.loads(_render(healthy, OutputFormat.JSON))
    assert document["healthy"] is True
    assert [c["rule"] for c in document["checks"]] == ["crash-loop", "alb-5xx"]


def test_outcomes_have_distinct_failure_exit_codes():
    failures = [o for o in Outcome if o.exit_code != ExitCode.OK]
    assert len({o.exit_code for o in failures}) == len(failures)
    assert Outcome.ROLLED_BACK.exit_code == ExitCode.ROLLED_BACK != ExitCode.OK


def test_exit_codes_are_unique():
    values = [int(code) for code in ExitCode]
    assert len(values) == len(set(values))


def test_followed_log_events_are_ndjson():
    stream = io.StringIO()
    event = LogEventInfo(NOW, "ecs/app/t1", "t1", "hello")
    render_log_event(event, OutputFormat.JSON, stream)
    render_log_event(event, OutputFormat.TEXT, stream)
    first, second = stream.getvalue().splitlines()
    assert json.loads(first) == {
        "timestamp": "2026-01-01T12:00:00Z",
        "stream": "ecs/app/t1",
        "task_id": "t1",
        "message": "hello",
    }
    assert second == "2026-01-01 12:00:00Z t1 hello"


def _render(result: object, fmt: OutputFormat) -> str:
    stream = io.StringIO()
    render(result, fmt, stream)  # type: ignore[arg-type]
    return stream.getvalue()


def test_errors_render_for_job_summaries_and_text():
    error = ErrorResult(
        "rollback",
        ErrorInfo("NotFoundError", "revision 99999 does not exist", "see `opsctl revisions`", 5),
    )
    markdown = _render(error, OutputFormat.MARKDOWN)
    assert markdown.startswith("### ❌ `opsctl rollback` failed (exit 5, NotFoundError)")
    assert "revision 99999 does not exist" in markdown
    assert "> hint: see `opsctl revisions`" in markdown
    text = _render(error, OutputFormat.TEXT)
    assert "opsctl rollback: error (NotFoundError, exit 5): revision 99999 does not exist" in text
    assert "hint: see `opsctl revisions`" in text


def test_warnings_and_a_skipped_smoke_test_are_shown_in_every_format():
    skipped = Verification(True, (), None, None, None, None, None, "no URL (HTTPS only)")
    result = replace(
        rollout(Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST),
        rollout=None,
        verification=skipped,
        warnings=("smoke test skipped: no URL (HTTPS only)", "could not record the verdict"),
    )
    text = _render(result, OutputFormat.TEXT)
    assert "deploy succeeded, smoke test SKIPPED" in text
    assert "warning: smoke test skipped: no URL (HTTPS only)" in text
    assert "warning: could not record the verdict" in text
    markdown = _render(result, OutputFormat.MARKDOWN)
    # Not accepted (no --allow-no-smoke-test): exit 15, a failed job summary.
    assert markdown.startswith("### ❌ deploy succeeded, smoke test SKIPPED")
    assert "| smoke test | skipped: no URL (HTTPS only) |" in markdown
    assert "> **warning:** could not record the verdict" in markdown
    document = json.loads(_render(result, OutputFormat.JSON))
    assert document["outcome"] == "succeeded_without_smoke_test"
    assert document["exit_code"] == 15
    assert len(document["warnings"]) == 2
    accepted = replace(result, exit_code=0)
    assert _render(accepted, OutputFormat.MARKDOWN).startswith(
        "### ⚠️ deploy succeeded, smoke test SKIPPED (accepted: --allow-no-smoke-test)"
    )


def test_status_says_when_alarms_could_not_be_read():
    status = replace(RESULTS[0], alarms=(), alarms_error="describing alarms: AccessDenied")
    assert "Alarms: not read (describing alarms: AccessDenied)" in _render(
        status, OutputFormat.TEXT
    )
    assert "> alarms not read: describing alarms: AccessDenied" in _render(
        status, OutputFormat.MARKDOWN
    )


def test_every_exit_code_is_documented():
    """docs/opsctl.md's exit code table lists every code opsctl can end with, and no other."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[3] / "docs" / "opsctl.md").read_text()
    table = page.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)}
    documented |= {
        int(code)
        for row in re.findall(r"^\| (\d+(?:, \d+)+) \|", table, re.M)
        for code in row.split(", ")
    }
    assert documented == {int(code) for code in ExitCode}


def test_changes_name_who_and_the_sources_that_failed():
    changes = next(r for r in RESULTS if isinstance(r, ChangesResult) and r.changes)
    text = _render(changes, OutputFormat.TEXT)
    assert "by deploy/GitHubActions (CloudTrail UpdateService)" in text
    assert "run https://github.com/o/r/actions/runs/1" in text
    assert "  CloudTrail: not permitted (AccessDenied)" in text
    markdown = _render(changes, OutputFormat.MARKDOWN)
    assert "[run](https://github.com/o/r/actions/runs/1)" in markdown
    assert "| CloudTrail | failed | 0 | not permitted (AccessDenied) |" in markdown


def test_diagnose_shows_the_nearest_change_under_its_first_finding():
    changes = next(r for r in RESULTS if isinstance(r, ChangesResult) and r.changes)
    problem = next(r for r in RESULTS if isinstance(r, DiagnoseResult) and r.findings)
    linked = replace(problem, nearest_change=changes.changes[0])
    text = _render(linked, OutputFormat.TEXT)
    assert "nearest change before it: deployment at 2026-01-01 12:00:00Z" in text
    assert "ecs-svc/2 api:1 → api:2" in text
    markdown = _render(linked, OutputFormat.MARKDOWN)
    assert "- nearest change before it: 2026-01-01 12:00:00Z deployment ecs-svc/2" in markdown
    document = json.loads(_render(linked, OutputFormat.JSON))
    assert document["nearest_change"]["who_source"] == "CloudTrail UpdateService"
    unlinked = replace(problem, nearest_change_note="no deployment in the 24 h before")
    assert "nearest change before it: no deployment" in _render(unlinked, OutputFormat.TEXT)
