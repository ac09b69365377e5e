"""The task-runtime interface: how the ECS simulator runs what a task definition describes.

The simulator owns everything ECS and the ALB decide (deployments, task states, target
health, events); a runtime owns only the task's *process*. The simulator calls, for each task:

1. :meth:`TaskRuntime.launch` once, when the task leaves PENDING (after the simulator's own
   preflight checks: network path to the registry, image present in the emulated ECR, log group
   present). Raise :class:`LaunchError` to stop the task with ``stopCode=TaskFailedToStart``.
2. :meth:`TaskProcess.poll` on every scheduler pass: ``None`` while the process lives, an
   :class:`ExitStatus` once it has exited (the task then stops with
   ``stopCode=EssentialContainerExited`` and the container's exit code).
   While :meth:`TaskProcess.starting` is true the task stays ACTIVATING: a real process's
   start-up takes real time, which scaled time would otherwise stretch (0.6 s of real start-up
   is 12 simulated seconds at ``time_scale`` 0.05), so it must not count against the health
   checks and the grace period; on AWS it is negligible next to a 30 s interval.
3. :meth:`TaskProcess.address` before each ALB health check and for each request the simulated
   ALB forwards: where the task's ``container_port`` answers on this host, or ``None`` when
   nothing listens there (the health check then fails with ``Target.FailedHealthChecks``).
   The simulator performs the HTTP health check itself, exactly as the ALB would (path,
   timeout and matcher from the target group), so a runtime never judges its own health.
4. :meth:`TaskProcess.stop` once, when ECS stops the task (SIGTERM, then SIGKILL after
   ``timeout`` real seconds; return the exit status). It runs on a worker thread.
5. :meth:`TaskRuntime.close` when the simulator shuts down.

Every call but ``stop`` runs on the simulator's scheduler thread and must return quickly.

Output: a runtime writes the container's stdout/stderr lines to ``spec.logs`` (a
:class:`LogSink`); the simulator sends them to the task's awslogs stream
(``<awslogs-stream-prefix>/<container>/<task-id>``) in the emulated CloudWatch Logs.

A runtime that runs real ``app-serve`` processes (the local cloud) maps each task's container
port to a free port on 127.0.0.1: it starts the process from ``spec.container.command``
(or ``entry_point``) and ``spec.container.environment`` with ``PORT`` set to that free port
only when the task definition's ``PORT`` (default 8000) equals the container port, so a task
definition whose ``PORT`` disagrees with its port mapping fails its health checks as it would
in AWS. ``address(container_port)`` then returns ``("127.0.0.1", free_port)``.
Durations a scripted runtime wants in *simulated* seconds convert with ``spec.clock``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from localcloud.ecs.clock import SimClock
from localcloud.images.oci import ImageConfig


@dataclass(frozen=True)
class ExitStatus:
    """How a container's process ended."""

    exit_code: int
    reason: str | None = None
    """ECS ``containers[].reason`` (for example ``OutOfMemoryError: Container killed due to
    memory usage``); ``None`` for an ordinary exit."""


class LaunchError(Exception):
    """The task cannot start: ECS stops it with ``stopCode=TaskFailedToStart``.

    ``reason`` becomes the task's ``stoppedReason`` and should start with the ECS error name,
    for example ``CannotPullContainerError: ...`` or ``ResourceInitializationError: ...``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LogSink(Protocol):
    """Where a task's container output goes (its CloudWatch Logs stream)."""

    def write(self, lines: Sequence[str]) -> None:
        """Append ``lines`` (one log event each) with the current time as their timestamp."""


class NullLogSink:
    """The sink of a container without an awslogs configuration: output is dropped."""

    def write(self, lines: Sequence[str]) -> None:
        del lines


@dataclass(frozen=True)
class ContainerSpec:
    """The essential container of a task, as its task definition describes it."""

    name: str
    image: str
    image_digest: str | None
    """The digest the emulated ECR resolved the image to; ``None`` outside the emulated ECR."""
    image_tags: tuple[str, ...]
    """Every tag of that image in the emulated ECR (how a scripted runtime picks a behaviour)."""
    command: tuple[str, ...]
    entry_point: tuple[str, ...]
    environment: Mapping[str, str]
    container_ports: tuple[int, ...]
    stop_timeout: float
    """Seconds (simulated) between SIGTERM and SIGKILL (``stopTimeout``, default 30)."""
    image_config: ImageConfig | None = None
    """The image's configuration (entrypoint, command, environment) as the emulated ECR holds
    it; ``None`` when the image is not in the emulated ECR or has no configuration blob. A
    container runtime applies it under the task definition's settings, as Docker does."""


@dataclass(frozen=True)
class TaskSpec:
    """Everything a runtime needs to start one task."""

    task_arn: str
    task_id: str
    cluster: str
    service: str
    task_definition_arn: str
    container: ContainerSpec
    private_ip: str
    clock: SimClock
    logs: LogSink = field(default_factory=NullLogSink)


class TaskProcess(Protocol):
    """A started task, as its runtime sees it."""

    def poll(self) -> ExitStatus | None:
        """``None`` while the process runs; its exit status once it has exited."""

    def starting(self) -> bool:
        """Whether the process is still starting: alive, not yet listening on its own port
        (whichever port that is), and not starting for longer than its runtime allows."""

    def address(self, container_port: int) -> tuple[str, int] | None:
        """Where ``container_port`` answers on this host, or ``None`` when nothing listens."""

    def stop(self, timeout: float) -> ExitStatus:
        """Stop the process (SIGTERM, SIGKILL after ``timeout`` real seconds); idempotent."""


class TaskRuntime(Protocol):
    """Starts task processes for the simulator."""

    def launch(self, spec: TaskSpec) -> TaskProcess:
        """Start the task's essential container, or raise :class:`LaunchError`."""

    def close(self) -> None:
        """Stop every process this runtime started."""
