"""``opsctl logs [--since 10m] [--follow] [--filter PATTERN] [--task ID]``: the service's
CloudWatch Logs (``/aws/ecs/<service>``, runbook 4.1, 5.1, 8.1).

With the awslogs driver each task writes to ``<prefix>/<container>/<task-id>``, so ``--task``
reads exactly one stream. ``--filter`` takes CloudWatch Logs filter-pattern syntax
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from opsctl.commands import Context
from opsctl.errors import UsageError
from opsctl.model import LogEvent
from opsctl.results import LogEventInfo, LogsResult

_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``10m``, ``2h``, ``1d``... before now, or an ISO 8601 time (UTC when no zone)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match["unit"]]: int(match["n"])})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise UsageError(
            f"--since {value!r}: expected a duration like 30s, 10m, 2h, 1d or an ISO 8601 time"
        ) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _task_id(stream: str, prefix: str | None) -> str | None:
    parts = stream.split("/")
    return parts[-1] if prefix and len(parts) >= 3 else None


def _info(event: LogEvent, prefix: str | None) -> LogEventInfo:
    return LogEventInfo(
        event.timestamp, event.stream, _task_id(event.stream, prefix), event.message
    )


def _streams(ctx: Context, task: str | None) -> list[str]:
    if task is None:
        return []
    target = ctx.target
    if not target.log_stream_prefix:
        raise UsageError(
            "--task needs the container's awslogs-stream-prefix (the stream name is then "
            "<prefix>/<container>/<task-id>); this task definition sets none"
        )
    task_id = task.rsplit("/", 1)[-1]
    return [f"{target.log_stream_prefix}/{target.container_name}/{task_id}"]


def run(
    ctx: Context,
    *,
    since: str,
    pattern: str | None,
    task: str | None,
    limit: int,
    log_group: str | None,
) -> LogsResult:
    target = ctx.target
    group = log_group or target.log_group or f"/aws/ecs/{target.name}"
    start = parse_since(since)
    events = ctx.aws.filter_log_events(
        group, start=start, streams=_streams(ctx, task), pattern=pattern, limit=limit
    )
    return LogsResult(
        target=ctx.target_info(),
        log_group=group,
        since=start,
        filter=pattern,
        task_id=task.rsplit("/", 1)[-1] if task else None,
        events=tuple(_info(e, target.log_stream_prefix) for e in events),
    )


def follow(
    ctx: Context, first: LogsResult, *, pattern: str | None, task: str | None, interval: float
) -> Iterator[LogEventInfo]:
    """New events after ``first``, polling every ``interval`` seconds until Ctrl-C."""
    seen = {(e.stream, e.timestamp, e.message) for e in first.events}
    start = max((e.timestamp for e in first.events), default=first.since)
    streams = _streams(ctx, task)
    prefix = ctx.target.log_stream_prefix
    while True:
        time.sleep(interval)
        events = ctx.aws.filter_log_events(
            first.log_group, start=start, streams=streams, pattern=pattern
        )
        for event in events:
            key = (event.stream, event.timestamp, event.message)
            if key in seen:
                continue
            seen.add(key)
            start = max(start, event.timestamp)
            yield _info(event, prefix)
        if len(seen) > 50_000:  # bound memory on a long follow: keep only the newest second
            seen = {k for k in seen if k[1] >= start}
