"""ALB target health, as the load balancer decides it, and what ECS does about it.

A RUNNING task is registered in its service's target groups and health-checked over HTTP with
the target group's path, port, interval, timeout, matcher and thresholds
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
Reason codes follow the ELB API: ``Elb.RegistrationInProgress`` -> ``Elb.InitialHealthChecking``
-> healthy, or unhealthy with ``Target.ResponseCodeMismatch``, ``Target.Timeout`` or
``Target.FailedHealthChecks``. ECS stops a task whose target is unhealthy once the service's
health-check grace period has passed; the first time all of a task's targets are healthy resets
its deployment's failure count.

The checks themselves are a :data:`Prober` run on an executor, so the state machine here can be
driven without HTTP (the unit tests give it a fake prober and a synchronous executor).
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

from moto.elbv2.models import FakeTargetGroup

from localcloud.ecs import backends
from localcloud.ecs.breaker import count_failure, reset_failures
from localcloud.ecs.clock import SimClock
from localcloud.ecs.lifecycle import Lifecycle
from localcloud.ecs.model import Phase, Probe, ServiceRecord, SimConfig, Target, TaskRecord

Prober = Callable[[tuple[str, int], str, float, Callable[[int], bool]], Probe]
"""One health check: ``(address, path, timeout in real seconds, matcher) -> Probe``."""

MIN_PROBE_TIMEOUT = 0.5
"""Real seconds a probe waits at least: scaled time must not make a busy machine look like a
hanging app."""


def http_probe(
    address: tuple[str, int], path: str, timeout: float, matches: Callable[[int], bool]
) -> Probe:
    """One ALB health check: GET ``path``; the status must satisfy the matcher."""
    connection = http.client.HTTPConnection(address[0], address[1], timeout=max(timeout, 0.05))
    try:
        connection.request("GET", path, headers={"User-Agent": "ELB-HealthChecker/2.0"})
        status = connection.getresponse().status
    except TimeoutError:
        return Probe(False, "Target.Timeout", "Request timed out")
    except OSError:
        return Probe(False, "Target.FailedHealthChecks", "Health checks failed")
    finally:
        connection.close()
    if matches(status):
        return Probe(True)
    return Probe(
        False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]"
    )


def _sleep_then(delay: float, outcome: Probe) -> Probe:
    time.sleep(delay)
    return outcome


class HealthChecker:
    """Registers targets, runs the ALB's checks, applies their outcome, enforces it."""

    def __init__(
        self,
        config: SimConfig,
        clock: SimClock,
        lifecycle: Lifecycle,
        executor: Executor,
        prober: Prober = http_probe,
    ) -> None:
        self.config = config
        self.clock = clock
        self.lifecycle = lifecycle
        self.executor = executor
        self.prober = prober

    def register_targets(self, svc: ServiceRecord, task: TaskRecord, now: float) -> None:
        """``task`` is RUNNING: register it in each of the service's target groups."""
        for balancer in svc.load_balancers:
            group_arn = balancer.get("targetGroupArn")
            group = backends.target_group(svc.account, svc.region, group_arn) if group_arn else None
            if group is None:
                continue
            port = int(balancer.get("containerPort") or group.port)
            group.register([{"Id": task.task.private_ip, "Port": port}])
            task.targets.append(
                Target(
                    group_arn=group.arn,
                    ip=task.task.private_ip,
                    port=port,
                    task_id=task.task.id,
                    next_check=now + self.config.registration_seconds,
                )
            )
            svc.event(f"registered 1 targets in (target-group {group.arn})")
        if not task.targets:
            # No load balancer: the task counts as healthy once it runs.
            task.ever_healthy = True
            task.deployment.consecutive_launch_failures = 0
            reset_failures(svc, task.deployment)

    def check(self, svc: ServiceRecord, now: float) -> None:
        """One pass: apply finished probes, start the ones that are due, enforce health."""
        for task in svc.tasks.values():
            for target in task.targets:
                if target.state == "draining":
                    continue
                group = backends.target_group(svc.account, svc.region, target.group_arn)
                if group is None:
                    continue
                settings = backends.health_check_of(group)
                if target.probe is not None and target.probe.done():
                    self.apply(svc, task, target, settings, target.probe.result())
                    target.probe = None
                if target.probe is None and now >= target.next_check:
                    target.next_check = now + settings.interval
                    target.probe = self._probe(svc, task, target, group)
            self.enforce(svc, task, now)

    def _probe(
        self, svc: ServiceRecord, task: TaskRecord, target: Target, group: FakeTargetGroup
    ) -> Future[Probe]:
        settings = backends.health_check_of(group)
        timeout = max(self.clock.real(settings.timeout), MIN_PROBE_TIMEOUT)
        if not settings.enabled:
            done: Future[Probe] = Future()
            done.set_result(Probe(ok=True))
            return done
        port = settings.port_for(target.port)
        address = task.process.address(port) if task.process is not None else None
        blocked = None
        if self.config.check_network and group.vpc_id:
            network = (task.deployment.network_configuration or {}).get("awsvpcConfiguration") or {}
            blocked = backends.ingress_problem(
                svc.account,
                svc.region,
                network.get("securityGroups") or [],
                backends.load_balancer_security_groups(svc.account, svc.region, group),
                group.vpc_id,
                port,
            )
        if blocked is not None or address is None:
            outcome = (
                Probe(False, "Target.Timeout", "Request timed out")
                if blocked is not None
                else Probe(False, "Target.FailedHealthChecks", "Health checks failed")
            )
            # The ALB only learns of a dropped connection when its timeout expires.
            delay = timeout if blocked is not None else 0.0
            return self.executor.submit(_sleep_then, delay, outcome)
        return self.executor.submit(self.prober, address, settings.path, timeout, settings.matches)

    def apply(
        self,
        svc: ServiceRecord,
        task: TaskRecord,
        target: Target,
        settings: backends.HealthCheck,
        probe: Probe,
    ) -> None:
        """The ALB's state machine: ``probe`` is the latest check of ``target``."""
        if probe.ok:
            target.ok_streak += 1
            target.fail_streak = 0
            if target.state != "healthy" and target.ok_streak >= settings.healthy_threshold:
                target.state, target.reason, target.description = "healthy", None, None
                if all(t.state == "healthy" for t in task.targets) and not task.ever_healthy:
                    task.ever_healthy = True
                    task.task.health_status = "HEALTHY"
                    reset_failures(svc, task.deployment)
            elif target.state == "initial":
                target.reason = "Elb.InitialHealthChecking"
                target.description = "Initial health checks in progress"
            return
        target.fail_streak += 1
        target.ok_streak = 0
        if target.state == "initial" and target.fail_streak < settings.unhealthy_threshold:
            target.reason = "Elb.InitialHealthChecking"
            target.description = "Initial health checks in progress"
            return
        if (
            target.state in ("initial", "healthy")
            and target.fail_streak >= settings.unhealthy_threshold
        ):
            target.state = "unhealthy"
            task.task.health_status = "UNHEALTHY"
            svc.event(
                f"(port {target.port}) is unhealthy in (target-group {target.group_arn}) "
                f"due to (reason {probe.description})."
            )
        if target.state == "unhealthy":
            target.reason, target.description = probe.reason, probe.description

    def enforce(self, svc: ServiceRecord, task: TaskRecord, now: float) -> None:
        """Stop ``task`` when a target is unhealthy and the grace period is over."""
        if task.phase != Phase.RUNNING or task.started is None:
            return
        unhealthy = [t for t in task.targets if t.state == "unhealthy"]
        if not unhealthy or now < task.started + svc.grace_period:
            return
        reason = f"Task failed ELB health checks in (target-group {unhealthy[0].group_arn})"
        self.lifecycle.stop_task(svc, task, "ServiceSchedulerInitiated", reason)
        svc.event(f"has stopped 1 running tasks: (task {task.task.id}).")
        count_failure(svc, task.deployment, now, self.config)
