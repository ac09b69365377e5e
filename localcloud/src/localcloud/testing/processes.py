"""Finding the processes a local cloud started, without trusting its own records."""

from __future__ import annotations

from pathlib import Path


def processes_under(directory: Path) -> list[int]:
    """Pids of every process whose working directory lies under ``directory`` (task processes
    run in ``<state>/tasks/<task-id>``), read from /proc so that no pid file is trusted; empty
    where there is no /proc."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if cwd.startswith(str(directory)):
            found.append(int(entry.name))
    return found
