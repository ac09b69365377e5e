"""A scripted task runtime: each image behaves as its test says (healthy, crashing, deaf...).

Each "process" is a small HTTP server on 127.0.0.1 inside this process, so the simulator's
health checks and the simulated ALB reach it over real HTTP exactly as they would reach a real
``app-serve``. The behaviour is chosen per image: by digest, by any of its ECR tags, or by the
full image reference, falling back to a default.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler

from localcloud.ecs.taskruntime import ExitStatus, LaunchError, TaskProcess, TaskSpec
from localcloud.net import QuietHTTPServer


@dataclass(frozen=True)
class Behaviour:
    """How a scripted container behaves; durations are simulated seconds."""

    startup_seconds: float = 2.0
    """From launch until it listens (before that, connections are refused)."""
    exit_after_seconds: float | None = None
    """The process exits this long after launch (``None``: runs until stopped)."""
    exit_code: int = 1
    listens_on_container_port: bool = True
    """``False``: it listens on some other port, so nothing answers on the mapped port."""
    health_status: int = 200
    """HTTP status of ``GET /health``."""
    status: int = 200
    """HTTP status of ``/`` and ``/process`` (every other path answers 404)."""
    response_delay_seconds: float = 0.0
    """How long each response takes (longer than the health-check timeout: ``Target.Timeout``)."""
    launch_error: str | None = None
    """When set, launching fails with this ``stoppedReason`` (e.g. a CannotPullContainerError)."""
    startup_log: tuple[str, ...] = ()
    exit_log: tuple[str, ...] = ()
    version: str = "scripted"
    commit: str = "scripted"
    """What ``/health`` reports as ``commit`` (the service's ``APP_COMMIT``)."""


HEALTHY = Behaviour()
CRASHES_AT_START = Behaviour(
    startup_seconds=60.0,
    exit_after_seconds=3.0,
    exit_code=1,
    exit_log=(
        "Traceback (most recent call last):",
        '  File "/app/server.py", line 12, in main',
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
        '{"level": "error", "message": "invalid settings: LOG_LEVEL must be one of debug, info"}',
    ),
)
CRASHES_SLOWLY = Behaviour(
    startup_seconds=600.0,
    exit_after_seconds=90.0,
    exit_code=1,
    exit_log=('{"level": "error", "message": "cannot reach the database: timed out after 90 s"}',),
)
"""Each task takes a minute and a half (simulated) to crash, never healthy: a deployment that
stays IN_PROGRESS for minutes before the circuit breaker fails it (time to stop it by hand)."""
WRONG_PORT = Behaviour(listens_on_container_port=False)
NEVER_HEALTHY = Behaviour(health_status=500, status=500)
SLOW_START = Behaviour(startup_seconds=240.0)
HANGS = Behaviour(response_delay_seconds=100_000.0)
HEALTH_ENDPOINT_BROKEN = Behaviour(health_status=503)
"""Serves ``/`` but ``/health`` answers 503: passes a health check on ``/``."""
SERVER_ERRORS = Behaviour(status=500)
"""Healthy on ``/health`` but every request to ``/`` and ``/process`` answers 500: passes the
ALB's health checks, deploys, and fails every request under traffic (``HTTPCode_Target_5XX``)."""
PULL_FAILS = Behaviour(
    launch_error="CannotPullContainerError: pull image manifest has been retried 5 time(s): "
    "failed to resolve ref: not found"
)


class ScriptedRuntime:
    """Runs :class:`Behaviour` scripts as tasks; thread-safe."""

    def __init__(
        self,
        behaviours: Mapping[str, Behaviour] | None = None,
        default: Behaviour = HEALTHY,
    ) -> None:
        self._behaviours: dict[str, Behaviour] = dict(behaviours or {})
        self._default = default
        self._lock = threading.Lock()
        self._processes: list[ScriptedProcess] = []

    def reset(self) -> None:
        """Forget every scripted behaviour and stop every process (between tests)."""
        with self._lock:
            self._behaviours.clear()
        self.close()

    def script(self, key: str, behaviour: Behaviour) -> None:
        """Make images matching ``key`` (a digest, a tag or a full reference) behave so."""
        with self._lock:
            self._behaviours[key] = behaviour

    def behaviour_for(self, spec: TaskSpec) -> Behaviour:
        container = spec.container
        keys = [container.image_digest, *container.image_tags, container.image]
        if "@" in container.image:
            keys.append(container.image.rsplit("@", 1)[1])
        elif ":" in container.image.rsplit("/", 1)[-1]:
            keys.append(container.image.rsplit(":", 1)[1])
        with self._lock:
            for key in keys:
                if key is not None and key in self._behaviours:
                    return self._behaviours[key]
        return self._default

    def launch(self, spec: TaskSpec) -> TaskProcess:
        behaviour = self.behaviour_for(spec)
        if behaviour.launch_error:
            raise LaunchError(behaviour.launch_error)
        process = ScriptedProcess(spec, behaviour)
        with self._lock:
            self._processes = [p for p in self._processes if p.alive] + [process]
        return process

    def close(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, []
        for process in processes:
            process.stop(0)


class ScriptedProcess:
    """One scripted container; its HTTP server starts after ``startup_seconds``."""

    def __init__(self, spec: TaskSpec, behaviour: Behaviour) -> None:
        self._spec = spec
        self._behaviour = behaviour
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._server: QuietHTTPServer | None = None
        self._exit: ExitStatus | None = None
        spec.logs.write(
            [
                json.dumps(
                    {"level": "info", "message": "starting", "version": behaviour.version},
                ),
                *behaviour.startup_log,
            ]
        )

    @property
    def alive(self) -> bool:
        return self._exit is None

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def poll(self) -> ExitStatus | None:
        with self._lock:
            if self._exit is not None:
                return self._exit
            clock, behaviour = self._spec.clock, self._behaviour
            exit_after = behaviour.exit_after_seconds
            if exit_after is not None and self._elapsed() >= clock.real(exit_after):
                self._spec.logs.write(list(behaviour.exit_log))
                self._shutdown()
                self._exit = ExitStatus(behaviour.exit_code)
                return self._exit
            if self._server is None and self._elapsed() >= clock.real(behaviour.startup_seconds):
                self._listen()
            return None

    def _listen(self) -> None:
        self._server = QuietHTTPServer(("127.0.0.1", 0), _handler_class(self)).serve_in_background(
            f"scripted-{self._spec.task_id[:8]}", poll_interval=0.05
        )
        port = (
            self._spec.container.container_ports[0] if self._spec.container.container_ports else 0
        )
        self._spec.logs.write(
            [json.dumps({"level": "info", "message": f"listening on 0.0.0.0:{port}"})]
        )

    def starting(self) -> bool:
        # A scripted start-up is simulated time already (Behaviour.startup_seconds).
        return False

    def address(self, container_port: int) -> tuple[str, int] | None:
        with self._lock:
            server = self._server
            if (
                server is None
                or self._exit is not None
                or not self._behaviour.listens_on_container_port
                or container_port not in self._spec.container.container_ports
                or self._spec.container.environment.get("PORT", str(container_port))
                != str(container_port)
            ):
                # Like app-serve, the scripted app listens on $PORT: a PORT that disagrees with
                # the port mapping leaves the mapped port deaf.
                return None
            host, port = server.server_address[:2]
            return str(host), int(port)

    def stop(self, timeout: float) -> ExitStatus:
        del timeout
        with self._lock:
            if self._exit is None:
                self._spec.logs.write(
                    [json.dumps({"level": "info", "message": "SIGTERM received, shutting down"})]
                )
                self._shutdown()
                self._exit = ExitStatus(0)
            return self._exit

    def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    def respond(self, path: str) -> tuple[int, bytes, float]:
        """Status, body and delay (real seconds) of a request for ``path``."""
        behaviour = self._behaviour
        route = path.split("?")[0]
        if route == "/health":
            status = behaviour.health_status
        elif route in ("/", "/process"):
            status = behaviour.status
        else:
            status = 404  # like the service: unknown paths are not found
        if status < 400:
            body = {"status": "ok", "version": behaviour.version, "commit": behaviour.commit}
        else:
            body = {"status": "error", "detail": f"scripted failure ({status})"}
        delay = self._spec.clock.real(behaviour.response_delay_seconds)
        return status, json.dumps(body).encode(), delay

    def log_request(self, method: str, path: str, status: int) -> None:
        self._spec.logs.write(
            [json.dumps({"level": "info", "method": method, "path": path, "status": status})]
        )


def _handler_class(process: ScriptedProcess) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, as the ALB's health checker uses them.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._answer()

        def _answer(self) -> None:
            status, body, delay = process.respond(self.path)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                return  # the prober gave up (timeout) before we answered
            process.log_request(self.command, self.path, status)

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # requests are logged as JSON lines through the log sink

    return Handler


def with_version(behaviour: Behaviour, version: str) -> Behaviour:
    """``behaviour`` reporting ``version`` from ``/health`` (to tell revisions apart)."""
    return replace(behaviour, version=version)
