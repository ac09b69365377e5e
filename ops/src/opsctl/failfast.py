"""Fail fast: when tasks of a deployment keep stopping for the same decisive reason, say so at
once instead of waiting for the circuit breaker or the time-out.

A deployment whose image cannot be pulled, whose secrets or logs cannot be reached, or whose
container exits with the same error every time will not get better by waiting: ECS retries
forever with the circuit breaker off, and with it on waits for half the desired count of
failures (at least 3, at most 200). Users of every ECS deploy tool ask for this
(aws/copilot-cli#1369, #4266; aws-actions/amazon-ecs-deploy-task-definition#527).

Decisive reasons (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html):

* ``CannotPullContainerError``: the image does not exist or ECR is unreachable;
* ``ResourceInitializationError``: secrets, the log group or the execution role;
* the essential container exited on its own (``EssentialContainerExited``) with the same
  non-zero exit code, or was killed for using too much memory (``OutOfMemoryError``).

Not decisive: tasks ECS stopped because they failed health checks (a slow start is cured by a
longer grace period, not by giving up), scale-in, replaced deployments, exit code 0.

Pure: callers give the stopped tasks and read the logs themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from opsctl.model import Task, TaskContainer
from opsctl.results import FailureKind

DEFAULT_THRESHOLD = 3
"""How many tasks stopping for the same reason end the wait (``--fail-fast``)."""

_PULL = "CannotPullContainerError"
_INIT = "ResourceInitializationError"
_OOM = "OutOfMemoryError"


@dataclass(frozen=True)
class Cause:
    """The decisive reason one task stopped for."""

    kind: FailureKind
    reason: str
    """What tasks stopping for the same cause share (the grouping key, shown to people)."""
    exit_code: int | None


@dataclass(frozen=True)
class Decision:
    """``threshold`` or more tasks stopped for ``cause``; ``tasks`` newest first."""

    cause: Cause
    tasks: tuple[Task, ...]
    threshold: int


def _container(task: Task, name: str | None) -> TaskContainer | None:
    if name is not None:
        named = next((c for c in task.containers if c.name == name), None)
        if named is not None:
            return named
    return next((c for c in task.containers if c.exit_code is not None), None)


def cause(task: Task, container: str | None = None) -> Cause | None:
    """Why ``task`` stopped, when the reason is decisive; None otherwise."""
    reason = task.stopped_reason or ""
    for marker, kind in ((_PULL, "image_pull"), (_INIT, "resource_initialization")):
        if marker in reason:
            return Cause(kind, marker, None)  # type: ignore[arg-type]
    if task.stop_code != "EssentialContainerExited":
        return None
    essential = _container(task, container)
    if essential is None:
        return None
    if _OOM in (essential.reason or "") or _OOM in reason:
        return Cause("out_of_memory", f"{_OOM}: container {essential.name} killed", None)
    code = essential.exit_code
    if code is None or code == 0:
        return None
    return Cause("exit_code", f"essential container {essential.name} exited with {code}", code)


def decide(
    stopped: Iterable[Task], threshold: int, container: str | None = None
) -> Decision | None:
    """The decisive cause at least ``threshold`` of ``stopped`` share (the most common one),
    or None. ``threshold`` 0 turns fail-fast off."""
    if threshold <= 0:
        return None
    groups: dict[Cause, list[Task]] = defaultdict(list)
    for task in stopped:
        found = cause(task, container)
        if found is not None:
            groups[found].append(task)
    if not groups:
        return None
    found, tasks = max(groups.items(), key=lambda item: len(item[1]))
    if len(tasks) < threshold:
        return None
    newest = sorted(
        tasks, key=lambda t: t.stopped_at.timestamp() if t.stopped_at else 0.0, reverse=True
    )
    return Decision(found, tuple(newest), threshold)
