"""Rendering results: text (rich tables for people), json (one stable document for machines,
described by opsctl/schemas/<name>.schema.json, generated from opsctl.results) and markdown
(GitHub job summaries).

Every format comes from :class:`OutputFormat`; :func:`render` handles each member, and mypy
checks the match is exhaustive.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from enum import Enum, StrEnum
from functools import singledispatch
from typing import Any, TextIO, assert_never

from rich.console import Console
from rich.markup import escape

from opsctl import tables
from opsctl.results import (
    SCHEMA_VERSION,
    ChangeEntry,
    ChangeKind,
    ChangesResult,
    DiagnoseResult,
    ErrorResult,
    LogEventInfo,
    LogsResult,
    Outcome,
    ProvenanceResult,
    Result,
    RevisionsResult,
    RolloutResult,
    StatusResult,
)
from opsctl.tables import Col, Kind, short_digest


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def jsonable(value: object) -> Any:  # noqa: ANN401 - JSON is untyped
    """Dataclasses to dicts of all their fields, enums to values, datetimes to ISO 8601 UTC,
    tuples to lists (what opsctl.schemagen describes: every field required, no other key)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
        return stamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def to_document(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    document.update(jsonable(result))
    return document


def render(result: Result, fmt: OutputFormat, stream: TextIO) -> None:
    match fmt:
        case OutputFormat.JSON:
            stream.write(json.dumps(to_document(result), indent=2) + "\n")
        case OutputFormat.TEXT:
            # Long lines (diffs, log lines, ARNs) stay whole so they can be copied and grepped.
            wide = stream.isatty() or "COLUMNS" in os.environ
            console = Console(
                file=stream, width=None if wide else 120, highlight=False, soft_wrap=True
            )
            _text(result, console)
        case OutputFormat.MARKDOWN:
            stream.write(_markdown(result).rstrip() + "\n")
        case _:
            assert_never(fmt)


def render_log_event(event: LogEventInfo, fmt: OutputFormat, stream: TextIO) -> None:
    """One followed log event: a line of text, an NDJSON line, or a markdown code line."""
    match fmt:
        case OutputFormat.JSON:
            stream.write(json.dumps(jsonable(event)) + "\n")
        case OutputFormat.TEXT | OutputFormat.MARKDOWN:
            stream.write(_log_line(event) + "\n")
        case _:
            assert_never(fmt)
    stream.flush()


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _short_image(image: str | None) -> str:
    if not image:
        return "-"
    name = image.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        repo, digest = name.split("@sha256:", 1)
        return f"{repo}@sha256:{digest[:12]}"
    return name


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)


def _log_line(event: LogEventInfo) -> str:
    who = (event.task_id or event.stream)[:12]
    return f"{_when(event.timestamp)} {who} {event.message}"


_OUTCOME_TEXT = {
    Outcome.SUCCEEDED: ("succeeded", "green"),
    Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST: ("succeeded, smoke test SKIPPED", "yellow"),
    Outcome.ROLLED_BACK: ("FAILED and was ROLLED BACK by the ECS circuit breaker", "red"),
    Outcome.FAILED: ("FAILED (not rolled back)", "red"),
    Outcome.TIMED_OUT: ("TIMED OUT (still running in ECS)", "red"),
    Outcome.UNVERIFIED: ("completed but FAILED verification", "red"),
    Outcome.SUPERSEDED: ("was SUPERSEDED by another deployment", "yellow"),
    Outcome.FAILING: ("is FAILING: stopped waiting (fail fast)", "red"),
    Outcome.BAKE_FAILED: ("completed but FAILED the bake window", "red"),
    Outcome.STARTED: ("started (not waiting)", "cyan"),
    Outcome.DRY_RUN: ("dry run: nothing changed", "cyan"),
    Outcome.UNCHANGED: ("nothing to do", "cyan"),
}


def _words(result: RolloutResult) -> tuple[str, str]:
    """The headline of a rollout: the outcome, who rolled back, what opsctl's rollback did."""
    words, style = _OUTCOME_TEXT[result.outcome]
    if result.outcome == Outcome.ROLLED_BACK and result.explanation:
        first = result.explanation[0]
        if first.startswith("ECS deployment alarms"):
            words = "FAILED and was ROLLED BACK by ECS deployment alarms"
        elif first.startswith("a requested rollback"):
            words = "FAILED and was ROLLED BACK (rollback requested)"
    if result.command == "rollback" and result.method == "stop_service_deployment":
        words += " (stopped the deployment in progress)"
    back = result.automatic_rollback
    if back is not None:
        if result.exit_code // 10 == 3:
            words += "; ROLLED BACK to the last known good (--rollback-on-failure)"
        else:
            words += "; the automatic ROLLBACK FAILED too"
    if result.outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST and result.exit_code == 0:
        words += " (accepted: --allow-no-smoke-test)"
    return words, style


def outcome_words(outcome: Outcome) -> str:
    """How an outcome reads in a sentence ("deploy <words>"): the same in every output."""
    return _OUTCOME_TEXT[outcome][0]


# --- text -------------------------------------------------------------------------------------


@singledispatch
def _text(result: object, console: Console) -> None:
    raise TypeError(f"no text renderer for {type(result).__name__}")


@_text.register
def _(result: StatusResult, console: Console) -> None:
    t = result.target
    console.print(
        f"[bold]{escape(t.service)}[/] in {escape(t.cluster)} ({t.region}): {result.status}, "
        f"{result.running}/{result.desired} running, {result.pending} pending; "
        f"revision {result.revision}"
    )
    breaker = (
        "on" + (" with rollback" if result.circuit_breaker_rollback else "")
        if result.circuit_breaker
        else "off"
    )
    image = short_digest(result.image_digest) if result.image_digest else _image_cell(result.image)
    grace = result.grace_period or 0
    console.print(f"image {escape(image)}; circuit breaker {breaker}; grace period {grace}s")
    tables.render(
        console,
        [
            Col("deployment", Kind.NAME),
            Col("status", drop=3),
            Col("rollout"),
            Col("rev", justify="right"),
            Col("image", Kind.DIGEST),
            Col("running", justify="right"),
            Col("pending", drop=2, justify="right"),
            Col("failed", justify="right"),
            Col("updated", drop=1),
        ],
        [
            [
                d.id,
                d.status,
                d.rollout_state or "-",
                str(d.revision or "-"),
                _image_cell(d.image),
                f"{d.running}/{d.desired}",
                str(d.pending),
                str(d.failed_tasks),
                _when(d.updated_at),
            ]
            for d in result.deployments
        ],
        title="[bold]Deployments[/]",
    )
    if result.target_group_arn:
        if result.targets:
            tables.render(
                console,
                [
                    Col("target", Kind.NAME),
                    Col("port", justify="right"),
                    Col("state"),
                    Col("reason"),
                    Col("description", Kind.PROSE),
                ],
                [
                    [
                        h.id,
                        str(h.port or "-"),
                        f"[{_health_style(h.state)}]{h.state}[/]",
                        h.reason or "",
                        escape(h.description or ""),
                    ]
                    for h in result.targets
                ],
                title="[bold]Target health[/]",
            )
        else:
            console.print("Target health: no registered targets")
    if result.alarms:
        tables.render(
            console,
            [
                Col("alarm", Kind.NAME),
                Col("since", drop=2),
                Col("metric", drop=1),
                Col("reason", Kind.PROSE),
            ],
            [
                [escape(a.name), _when(a.updated_at), a.metric or "-", escape(a.reason)]
                for a in result.alarms
            ],
            title="[bold]Alarms in ALARM[/]",
        )
    elif result.alarms_error:
        console.print(f"[yellow]Alarms: not read[/] ({escape(result.alarms_error)})")
    else:
        console.print("Alarms: none in ALARM")
    if result.events:
        console.print("[bold]Latest events[/]")
        for e in result.events:
            console.print(f"  {_when(e.created_at)} {escape(e.message)}")


def _nearest_change(result: DiagnoseResult, console: Console) -> None:
    entry = result.nearest_change
    if entry is None:
        if result.nearest_change_note:
            console.print(f"  nearest change before it: {escape(result.nearest_change_note)}")
        return
    console.print(f"  nearest change before it: {_KIND_WORDS[entry.kind]} at {_when(entry.at)}")
    for line in _change_lines(entry):
        console.print(f"      {escape(line)}")
    console.print("      (`opsctl changes --since 24h` shows the whole timeline)", style="dim")


def _health_style(state: str) -> str:
    return "green" if state == "healthy" else "red" if state == "unhealthy" else "yellow"


def _image_cell(image: str | None) -> str:
    """A table's image: the digest, shortened, when the image is pinned by one; else its
    ``name:tag`` (a name: never shortened)."""
    if not image:
        return "-"
    if "@sha256:" in image:
        return short_digest(image.rsplit("@", 1)[1])
    return image.rsplit("/", 1)[-1]


@_text.register
def _(result: RolloutResult, console: Console) -> None:
    words, style = _words(result)
    src = f"{result.from_revision.revision}" if result.from_revision else "?"
    dst = result.to_revision
    arrow = (
        f" (revision {src} -> {dst.revision if dst and dst.revision else 'new'}: "
        f"{_short_image(dst.image if dst else None)})"
    )
    console.print(f"[bold {style}]{result.command} {words}[/]{arrow}")
    if result.deployment_id:
        console.print(f"deployment {result.deployment_id}; {result.elapsed_seconds:.0f}s")
    if result.image:
        console.print(
            f"image {escape(result.image.repository)}@{result.image.digest} "
            f"(tags: {', '.join(result.image.tags) or '-'})"
        )
    if result.rollout and result.rollout.rollback_deployment_id:
        console.print(
            f"rollback deployment {result.rollout.rollback_deployment_id} to revision "
            f"{result.rollout.rollback_revision}: {result.rollout.rollback_state}"
        )
    v = result.verification
    if v is not None:
        targets = (
            "no load balancer"
            if v.targets_healthy is None
            else ("healthy" if v.targets_healthy else "NOT healthy")
        )
        smoke = (
            "skipped (see warning)"
            if v.smoke_ok is None
            else f"{v.smoke_url} -> {v.smoke_status}" + (" ok" if v.smoke_ok else " FAILED")
        )
        version = f"; version {v.version} ({v.commit})" if v.version else ""
        console.print(f"verification: targets {targets}; smoke test {escape(smoke)}{version}")
    for line in result.explanation:
        console.print(f"  - {escape(line)}")
    for task in result.stopped_tasks[:5]:
        code = f" (exit {task.exit_code})" if task.exit_code is not None else ""
        reason = escape(task.stopped_reason or task.stop_code or "")
        console.print(f"  stopped task {task.task_id[:12]}: {reason}{code}")
    if result.fail_fast is not None and result.fail_fast.log_error:
        console.print(f"  (no log lines: {escape(result.fail_fast.log_error)})")
    if result.bake is not None:
        b = result.bake
        verdict = "passed" if b.passed else "FAILED"
        console.print(
            f"bake: {verdict} after {b.watched_seconds:.0f}s of {b.seconds:.0f}s; "
            f"{len(b.alarms)} alarm(s) watched; requests {_n(b.requests)}, target 5xx "
            f"{_n(b.target_5xx)}, load balancer 5xx {_n(b.elb_5xx)}, 5xx access lines "
            f"{_n(b.service_5xx)}"
        )
        for line in b.not_watched:
            console.print(f"  not watched: {escape(line)}", style="dim")
    back = result.automatic_rollback
    if back is not None:
        to = back.to_revision.revision if back.to_revision else "?"
        how = {
            "stop_service_deployment": "StopServiceDeployment",
            "update_service": "UpdateService",
        }
        console.print(
            f"automatic rollback: {back.outcome.value} (revision {to}"
            + (f", deployment {back.deployment_id}" if back.deployment_id else "")
            + (f", {how[back.method]}" if back.method else "")
            + ")"
        )
        for line in back.explanation:
            console.print(f"  - {escape(line)}")
    for warning in result.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")
    for note in result.notes:
        console.print(f"note: {escape(note)}", style="dim")
    if result.diff and result.outcome in (Outcome.DRY_RUN, Outcome.UNCHANGED):
        console.print("[bold]task definition diff[/]")
        for line in result.diff.splitlines():
            color = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(f"[{color}]{escape(line)}[/]")
    if result.resume_command:
        console.print(f"resume watching: {escape(result.resume_command)}")


@_text.register
def _(result: RevisionsResult, console: Console) -> None:
    rows = []
    for r in result.revisions:
        marks = []
        if r.running:
            marks.append("[bold]running[/]")
        if r.last_known_good:
            marks.append("[green]last known good[/]")
        if r.verdict == "good" and not r.last_known_good:
            marks.append("good")
        if r.verdict == "bad":
            marks.append(f"[red]{r.bad_reason or 'bad'}[/]")
        rows.append(
            [str(r.revision), _when(r.registered_at), _image_cell(r.image), ", ".join(marks) or "-"]
        )
    tables.render(
        console,
        [
            Col("rev", justify="right"),
            Col("registered", drop=1),
            Col("image", Kind.DIGEST),
            Col("state"),
        ],
        rows,
        title=f"[bold]{escape(result.family)}[/] (newest first)",
    )
    lkg = f"revision {result.last_known_good}" if result.last_known_good else "none recorded"
    console.print(f"last known good (other than the current revision): {lkg}")


@_text.register
def _(result: LogsResult, console: Console) -> None:
    for event in result.events:
        console.print(escape(_log_line(event)), highlight=False, markup=True)


@_text.register
def _(result: DiagnoseResult, console: Console) -> None:
    t = result.target
    if not result.findings:
        console.print(
            f"[bold green]no problem found[/]: {escape(t.service)} in {escape(t.cluster)} "
            f"({t.region})"
        )
    for index, f in enumerate(result.findings):
        style = "red" if f.severity.value == "critical" else "yellow"
        console.print(
            f"[bold {style}]{f.severity.value.upper()}[/] {escape(f.title)} [dim]({f.rule})[/]"
        )
        console.print("  evidence:")
        for line in f.evidence:
            # Indented evidence lines (a task's output) continue the bullet above them.
            bullet = "     " if line.startswith("  ") else "    - "
            console.print(f"{bullet}{escape(line)}")
        console.print(f"  likely cause: {escape(f.likely_cause)}")
        console.print(f"  runbook: {escape(f.runbook)}")
        console.print(f"  fix: {escape(f.fix)}")
        if index == 0:
            _nearest_change(result, console)
    if result.looked_at:
        console.print("[bold]looked at[/]")
        for line in result.looked_at:
            console.print(f"  - {escape(line)}")
    if result.findings:
        console.print(
            f"rules checked: {len(result.rules_checked)} (`opsctl diagnose -o json` lists them)",
            style="dim",
        )
    else:
        tables.render(
            console,
            [Col("rule", Kind.NAME), Col("looks for", Kind.PROSE)],
            [[c.rule, escape(c.looks_for)] for c in result.checks]
            or [[name, ""] for name in result.rules_checked],
            title=f"[bold]rules checked ({len(result.rules_checked)})[/]",
        )


@_text.register
def _(result: ChangesResult, console: Console) -> None:
    t = result.target
    console.print(
        f"[bold]{escape(t.service)}[/] ({escape(t.cluster)}, {t.region}): changes since "
        f"{_when(result.since)}, newest first"
    )
    if result.changes:
        one_day = len({e.at.astimezone(UTC).date() for e in result.changes}) == 1
        tables.render(
            console,
            [Col("time"), Col("kind"), Col("change", Kind.TEXT)],
            [
                [
                    _at(e.at, one_day),
                    _KIND_WORDS[e.kind],
                    "\n".join(escape(line) for line in _change_lines(e)),
                ]
                for e in result.changes
            ],
        )
    else:
        console.print("no change found in the window")
    tables.render(
        console,
        [Col("source", Kind.NAME), Col("read"), Col("entries", justify="right")],
        [[s.source, _SOURCE_WORDS[s.state], str(s.entries)] for s in result.sources],
        title="[bold]Sources[/]",
    )
    for s in result.sources:  # whole: a note says what to do, it must not be cut
        if s.note and s.state in ("failed", "skipped"):
            console.print(f"  {s.source}: {escape(s.note)}")


_KIND_WORDS = {
    ChangeKind.DEPLOYMENT: "deployment",
    ChangeKind.ROLLBACK: "rollback",
    ChangeKind.VERDICT: "verdict",
    ChangeKind.TASK_DEFINITION: "taskdef",
    ChangeKind.IMAGE: "image",
    ChangeKind.ALARM: "alarm",
    ChangeKind.TERRAFORM: "terraform",
}
_SOURCE_WORDS = {"read": "yes", "empty": "nothing", "failed": "FAILED", "skipped": "skipped"}


def _at(value: datetime, one_day: bool) -> str:
    stamp = value.astimezone(UTC)
    return stamp.strftime("%H:%M:%SZ" if one_day else "%m-%d %H:%MZ")


def principal(arn: str) -> str:
    """A principal's ARN without what a person does not need to tell who it was: an assumed
    role's ``role/session`` (an SSO session is the person's name), an IAM user's name."""
    if ":assumed-role/" in arn:
        return arn.split(":assumed-role/", 1)[1]
    if ":user/" in arn:
        return arn.rsplit("/", 1)[-1]
    if arn.endswith(":root"):
        return "root"
    return arn


def _change_lines(entry: ChangeEntry) -> list[str]:
    lines = [entry.summary]
    if entry.who:
        lines.append(f"by {principal(entry.who)} ({entry.who_source})")
    if entry.run_url:
        lines.append(f"run {entry.run_url}")
    lines += list(entry.details)
    return lines


@_text.register
def _(result: ProvenanceResult, console: Console) -> None:
    t = result.target
    if result.proven:
        words, style = "ran successfully", "green"
    else:
        words, style = "has NOT run successfully", "red" if result.require_verified else "yellow"
    console.print(
        f"[bold {style}]{result.image.digest} {words}[/] in {escape(t.service)} "
        f"({escape(t.cluster)}, {t.region})"
    )
    console.print(
        f"image {escape(result.pinned)} (tags: {', '.join(result.image.tags) or '-'}; "
        f"pushed {_when(result.image.pushed_at)})"
    )
    if result.runs:
        rows = []
        for r in result.runs:
            state = r.verdict + (f" ({r.bad_reason})" if r.verdict == "bad" else "")
            if r.running:
                state += ", running"
            rows.append(
                [
                    str(r.revision),
                    _when(r.registered_at),
                    state,
                    _when(r.good_since),
                    _when(r.bad_since),
                ]
            )
        tables.render(
            console,
            [
                Col("rev", justify="right"),
                Col("registered", drop=1),
                Col("state"),
                Col("good since", drop=2),
                Col("bad since", drop=3),
            ],
            rows,
            title="Revisions pinning it",
        )
    for line in result.explanation:
        console.print(f"  - {escape(line)}")


@_text.register
def _(result: ErrorResult, console: Console) -> None:
    console.print(
        f"opsctl {result.command}: error ({result.error.type}, exit {result.error.exit_code}): "
        f"{escape(result.error.message)}"
    )
    if result.error.hint:
        console.print(f"  hint: {escape(result.error.hint)}")


# --- markdown ---------------------------------------------------------------------------------


def _cell(value: object) -> str:
    return str(value if value not in (None, "") else "-").replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@singledispatch
def _md(result: object) -> str:
    raise TypeError(f"no markdown renderer for {type(result).__name__}")


def _markdown(result: Result) -> str:
    return _md(result)


@_md.register
def _(result: StatusResult) -> str:
    t = result.target
    parts = [
        f"### `{t.service}` status",
        f"{result.running}/{result.desired} running, {result.pending} pending; revision "
        f"{result.revision} "
        f"(`{result.image_digest or result.image}`)",
        _table(
            ["deployment", "status", "rollout", "revision", "running", "failed"],
            [
                [
                    d.id,
                    d.status,
                    d.rollout_state,
                    d.revision,
                    f"{d.running}/{d.desired}",
                    d.failed_tasks,
                ]
                for d in result.deployments
            ],
        ),
    ]
    if result.targets:
        parts.append(
            _table(
                ["target", "state", "reason"],
                [[f"{h.id}:{h.port}", h.state, h.reason] for h in result.targets],
            )
        )
    if result.alarms:
        parts.append(
            _table(["alarm in ALARM", "reason"], [[a.name, a.reason] for a in result.alarms])
        )
    elif result.alarms_error:
        parts.append(f"> alarms not read: {result.alarms_error}")
    return "\n\n".join(parts)


@_md.register
def _(result: RolloutResult) -> str:
    words, _ = _words(result)
    icon = (
        "❌"
        if result.exit_code != 0
        else "⚠️"
        if result.warnings or result.outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST
        else "✅"
    )
    src = result.from_revision.revision if result.from_revision else "?"
    dst = (
        result.to_revision.revision if result.to_revision and result.to_revision.revision else "new"
    )
    rows: list[list[object]] = [
        ["outcome", f"`{result.outcome.value}` (exit {result.exit_code})"],
        ["revision", f"{src} → {dst}"],
        ["image", f"`{result.to_revision.image}`" if result.to_revision else "-"],
        ["deployment", result.deployment_id],
        ["elapsed", f"{result.elapsed_seconds:.0f} s"],
    ]
    if result.verification:
        v = result.verification
        rows.append(["targets healthy", v.targets_healthy])
        rows.append(
            [
                "smoke test",
                f"{v.smoke_url} → {v.smoke_status}" if v.smoke_url else f"skipped: {v.detail}",
            ]
        )
    if result.bake is not None:
        b = result.bake
        rows.append(
            [
                "bake",
                f"{'passed' if b.passed else 'FAILED'} ({b.watched_seconds:.0f} s of "
                f"{b.seconds:.0f} s; requests {_n(b.requests)}, target 5xx {_n(b.target_5xx)}, "
                f"load balancer 5xx {_n(b.elb_5xx)}, 5xx access lines {_n(b.service_5xx)})",
            ]
        )
    if result.automatic_rollback is not None:
        back = result.automatic_rollback
        to = back.to_revision.revision if back.to_revision else "?"
        rows.append(["automatic rollback", f"`{back.outcome.value}` to revision {to}"])
    parts = [f"### {icon} {result.command} {words}", _table(["", ""], rows)]
    if result.explanation:
        parts.append("\n".join(f"- {line}" for line in result.explanation))
    if result.warnings:
        parts.append("\n".join(f"> **warning:** {warning}" for warning in result.warnings))
    if result.notes:
        parts.append("\n".join(f"> {note}" for note in result.notes))
    if result.diff and result.outcome in (Outcome.DRY_RUN, Outcome.UNCHANGED):
        parts.append(f"```diff\n{result.diff}\n```")
    return "\n\n".join(parts)


@_md.register
def _(result: RevisionsResult) -> str:
    return f"### `{result.family}` revisions\n\n" + _table(
        ["revision", "registered", "image", "running", "last known good", "verdict"],
        [
            [
                r.revision,
                _when(r.registered_at),
                f"`{_short_image(r.image)}`",
                "yes" if r.running else "",
                "yes" if r.last_known_good else "",
                r.verdict,
            ]
            for r in result.revisions
        ],
    )


@_md.register
def _(result: LogsResult) -> str:
    body = "\n".join(_log_line(e) for e in result.events)
    return f"### `{result.log_group}` since {_when(result.since)}\n\n```\n{body}\n```"


@_md.register
def _(result: DiagnoseResult) -> str:
    looked = "\n".join(f"- {line}" for line in result.looked_at)
    if not result.findings:
        parts = [f"### ✅ `{result.target.service}`: no problem found"]
        if looked:
            parts.append(f"Looked at:\n\n{looked}")
        parts.append(
            _table(
                ["rule checked", "looks for"],
                [[c.rule, c.looks_for] for c in result.checks]
                or [[name, "-"] for name in result.rules_checked],
            )
        )
        return "\n\n".join(parts)
    parts = [f"### ❌ `{result.target.service}`: {len(result.findings)} problem(s)"]
    for index, f in enumerate(result.findings):
        evidence = "\n".join(f"  - {line}" for line in f.evidence)
        nearest = ""
        if index == 0 and result.nearest_change is not None:
            e = result.nearest_change
            who = f" by `{e.who}` ({e.who_source})" if e.who else ""
            nearest = f"\n- nearest change before it: {_when(e.at)} {e.kind.value} {e.summary}{who}"
        elif index == 0 and result.nearest_change_note:
            nearest = f"\n- nearest change before it: {result.nearest_change_note}"
        parts.append(
            f"**{f.severity.value.upper()}: {f.title}** (`{f.rule}`)\n"
            f"- evidence:\n{evidence}\n- likely cause: {f.likely_cause}\n- runbook: "
            f"{f.runbook}\n- fix: {f.fix}{nearest}"
        )
    if looked:
        parts.append(f"Looked at:\n\n{looked}")
    parts.append(f"Rules checked: {', '.join(f'`{r}`' for r in result.rules_checked)}")
    return "\n\n".join(parts)


@_md.register
def _(result: ChangesResult) -> str:
    t = result.target
    parts = [
        f"### What changed: `{t.service}` ({t.cluster}), {_when(result.since)} to "
        f"{_when(result.until)}"
    ]
    if result.changes:
        parts.append(
            _table(
                ["time", "kind", "change", "by", "details"],
                [
                    [
                        _when(e.at),
                        e.kind.value,
                        e.summary,
                        f"`{e.who}`" + (f" ({e.who_source})" if e.who_source else "")
                        if e.who
                        else "-",
                        "<br>".join([*e.details, *([f"[run]({e.run_url})"] if e.run_url else [])]),
                    ]
                    for e in result.changes
                ],
            )
        )
    else:
        parts.append("No change found in the window.")
    parts.append(
        _table(
            ["source", "read", "entries", "note"],
            [[s.source, s.state, s.entries, s.note] for s in result.sources],
        )
    )
    return "\n\n".join(parts)


@_md.register
def _(result: ProvenanceResult) -> str:
    t = result.target
    if result.proven:
        heading = f"### ✅ `{result.image.digest}` ran successfully in `{t.service}`"
    else:
        icon = "❌" if result.require_verified else "⚠️"
        heading = f"### {icon} `{result.image.digest}` has not run successfully in `{t.service}`"
    evidence = result.evidence
    rows: list[list[object]] = [
        ["image", f"`{result.pinned}`"],
        ["asked for", f"`{result.image.requested}`"],
        ["tags", ", ".join(f"`{tag}`" for tag in result.image.tags)],
        ["pushed", _when(result.image.pushed_at)],
        [
            "evidence",
            f"revision {evidence.revision} (`{evidence.task_definition}`), good since "
            f"{_when(evidence.good_since)}, deployment `{evidence.verified_deployment or '-'}`"
            if evidence
            else "none",
        ],
        ["where", f"`{t.service}` in `{t.cluster}` ({t.region})"],
    ]
    parts = [heading, _table(["", ""], rows)]
    parts.append("\n".join(f"- {line}" for line in result.explanation))
    if result.runs:
        parts.append(
            _table(
                ["revision", "registered", "verdict", "good since", "bad since", "running"],
                [
                    [
                        r.revision,
                        _when(r.registered_at),
                        r.verdict + (f" ({r.bad_reason})" if r.verdict == "bad" else ""),
                        _when(r.good_since),
                        _when(r.bad_since),
                        "yes" if r.running else "",
                    ]
                    for r in result.runs
                ],
            )
        )
    return "\n\n".join(parts)


@_md.register
def _(result: ErrorResult) -> str:
    parts = [
        f"### ❌ `opsctl {result.command}` failed (exit {result.error.exit_code}, "
        f"{result.error.type})",
        result.error.message,
    ]
    if result.error.hint:
        parts.append(f"> hint: {result.error.hint}")
    return "\n\n".join(parts)
