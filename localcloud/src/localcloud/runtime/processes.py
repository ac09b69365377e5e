"""The local cloud's task runtime: each ECS task is a real ``app-serve`` process.

It implements :class:`localcloud.ecs.taskruntime.TaskRuntime` (read that module's docstring
for the interface). For each task the simulator launches, the runtime does what a container
runtime on Fargate does, within what one machine can honestly do:

* **Command.** The task definition's ``entryPoint``/``command`` override the image's
  ``Entrypoint``/``Cmd`` (Docker's rules: a new entrypoint drops the image's command). The image
  comes from the emulated ECR as a record (:mod:`localcloud.images.records`): its
  configuration is real, its layers are not, so the executable is taken from this checkout's
  virtual environment. Only the executables in ``allowed`` (by default ``app-serve``) run: the
  emulator's API is open to every local user, and must not become a way to run arbitrary
  programs. Anything else fails the task with ``CannotStartContainerError``, as a missing
  executable does on ECS.
* **Environment.** The image's ``Env``, overridden by the task definition's ``environment``,
  as ECS does. ``PATH``, ``HOME`` and ``TMPDIR`` point at this machine (the image's paths do not
  exist here); nothing of the daemon's own environment leaks in (no AWS credentials, no
  ``.env``: the working directory is a fresh task directory).
* **Network.** A task has its own network interface on Fargate; here it has loopback. ``HOST``
  becomes 127.0.0.1 and each container port is mapped to a free local port. The app listens on
  its ``PORT`` (default 8000): when that is the container port, ``PORT`` is rewritten to the
  mapped port; when it is not (a task definition with ``PORT=8081`` and container port 8000),
  the app gets a free port of its own that nothing routes to, so health checks on the
  container port fail exactly as they would on AWS.
* **Output.** stdout and stderr, line by line, to the task's CloudWatch Logs stream.
* **Stop.** SIGTERM to the process group, SIGKILL after the container's ``stopTimeout`` (scaled);
  exit codes as Docker reports them (128 + signal). On Linux each process also dies with the
  daemon (``PR_SET_PDEATHSIG``), and its pid is recorded under ``pid_dir`` so that
  ``localcloud down`` can find it even after a crash: no orphan survives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 - argv lists only, never a shell
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from localcloud.ecs.taskruntime import ExitStatus, LaunchError, TaskProcess, TaskSpec
from localcloud.net import free_port
from localcloud.runtime.procs import ProcessRef, listens_on

DEFAULT_ALLOWED = frozenset({"app-serve"})

IMAGE_BIN_DIRS = ("/opt/app/bin", "/usr/local/bin", "/usr/bin", "/bin")
"""Directories of the image's ``PATH`` an absolute command may name (``/opt/app/bin/app-serve``
is the same program as ``app-serve``)."""

_LOCAL_ONLY = ("PATH", "HOME", "TMPDIR")

# Runs between fork and exec, in a fresh interpreter (no preexec_fn: that is unsafe in a process
# with threads, https://docs.python.org/3/library/subprocess.html#popen-constructor). On Linux it
# asks for SIGKILL when the parent thread dies (prctl PR_SET_PDEATHSIG = 1), gives up if the
# parent is already gone, then becomes the task's program.
_LAUNCHER = """\
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
if os.getppid() != int(sys.argv[1]):
    os._exit(137)
os.execv(sys.argv[2], sys.argv[2:])
"""


@dataclass(frozen=True)
class Launch:
    """What a task's process is started with (the pure part of :meth:`ProcessRuntime.launch`)."""

    executable: Path
    argv: tuple[str, ...]
    environment: dict[str, str]
    ports: dict[int, int]
    """Container port -> local port."""
    app_port: int
    """Where the app itself listens (a mapped port, or one nothing routes to)."""


def plan_launch(
    spec: TaskSpec,
    *,
    bin_dir: Path,
    task_dir: Path,
    allowed: frozenset[str] = DEFAULT_ALLOWED,
    ports: Mapping[int, int] | None = None,
    spare_port: int | None = None,
) -> Launch:
    """Decide how to start ``spec``'s container; raises :class:`LaunchError` when it cannot.

    ``ports`` (container port -> local port) and ``spare_port`` are chosen when not given.
    """
    container = spec.container
    config = container.image_config
    if config is None:
        raise LaunchError(
            "CannotPullContainerError: failed to fetch the image configuration of "
            f"{container.image}: blob unknown to registry (the local cloud runs images "
            "recorded with `localcloud image push`)"
        )
    entrypoint = container.entry_point or config.entrypoint
    command = container.command or (() if container.entry_point else config.cmd)
    argv = (*entrypoint, *command)
    if not argv:
        raise LaunchError(
            "CannotStartContainerError: Error response from daemon: no command specified"
        )
    executable = _resolve(argv[0], bin_dir, allowed)

    environment = dict(config.env)
    environment.update(container.environment)
    for name in _LOCAL_ONLY:
        environment.pop(name, None)
    environment.update(
        {
            "PATH": os.pathsep.join((str(bin_dir), "/usr/bin", "/bin")),
            "HOME": str(task_dir),
            "TMPDIR": str(task_dir),
            "LANG": environment.get("LANG", "C.UTF-8"),
            # The task's network interface is loopback here; never listen on every interface.
            "HOST": "127.0.0.1",
            # What ECS sets in every Fargate task.
            "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
        }
    )
    if ports is None:
        ports = {port: free_port() for port in container.container_ports}
    mapped = dict(ports)
    wanted = environment.get("PORT", "8000")
    if wanted.isdigit() and int(wanted) in mapped:
        app_port = mapped[int(wanted)]
        environment["PORT"] = str(app_port)
    elif wanted.isdigit():
        # The app listens on a port of its own that no mapping exposes.
        app_port = spare_port if spare_port is not None else free_port()
        environment["PORT"] = str(app_port)
    else:
        app_port = 0  # an invalid PORT: app-serve refuses it at start, as on Fargate
    return Launch(executable, (str(executable), *argv[1:]), environment, mapped, app_port)


def _resolve(name: str, bin_dir: Path, allowed: frozenset[str]) -> Path:
    base = name.rsplit("/", 1)[-1]
    if "/" in name and name.rsplit("/", 1)[0] not in IMAGE_BIN_DIRS:
        base = ""
    candidate = bin_dir / base if base else None
    if candidate is None or not candidate.is_file() or not os.access(candidate, os.X_OK):
        raise LaunchError(
            "CannotStartContainerError: ResourceInitializationError: failed to create new "
            "container runtime task: OCI runtime create failed: runc create failed: unable to "
            f'start container process: exec: "{name}": executable file not found in $PATH: '
            "unknown"
        )
    if base not in allowed:
        raise LaunchError(
            f"CannotStartContainerError: the local cloud runs only {', '.join(sorted(allowed))} "
            f"from this checkout, not {name!r}"
        )
    return candidate


def exit_status(returncode: int) -> ExitStatus:
    """Docker's exit code for a process's return code (128 + signal when killed)."""
    if returncode >= 0:
        return ExitStatus(returncode)
    return ExitStatus(128 - returncode)


class ServiceProcess:
    """One task's process: its output pump, its ports, its stop."""

    start_timeout = 30.0
    """Real seconds a process may take to listen before the task is RUNNING regardless."""

    def __init__(
        self,
        spec: TaskSpec,
        launch: Launch,
        popen: subprocess.Popen[bytes],
        task_dir: Path,
        pid_file: Path,
    ) -> None:
        self._spec = spec
        self._launch = launch
        self._popen = popen
        self._task_dir = task_dir
        self._pid_file = pid_file
        self._lock = threading.Lock()
        self._status: ExitStatus | None = None
        self._started = time.monotonic()
        self._listening = False
        if popen.stdout is None:
            raise ValueError("the task's process must be started with stdout=PIPE")
        self._pump = threading.Thread(
            target=_pump, args=(popen.stdout, spec), name=f"logs-{spec.task_id[:8]}", daemon=True
        )
        self._pump.start()

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def launch(self) -> Launch:
        return self._launch

    def poll(self) -> ExitStatus | None:
        with self._lock:
            if self._status is not None:
                return self._status
            code = self._popen.poll()
            if code is None:
                return None
            # Let the last lines (a crash's traceback) reach CloudWatch before ECS records the
            # stop: diagnose reads them.
            self._pump.join(timeout=1.0)
            self._status = exit_status(code)
            self._cleanup()
            return self._status

    def starting(self) -> bool:
        if self._listening or self.poll() is not None or self._launch.app_port == 0:
            return False
        if time.monotonic() - self._started > self.start_timeout:
            return False  # RUNNING anyway: its health checks will say the rest
        return not self._listens()

    def _listens(self) -> bool:
        """Whether the task's own process listens on its app port now (remembered once true).

        The port was free when the task was launched, but anything on the machine may have
        taken it before the app bound it; then the app fails to start, and until it exits
        nothing of the task answers there: health checks and requests must not reach the
        stranger (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html:
        a task is RUNNING once its container started, not once some port answers)."""
        if not self._listening:
            owned = listens_on(self._popen.pid, self._launch.app_port)
            if owned is None:  # no /proc: a connection is the best evidence there is
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.settimeout(0.05)
                    owned = probe.connect_ex(("127.0.0.1", self._launch.app_port)) == 0
            self._listening = owned
        return self._listening

    def address(self, container_port: int) -> tuple[str, int] | None:
        local = self._launch.ports.get(container_port)
        if local is None or local != self._launch.app_port:
            return None
        # poll(), not Popen.poll(): reaping the process here without recording its exit would
        # leave a later stop() signalling a pid the process no longer holds.
        if self.poll() is not None or not self._listens():
            return None
        return "127.0.0.1", local

    def stop(self, timeout: float) -> ExitStatus:
        with self._lock:
            if self._status is not None:
                return self._status
        self._signal(signal.SIGTERM)
        try:
            code = self._popen.wait(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            code = self._popen.wait()
        self._pump.join(timeout=1.0)
        with self._lock:
            if self._status is None:
                self._status = exit_status(code)
                self._cleanup()
            return self._status

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def _cleanup(self) -> None:
        # The group may hold children of the app (uvicorn workers): none may outlive the task.
        self._signal(signal.SIGKILL)
        self._pid_file.unlink(missing_ok=True)
        shutil.rmtree(self._task_dir, ignore_errors=True)


def _pump(stream: IO[bytes], spec: TaskSpec) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                spec.logs.write([line])


class ProcessRuntime:
    """Starts each task's ``app-serve`` as a real process; thread-safe.

    ``bin_dir`` holds the executables (the checkout's ``.venv/bin``); ``work_dir`` gets one
    directory per task (its HOME and working directory) and ``pid_dir`` one pid file per running
    task.
    """

    def __init__(
        self,
        *,
        bin_dir: Path,
        work_dir: Path,
        pid_dir: Path,
        allowed: frozenset[str] = DEFAULT_ALLOWED,
    ) -> None:
        self.bin_dir = bin_dir
        self.work_dir = work_dir
        self.pid_dir = pid_dir
        self.allowed = allowed
        self._lock = threading.Lock()
        self._processes: dict[str, ServiceProcess] = {}
        # Every process is forked from this one long-lived thread: PR_SET_PDEATHSIG fires when
        # the *thread* that forked a child ends, so it must outlive every task it started.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="task-spawner")
        self._closed = False

    def launch(self, spec: TaskSpec) -> TaskProcess:
        task_dir = self.work_dir / spec.task_id
        launch = plan_launch(spec, bin_dir=self.bin_dir, task_dir=task_dir, allowed=self.allowed)
        task_dir.mkdir(parents=True, exist_ok=True)
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._closed:
                raise LaunchError("CannotStartContainerError: the local cloud is stopping")
            popen = self._spawner.submit(self._spawn, launch, task_dir).result()
        pid_file = self.pid_dir / f"{spec.task_id}.pid"
        ref = ProcessRef.of(popen.pid)
        if ref is not None:
            pid_file.write_text(ref.encode(), encoding="utf-8")
        process = ServiceProcess(spec, launch, popen, task_dir, pid_file)
        with self._lock:
            self._processes = {k: p for k, p in self._processes.items() if p.poll() is None}
            self._processes[spec.task_id] = process
        return process

    @staticmethod
    def _spawn(launch: Launch, task_dir: Path) -> subprocess.Popen[bytes]:
        argv: Sequence[str] = (
            sys.executable,
            "-I",
            "-S",
            "-c",
            _LAUNCHER,
            str(os.getpid()),
            *launch.argv,
        )
        # The argv comes from the allow-listed executable and the task definition's arguments,
        # as a list: no shell ever parses it.
        return subprocess.Popen(  # noqa: S603  # nosec B603
            list(argv),
            cwd=task_dir,
            env=launch.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def processes(self) -> dict[str, ServiceProcess]:
        """The processes started so far that have not been reaped, by task id."""
        with self._lock:
            return dict(self._processes)

    def close(self, timeout: float = 5.0) -> None:
        """Stop every process (SIGTERM, SIGKILL after ``timeout`` s), then the spawner."""
        with self._lock:
            self._closed = True
            processes = list(self._processes.values())
            self._processes.clear()
        with ThreadPoolExecutor(max_workers=max(len(processes), 1)) as pool:
            list(pool.map(lambda p: p.stop(timeout), processes))
        self._spawner.shutdown(wait=True)
