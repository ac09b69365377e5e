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

from opsctl.commands import Context
from opsctl.errors import UsageError
from opsctl.model import LogEvent
from opsctl.results import LogEventInfo, LogsResult
from opsctl.since import parse_since

__all__ = ["follow", "parse_since", "run", "task_id"]

# ECS task ids: 32 hex digits, or a UUID for tasks of clusters created before the new ARN
# format (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html).
_TASK_ID = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12})$")
_TASK_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task/(?:[A-Za-z0-9_-]+/)?(?P<id>[^/]+)$"
)


def task_id(value: str) -> str:
    """The task id in ``value`` (an id or a task ARN); UsageError (exit 2) when it is neither:
    the id becomes part of a log stream name, so nothing else may pass."""
    text = value.strip()
    match = _TASK_ARN.match(text)
    candidate = match["id"] if match else text
    if not _TASK_ID.match(candidate):
        raise UsageError(
            f"--task {value!r}: expected a whole task id (32 hex digits; `opsctl -o json logs` "
            "shows them, text output shortens them to 12) or a task ARN"
        )
    return candidate


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
    return [f"{target.log_stream_prefix}/{target.container_name}/{task_id(task)}"]


def run(
    ctx: Context,
    *,
    since: str,
    pattern: str | None,
    task: str | None,
    limit: int,
    log_group: str | None,
) -> LogsResult:
    start = parse_since(since)  # before any AWS call: bad input changes nothing
    chosen = task_id(task) if task is not None else None
    target = ctx.target
    group = log_group or target.log_group or f"/aws/ecs/{target.name}"
    events = ctx.aws.filter_log_events(
        group, start=start, streams=_streams(ctx, task), pattern=pattern, limit=limit
    )
    return LogsResult(
        target=ctx.target_info(),
        log_group=group,
        since=start,
        filter=pattern,
        task_id=chosen,
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
