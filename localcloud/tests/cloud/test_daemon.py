"""The daemon and ``localcloud down``/``status``/``up`` without Terraform: the listener takes the
stable port it was given, nothing survives a crashed daemon, and ``down`` cleans up after one."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from localcloud.cloud.state import Paths, read_json, read_ref
from localcloud.emulator import Endpoint
from localcloud.net import free_port
from localcloud.runtime.procs import ProcessRef
from localcloud.testing.processes import processes_under
from localcloud.testing.stacks import StackOptions, build_stack

from .conftest import record_pusher

BIN = Path(sys.executable).parent


def localcloud(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "localcloud"), "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait(predicate, timeout: float = 30) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Paths, subprocess.Popen[bytes], int]]:
    paths = Paths(tmp_path / "state")
    alb_port = free_port()
    argv = [sys.executable, "-m", "localcloud.cloud.daemon", "--state-dir", str(paths.root)]
    argv += ["--port", "0", "--alb-port", str(alb_port), "--time-scale", "0.05"]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait(lambda: (read_json(paths.daemon_state) or {}).get("status") == "serving")
        yield paths, process, alb_port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        localcloud(paths.root, "down")


def test_the_listener_takes_the_stable_port_and_nothing_survives_a_crashed_daemon(
    daemon: tuple[Paths, subprocess.Popen[bytes], int],
) -> None:
    paths, process, alb_port = daemon
    state = read_json(paths.daemon_state)
    assert state is not None
    endpoint = Endpoint(url=str(state["endpoint"]))
    build_stack(endpoint, StackOptions(name="daemon", desired_count=2), push=record_pusher())

    url = f"http://127.0.0.1:{alb_port}"
    assert wait(
        lambda: url in (read_json(paths.daemon_state) or {}).get("load_balancers", {}).values()
    )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    assert wait(healthy, timeout=60)
    tasks = [read_ref(p) for p in paths.pids.glob("*.pid")]
    assert len(tasks) == 2
    assert all(ref is not None and ref.alive() for ref in tasks)

    # The daemon dies without a chance to clean up: its tasks die with it (Linux).
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    if sys.platform.startswith("linux"):
        assert wait(lambda: not any(ref.alive() for ref in tasks if ref), timeout=10)

    down = localcloud(paths.root, "down")
    assert down.returncode == 0, down.stderr
    assert "nothing runs now" in down.stdout
    assert processes_under(paths.root) == []
    assert not paths.daemon_state.exists()
    assert not paths.pids.exists()

    status = localcloud(paths.root, "status")
    assert status.returncode == 3
    assert "no local cloud is running" in status.stderr


def test_down_kills_task_processes_a_crash_left_behind(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "state")
    paths.pids.mkdir(parents=True)
    sleeper = subprocess.Popen([shutil.which("sleep") or "sleep", "60"], start_new_session=True)
    ref = ProcessRef.of(sleeper.pid)
    assert ref is not None
    (paths.pids / "orphan.pid").write_text(ref.encode())
    # A pid file naming a process that is gone, or that is a different process by now.
    (paths.pids / "stale.pid").write_text(f"{sleeper.pid} not-its-start-time")

    down = localcloud(paths.root, "down")
    sleeper.wait(timeout=10)
    assert down.returncode == 0, down.stderr
    assert "killed 1 task process(es) left behind" in down.stdout
    assert sleeper.returncode == -signal.SIGTERM


def test_down_with_nothing_running_is_fine(tmp_path: Path) -> None:
    down = localcloud(tmp_path / "none", "down")
    assert down.returncode == 0
    assert "none was running" in down.stdout


def test_up_refuses_a_port_in_use_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        up = localcloud(
            tmp_path / "state", "up", "--repo", str(Path.cwd()), "--port", str(port),
            "--alb-port", "0",
        )  # fmt: skip
    assert up.returncode == 4
    assert f"port {port} on 127.0.0.1 (emulator) is in use" in up.stderr
    assert not (tmp_path / "state" / "daemon.pid").exists()


def test_status_json_of_nothing_is_an_error(tmp_path: Path) -> None:
    status = localcloud(tmp_path / "none", "status", "--json")
    assert status.returncode == 3
    with pytest.raises(json.JSONDecodeError):
        json.loads(status.stdout)
