"""The ECS simulator: what AWS does "by itself", inside the emulator's process.

moto's ECS is static (UpdateService only swaps the task definition; no deployment, task or
event ever changes by itself) and its ELBv2 reports every target healthy (docs/emulator.md).
:class:`Simulator` owns those transitions on the AWS side of the wire, so the code under test
(opsctl, the AWS CLI, Terraform) talks only HTTP to the emulator and sees what it would see in
AWS: PRIMARY deployments created by UpdateService with ``rolloutState`` IN_PROGRESS ->
COMPLETED/FAILED, tasks PROVISIONING -> PENDING -> RUNNING -> STOPPED with
``stopCode``/``stoppedReason``/exit codes, targets registered and health-checked with ELB reason
codes, service events, the deployment circuit breaker and its rollback.

Usage::

    from localcloud.ecs import SimConfig, Simulator
    from localcloud.emulator import Emulator
    from localcloud.runtime.scripted import CRASHES_AT_START, ScriptedRuntime

    runtime = ScriptedRuntime({"v2-broken": CRASHES_AT_START})
    with Emulator() as endpoint, Simulator(runtime, SimConfig(time_scale=0.01)) as sim:
        ...  # boto3 against endpoint.url; sim.alb_url("my-alb") is the ALB on 127.0.0.1

The parts, each in its own module: the state (:mod:`.model`, :mod:`.tasks`), the moto hooks
(:mod:`.hooks`), task placement and launch (:mod:`.launcher`), stopping (:mod:`.lifecycle`),
ALB target health (:mod:`.health`), the scheduler and the circuit breaker (:mod:`.scheduler`,
:mod:`.breaker`), writing state back to moto (:mod:`.publish`), what is read from moto's other
services (:mod:`.backends`) and the facade (:mod:`.simulator`).

The task runtime is pluggable (:mod:`.taskruntime` documents the interface); the runtimes
themselves live in :mod:`localcloud.runtime` (scripted tasks for tests, real ``app-serve``
processes for the local cloud), and this package never imports them. The simulator does the
ALB's HTTP health checks against a process's ``address`` itself, so health follows what the
process really answers.

Time is scaled by ``SimConfig.time_scale`` (real seconds per simulated second): AWS's intervals
(health checks, grace periods, deregistration delays, launch back-off) shrink, timestamps in API
responses stay wall-clock.
"""

from localcloud.ecs.clock import SimClock
from localcloud.ecs.model import SimConfig
from localcloud.ecs.simulator import Simulator
from localcloud.ecs.taskruntime import (
    ContainerSpec,
    ExitStatus,
    LaunchError,
    LogSink,
    TaskProcess,
    TaskRuntime,
    TaskSpec,
)

__all__ = [
    "ContainerSpec",
    "ExitStatus",
    "LaunchError",
    "LogSink",
    "SimClock",
    "SimConfig",
    "Simulator",
    "TaskProcess",
    "TaskRuntime",
    "TaskSpec",
]
