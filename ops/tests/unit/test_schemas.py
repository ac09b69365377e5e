"""The shipped JSON Schemas are the ones generated from the result dataclasses, they hold the
constraints the dataclasses declare, and running a command never loads pydantic."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from opsctl.cli import COMMANDS
from opsctl.errors import ERROR_EXIT_CODES, ExitCode
from opsctl.output import to_document
from opsctl.results import (
    DOCUMENTS,
    ROLLOUT_EXIT_CODES,
    DiagnoseResult,
    ErrorInfo,
    ErrorResult,
    Finding,
    ImageInfo,
    Outcome,
    RolloutResult,
    Severity,
    StatusResult,
    TargetInfo,
    document_name,
)
from opsctl.schemagen import document_schema, main, schema_text

SHIPPED = Path(str(resources.files("opsctl").joinpath("schemas")))
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TARGET = TargetInfo("api-cluster", "api", "us-east-1", "command line")
DIGEST = "sha256:" + "d" * 64


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_shipped_schema_is_the_generated_one(name):
    shipped = SHIPPED / f"{name}.schema.json"
    assert shipped.is_file(), f"{shipped} is missing: run `make schemas`"
    assert shipped.read_text(encoding="utf-8") == schema_text(name), (
        f"{shipped} differs from the schema generated from opsctl/results.py: run `make schemas`"
    )


def test_every_shipped_schema_documents_a_result():
    assert sorted(p.name for p in SHIPPED.glob("*.schema.json")) == sorted(
        f"{name}.schema.json" for name in DOCUMENTS
    )


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_generated_schemas_are_valid_draft_2020_12(name):
    schema = document_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:opsctl:schema:{name}:v1"
    assert next(iter(schema["properties"])) == "schema_version"
    assert schema["required"] == list(schema["properties"])


def test_every_command_has_a_document():
    assert {document_name(command) for command in COMMANDS} == set(DOCUMENTS) - {"error"}
    assert document_name("nope") is None


def test_make_schemas_rewrites_stale_files_and_removes_strays(tmp_path, capsys):
    (tmp_path / "status.schema.json").write_text("{}\n")
    (tmp_path / "gone.schema.json").write_text("{}\n")
    assert main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}.schema.json" for name in DOCUMENTS
    )
    for name in DOCUMENTS:
        assert (tmp_path / f"{name}.schema.json").read_text() == schema_text(name)
    assert "removed" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""  # nothing stale: nothing written
    assert main([str(tmp_path / "missing")]) == 2


def _errors(document: dict[str, Any], name: str | None = None) -> list[str]:
    name = name or ("error" if "error" in document else document_name(document["command"]))
    schema = json.loads((SHIPPED / f"{name}.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    # With the messages of the branches of anyOf (nullable objects), which say what failed.
    return [
        error.message
        for top in validator.iter_errors(document)
        for error in (top, *(top.context or ()))
    ]


def _status() -> StatusResult:
    return StatusResult(
        target=TARGET,
        status="ACTIVE",
        desired=1,
        running=1,
        pending=0,
        revision=3,
        task_definition="arn:td:3",
        image=f"repo@{DIGEST}",
        image_digest=DIGEST,
        grace_period=None,
        circuit_breaker=True,
        circuit_breaker_rollback=True,
        target_group_arn=None,
        deployments=(),
        events=(),
        targets=(),
        alarms=(),
    )


def _rollout(outcome: Outcome) -> RolloutResult:
    return RolloutResult(
        command="watch",
        outcome=outcome,
        exit_code=int(outcome.exit_code),
        target=TARGET,
        deployment_id=None,
        from_revision=None,
        to_revision=None,
        image=None,
        diff=None,
        changes=(),
        rollout=None,
        verification=None,
        stopped_tasks=(),
        events=(),
        explanation=(),
        elapsed_seconds=0.0,
        resume_command=None,
    )


def test_documents_of_every_shape_pass():
    finding = Finding("r", Severity.WARNING, "t", ("seen",), "c", "4.2", "f")
    documents = [
        _status(),
        *(_rollout(outcome) for outcome in Outcome),
        DiagnoseResult(TARGET, (finding,), ("r",)),
        ErrorResult("status", ErrorInfo("AwsError", "denied", None, int(ExitCode.AWS))),
    ]
    for result in documents:
        assert _errors(to_document(result)) == [], result


STATUS = to_document(_status())
FAILED = to_document(_rollout(Outcome.FAILED))


@pytest.mark.parametrize(
    ("name", "document", "broken"),
    [
        # The JsonSchema hints of opsctl/results.py, each one crossed.
        ("status", {**STATUS, "image_digest": "sha256:nope"}, "does not match"),
        (
            "rollout",
            to_document(
                replace(
                    _rollout(Outcome.DRY_RUN),
                    image=ImageInfo("v1", "repo", "latest", ("v1",), None, None),
                )
            ),
            "does not match",
        ),
        ("rollout", {**FAILED, "exit_code": 2}, "is not one of"),
        ("rollout", {**FAILED, "elapsed_seconds": -1}, "less than"),
        (
            "error",
            to_document(ErrorResult("x", ErrorInfo("X", "m", None, int(ExitCode.ROLLED_BACK)))),
            "is not one of",
        ),
        (
            "diagnose",
            to_document(
                DiagnoseResult(
                    TARGET, (Finding("r", Severity.WARNING, "t", (), "c", "4.2", "f"),), ()
                )
            ),
            "should be non-empty",
        ),
        # Types, enums and the closed, complete shape of every object.
        ("status", {**STATUS, "command": "revisions"}, "'status' was expected"),
        ("rollout", {**FAILED, "command": "status"}, "is not one of"),
        ("rollout", {**FAILED, "outcome": "fine"}, "is not one of"),
        ("status", {**STATUS, "extra": 1}, "Additional properties"),
        ("status", {k: v for k, v in STATUS.items() if k != "alarms_error"}, "required"),
        ("status", {**STATUS, "schema_version": 2}, "1 was expected"),
        ("status", {**STATUS, "revision": "3"}, "not of type"),
        ("diagnose", {**to_document(DiagnoseResult(TARGET, (), ())), "healthy": None}, "not of"),
    ],
)
def test_documents_that_break_a_constraint_fail(name, document, broken):
    errors = _errors(document, name)
    assert any(broken in error for error in errors), errors


def test_exit_codes_in_schemas_are_the_documented_ones():
    assert (
        *(0, 10, 11, 12, 13, 14, 15, 16, 17),
        *(31, 32, 33, 36, 37),  # --rollback-on-failure: failed with 1X, rolled back
        *(41, 42, 43, 46, 47),  # failed with 1X, and the automatic rollback failed too
    ) == ROLLOUT_EXIT_CODES
    assert ERROR_EXIT_CODES == (1, 2, 3, 4, 5, 6, 130)
    error_codes = document_schema("error")["$defs"]["ErrorInfo"]["properties"]["exit_code"]
    assert error_codes["enum"] == list(ERROR_EXIT_CODES)


def test_healthy_follows_the_findings():
    finding = Finding("r", Severity.CRITICAL, "t", ("e",), "c", "4.2", "f")
    assert DiagnoseResult(TARGET, (), ()).healthy is True
    sick = replace(DiagnoseResult(TARGET, (), ()), findings=(finding,))
    assert sick.healthy is False
    assert to_document(sick)["healthy"] is False


def test_running_a_command_never_imports_pydantic():
    """pydantic is for generating schemas only: importing it would add to every command's
    start-up (docs/performance.md)."""
    code = (
        "import sys, opsctl.cli, opsctl.output, opsctl.results, opsctl.aws, opsctl.diagnosis\n"
        "from opsctl.commands import deploy, diagnose, logs, redeploy, revisions, rollback, "
        "status, watch\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', "
        "'pydantic_core'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
