"""Where a local cloud keeps its state (``.localcloud/``, ignored by git), and reading it back.

The daemon writes ``daemon.json`` (its endpoint and ALB listeners) and ``daemon.pid``; ``up``
writes ``cloud.json`` once everything is ready, plus what the user needs: ``target.json`` (the
opsctl target) and ``env`` (the shell exports). Task processes leave one pid file each under
``pids/``. Every file is written atomically (a temporary file renamed over the old one), so a
reader never sees half a document.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.runtime.procs import ProcessRef


@dataclass(frozen=True)
class Paths:
    """The files of one local cloud, under ``root``."""

    root: Path

    @property
    def daemon_pid(self) -> Path:
        return self.root / "daemon.pid"

    @property
    def daemon_log(self) -> Path:
        return self.root / "daemon.log"

    @property
    def daemon_state(self) -> Path:
        return self.root / "daemon.json"

    @property
    def cloud(self) -> Path:
        return self.root / "cloud.json"

    @property
    def target(self) -> Path:
        return self.root / "target.json"

    @property
    def env(self) -> Path:
        return self.root / "env"

    @property
    def terraform(self) -> Path:
        return self.root / "terraform"

    @property
    def tasks(self) -> Path:
        return self.root / "tasks"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    def generated(self) -> tuple[Path, ...]:
        """Everything ``down`` removes (the daemon's log stays for a post-mortem)."""
        return (
            self.daemon_pid,
            self.daemon_state,
            self.cloud,
            self.target,
            self.env,
            self.terraform,
            self.tasks,
            self.pids,
        )


def write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text`` in one step (readable by the owner only by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when the file is missing or not a JSON object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def read_ref(path: Path) -> ProcessRef | None:
    """The process recorded in a pid file; ``None`` when there is none or it is unreadable."""
    try:
        return ProcessRef.decode(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def running_daemon(paths: Paths) -> ProcessRef | None:
    """The local cloud's daemon, if the process recorded in ``daemon.pid`` still runs."""
    ref = read_ref(paths.daemon_pid)
    return ref if ref is not None and ref.alive() else None


def task_processes(paths: Paths) -> list[tuple[Path, ProcessRef]]:
    """Every task process recorded under ``pids/`` that still runs, with its pid file."""
    found = []
    for pid_file in sorted(paths.pids.glob("*.pid")) if paths.pids.is_dir() else []:
        ref = read_ref(pid_file)
        if ref is not None and ref.alive():
            found.append((pid_file, ref))
    return found
