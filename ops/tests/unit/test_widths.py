"""Tables fit the terminal: at 80 and 120 columns no table row wraps, no name is cut, and
digests are shortened (issue 12: the status table wrapped and cut the image at 120)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from opsctl import tables
from opsctl.model import TargetHealth
from opsctl.output import OutputFormat, render
from opsctl.results import (
    AlarmInfo,
    DeploymentInfo,
    EventInfo,
    RevisionInfo,
    RevisionsResult,
    StatusResult,
    TargetInfo,
)
from opsctl.tables import Col, Kind
from rich.console import Console

NOW = datetime(2026, 11, 27, 3, 19, 10, tzinfo=UTC)
TARGET = TargetInfo("api-cluster", "api", "us-east-1", "target file")
DIGEST_A = "sha256:0a6f92476662" + "a" * 52
DIGEST_B = "sha256:02768d182641" + "b" * 52
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
NEW_ID = "ecs-svc/1626526993451988320"
OLD_ID = "ecs-svc/1332366985617014752"
ALARM = "fastapi-prod-target-5xx-errors"


def deployment(id_: str, status: str, rollout: str, revision: int, digest: str) -> DeploymentInfo:
    return DeploymentInfo(
        id=id_,
        status=status,  # type: ignore[arg-type]
        task_definition=f"arn:aws:ecs:us-east-1:123456789012:task-definition/api:{revision}",
        desired=10,
        running=4,
        pending=6,
        failed_tasks=2,
        rollout_state=rollout,  # type: ignore[arg-type]
        rollout_reason=None,
        created_at=NOW,
        updated_at=NOW,
        revision=revision,
        image=f"{REPO}@{digest}",
    )


STATUS = StatusResult(
    target=TARGET,
    status="ACTIVE",
    desired=10,
    running=8,
    pending=6,
    revision=1234,
    task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/api:1234",
    image=f"{REPO}@{DIGEST_B}",
    image_digest=DIGEST_B,
    grace_period=60,
    circuit_breaker=True,
    circuit_breaker_rollback=True,
    target_group_arn="arn:tg",
    deployments=(
        deployment(NEW_ID, "PRIMARY", "IN_PROGRESS", 1234, DIGEST_B),
        deployment(OLD_ID, "ACTIVE", "COMPLETED", 1233, DIGEST_A),
    ),
    events=(EventInfo(NOW, "(service api) has started 2 tasks."),),
    targets=(
        TargetHealth(
            "10.20.100.142",
            8000,
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        ),
        TargetHealth(
            "10.20.0.6",
            8000,
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [404]",
        ),
    ),
    alarms=(
        AlarmInfo(
            ALARM,
            "Threshold Crossed: 3 out of the last 3 datapoints [6.0 (27/11/26 03:17:00)] were "
            "greater than or equal to the threshold (5.0)",
            # pragma: allowlist nextline secret - a CloudWatch metric name, not a secret
            "AWS/ApplicationELB/HTTPCode_Target_5XX_Count",
            NOW - timedelta(minutes=2),
        ),
    ),
)

REVISIONS = RevisionsResult(
    target=TARGET,
    family="api",
    running=(1234,),
    last_known_good=1233,
    scanned=2,
    revisions=(
        RevisionInfo(
            1234,
            "arn:td:1234",
            f"{REPO}@{DIGEST_B}",
            NOW,
            True,
            False,
            "bad",
            None,
            NOW,
            "rolled_back",
        ),
        RevisionInfo(
            1233, "arn:td:1233", f"{REPO}@{DIGEST_A}", NOW, False, True, "good", NOW, None, None
        ),
    ),
)


def text(result: object, width: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    stream = io.StringIO()
    render(result, OutputFormat.TEXT, stream)  # type: ignore[arg-type]
    return [line.rstrip() for line in stream.getvalue().splitlines()]


def table_lines(lines: list[str], title: str, rows: int) -> list[str]:
    """The header and ``rows`` rows of the table titled ``title``; fails if a row wrapped
    (a wrapped row would push a continuation line where the next section starts)."""
    start = lines.index(title) + 1
    block = lines[start : start + 1 + rows]
    after = lines[start + 1 + rows : start + 2 + rows]
    assert not after or not after[0].startswith(" " * 8), f"a row of {title!r} wrapped: {after}"
    return block


@pytest.mark.parametrize("width", [80, 120])
def test_status_tables_fit_and_keep_every_name(width, monkeypatch):
    lines = text(STATUS, width, monkeypatch)
    for title, rows in (("Deployments", 2), ("Target health", 2), ("Alarms in ALARM", 1)):
        block = table_lines(lines, title, rows)
        assert max(len(line) for line in block) <= width, "\n".join(block)
    deployments = table_lines(lines, "Deployments", 2)
    assert NEW_ID in deployments[1]
    assert OLD_ID in deployments[2]
    assert "sha256:02768d1" in deployments[1]  # digests shortened, never the whole thing
    assert DIGEST_B not in "\n".join(lines)
    health = table_lines(lines, "Target health", 2)
    assert "Target.DeregistrationInProgress" in health[1]
    assert "10.20.100.142" in health[1]
    assert ALARM in table_lines(lines, "Alarms in ALARM", 1)[1]
    assert all(len(line) <= width for line in lines[:2])  # the summary above the tables


def test_wider_terminals_show_more_columns(monkeypatch):
    narrow = table_lines(text(STATUS, 80, monkeypatch), "Deployments", 2)[0].split()
    wide = table_lines(text(STATUS, 120, monkeypatch), "Deployments", 2)[0].split()
    assert "status" not in narrow
    assert "status" in wide
    assert set(narrow) < set(wide)


@pytest.mark.parametrize("width", [80, 120])
def test_revisions_table_fits(width, monkeypatch):
    lines = text(REVISIONS, width, monkeypatch)
    block = table_lines(lines, "api (newest first)", 2)
    assert max(len(line) for line in block) <= width
    assert "sha256:02768d18…" in block[1]
    assert "last known good" in block[2]


def test_prose_gives_way_names_do_not():
    console = Console(file=io.StringIO(), width=40, color_system=None)
    columns = [Col("name", Kind.NAME), Col("note", Kind.PROSE)]
    long_name = "a-name-that-is-thirty-five-chars-xx"
    tables.render(console, columns, [[long_name, "some prose that will not fit here"]])
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert long_name in out
    assert "some prose" not in out  # too little room left: the prose column is left out


def test_a_table_wider_than_the_terminal_keeps_its_names_whole():
    console = Console(file=io.StringIO(), width=20, color_system=None)
    name = "ecs-svc/1626526993451988320"
    tables.render(console, [Col("deployment", Kind.NAME), Col("rev")], [[name, "12"]])
    assert name in console.file.getvalue()  # type: ignore[attr-defined]


def test_short_digest():
    assert tables.short_digest(DIGEST_A) == "sha256:0a6f9247…"
    assert tables.short_digest(None) == "-"
    assert tables.short_digest("sha256:abc") == "sha256:abc"


def test_status_without_a_digest_names_the_tag(monkeypatch):
    tagged = replace(STATUS, image=f"{REPO}:v2", image_digest=None)
    assert "image api:v2;" in "\n".join(text(tagged, 80, monkeypatch))
