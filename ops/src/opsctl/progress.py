"""Live progress on stderr while opsctl waits (data stays on stdout).

On a terminal: a rich live panel (the followed deployment's running/desired, circuit-breaker
failures so far against the threshold, target health, elapsed time) above a log of new
service events and stopped tasks. Elsewhere (CI logs): one plain line per change, so a
GitHub Actions log shows what the deploy waited for.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text


@dataclass(frozen=True)
class Snapshot:
    """What one poll saw."""

    deployment_id: str
    label: str
    """What is being followed: "deployment", "rollback deployment"."""
    revision: str
    rollout_state: str
    running: int
    desired: int
    pending: int
    failed_tasks: int
    failure_threshold: int | None
    """The circuit breaker's threshold, ``None`` when the breaker is off."""
    targets: dict[str, int]
    """Target states of the service's target group and how many targets are in each."""
    elapsed: float


class Progress(Protocol):
    def update(self, snapshot: Snapshot) -> None: ...

    def note(self, text: str) -> None:
        """A new service event, stopped task or step (printed once)."""

    def close(self) -> None: ...


def _summary(s: Snapshot) -> str:
    breaker = f"/{s.failure_threshold}" if s.failure_threshold else " (circuit breaker off)"
    targets = ", ".join(f"{n} {state}" for state, n in sorted(s.targets.items())) or "none"
    return (
        f"{s.label} {s.deployment_id} ({s.revision}): {s.rollout_state}, "
        f"{s.running}/{s.desired} running, {s.pending} pending, "
        f"failed tasks {s.failed_tasks}{breaker}, targets: {targets} [{s.elapsed:.0f}s]"
    )


class LineProgress:
    """Plain lines, printed only when something changed."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._last = ""

    def update(self, snapshot: Snapshot) -> None:
        line = _summary(snapshot)
        key = line.rsplit(" [", 1)[0]
        if key != self._last:
            self._last = key
            print(line, file=self._stream, flush=True)

    def note(self, text: str) -> None:
        print(f"  {text}", file=self._stream, flush=True)

    def close(self) -> None:
        self._stream.flush()


class LiveProgress:
    """A rich live status line on a terminal, with notes scrolling above it."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(
            Text("waiting for ECS..."), console=console, refresh_per_second=4, transient=True
        )
        self._live.start()
        self._started = time.monotonic()

    def update(self, snapshot: Snapshot) -> None:
        style = {"COMPLETED": "green", "FAILED": "red"}.get(snapshot.rollout_state, "yellow")
        self._live.update(Text(_summary(snapshot), style=style))

    def note(self, text: str) -> None:
        self._live.console.print(Text(f"  {text}", style="dim"))

    def close(self) -> None:
        self._live.stop()


class NullProgress:
    def update(self, snapshot: Snapshot) -> None:
        del snapshot

    def note(self, text: str) -> None:
        del text

    def close(self) -> None:
        return


def make_progress(quiet: bool) -> Progress:
    """Live on a terminal, lines elsewhere, nothing with --quiet."""
    if quiet:
        return NullProgress()
    console = Console(stderr=True)
    if console.is_terminal:
        return LiveProgress(console)
    return LineProgress()
