"""The ECS simulator: what AWS does "by itself", inside the emulator's process.

moto's ECS is static (UpdateService only swaps the task definition; no deployment, task or
event ever changes by itself) and its ELBv2 reports every target healthy
(../shared/notes/aws-emulation.md). :class:`Simulator` owns those transitions on the AWS side of
the wire, so the code under test (opsctl, the AWS CLI, Terraform) talks only HTTP to the
emulator and sees what it would see in AWS: PRIMARY deployments created by UpdateService with
``rolloutState`` IN_PROGRESS -> COMPLETED/FAILED, tasks PROVISIONING -> PENDING -> RUNNING ->
STOPPED with ``stopCode``/``stoppedReason``/exit codes, targets registered and health-checked
with ELB reason codes, service events, the deployment circuit breaker and its rollback.

Usage::

    from localcloud.emulator import Emulator
    from localcloud.sim import ScriptedRuntime, SimConfig, Simulator, scripted

    runtime = ScriptedRuntime({"v2-broken": scripted.CRASHES_AT_START})
    with Emulator() as endpoint, Simulator(runtime, SimConfig(time_scale=0.01)) as sim:
        ...  # boto3 against endpoint.url; sim.alb_url("my-alb") is the ALB on 127.0.0.1

The task runtime is pluggable (:mod:`localcloud.sim.runtime` documents the interface):

* :class:`~localcloud.sim.scripted.ScriptedRuntime` (tests): each image behaves as scripted
  (healthy, crashes at start, listens on the wrong port, never healthy, slow start, hangs,
  image missing), as a small HTTP server in this process.
* A real-process runtime (the local cloud) implements :class:`~localcloud.sim.runtime.TaskRuntime`:
  ``launch(spec)`` starts ``app-serve`` from ``spec.container.command``/``environment`` on a
  free loopback port and pumps its output into ``spec.logs``; the returned
  :class:`~localcloud.sim.runtime.TaskProcess` reports its exit (``poll``), where its container
  port answers (``address``) and stops it with SIGTERM then SIGKILL (``stop``). The simulator
  does the ALB's HTTP health checks against ``address`` itself, so health follows what the
  real process answers.

Time is scaled by ``SimConfig.time_scale`` (real seconds per simulated second): AWS's intervals
(health checks, grace periods, deregistration delays, launch back-off) shrink, timestamps in API
responses stay wall-clock.
"""

from localcloud.sim import scripted
from localcloud.sim.clock import SimClock
from localcloud.sim.engine import SimConfig, Simulator
from localcloud.sim.runtime import (
    ContainerSpec,
    ExitStatus,
    LaunchError,
    LogSink,
    TaskProcess,
    TaskRuntime,
    TaskSpec,
)
from localcloud.sim.scripted import Behaviour, ScriptedRuntime

__all__ = [
    "Behaviour",
    "ContainerSpec",
    "ExitStatus",
    "LaunchError",
    "LogSink",
    "ScriptedRuntime",
    "SimClock",
    "SimConfig",
    "Simulator",
    "TaskProcess",
    "TaskRuntime",
    "TaskSpec",
    "scripted",
]
