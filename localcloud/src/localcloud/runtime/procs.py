"""Process bookkeeping shared by the task runtime, the daemon and ``localcloud down``.

A pid alone can be reused by an unrelated process after ours exited, so every pid the local
cloud records comes with the process's start time (Linux: field 22 of ``/proc/<pid>/stat``;
elsewhere ``ps -o lstart=``). A process is signalled only when both still match: ``down``
never kills a stranger.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess  # nosec B404 - argv lists only, never a shell
import time
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc/self")
"""Linux's process table; elsewhere ``ps`` answers."""


@dataclass(frozen=True)
class ProcessRef:
    """A process as recorded: its pid and its start time."""

    pid: int
    started: str

    def encode(self) -> str:
        return f"{self.pid} {self.started}"

    @classmethod
    def decode(cls, text: str) -> ProcessRef | None:
        pid, _, started = text.strip().partition(" ")
        if not pid.isdigit() or not started:
            return None
        return cls(int(pid), started)

    @classmethod
    def of(cls, pid: int) -> ProcessRef | None:
        """The reference of the running process ``pid``; ``None`` when it does not exist."""
        started = start_time(pid)
        return cls(pid, started) if started is not None else None

    def alive(self) -> bool:
        """Whether this very process still runs (not a later one with the same pid)."""
        return start_time(self.pid) == self.started

    def signal_group(self, signum: int) -> bool:
        """Send ``signum`` to the process group this process leads; ``False`` if it is gone."""
        if not self.alive():
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)
            return True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signum)
            return True
        return False

    def terminate(self, timeout: float) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout`` seconds if it still runs."""
        if not self.signal_group(signal.SIGTERM):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.05)
        self.signal_group(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)


def start_time(pid: int) -> str | None:
    """The start time of process ``pid`` as the OS reports it, or ``None`` if there is none.

    A zombie (exited, not yet reaped by its parent) counts as gone.
    """
    stat = Path(f"/proc/{pid}/stat")
    if _PROC.is_dir():
        try:
            text = stat.read_text()
        except OSError:
            return None
        # Field 2 (the command) may hold spaces and parentheses: split after its last ')'.
        fields = text[text.rindex(")") + 2 :].split()
        state, started = fields[0], fields[19]
        return None if state in ("Z", "X") else started
    ps = shutil.which("ps")
    if ps is None:
        return None
    # Fixed argv, no shell (ruff S603, bandit B603).
    result = subprocess.run(  # noqa: S603  # nosec B603
        [ps, "-o", "lstart=", "-o", "stat=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    line = result.stdout.strip()
    if result.returncode != 0 or not line or line.split()[-1].startswith("Z"):
        return None
    return "_".join(line.split()[:-1])


_TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_LISTEN = "0A"
"""The TCP_LISTEN state in /proc/net/tcp (include/net/tcp_states.h)."""


def listens_on(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` itself holds a socket listening on TCP ``port``; ``None`` where
    /proc cannot tell (then only a connection attempt can, which cannot tell whose it is).

    A free port handed to a task before its process binds it can be taken meanwhile by any other
    process on the machine; a connection that succeeds does not prove the task is listening.
    """
    if not _TCP_TABLES[0].is_file():
        return None
    wanted = f"{port:04X}"
    inodes: set[str] = set()
    for table in _TCP_TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ...
            if len(fields) > 9 and fields[3] == _LISTEN and fields[1].endswith(f":{wanted}"):
                inodes.add(fields[9])
    if not inodes:
        return False
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            target = str(descriptor.readlink())
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    return False
