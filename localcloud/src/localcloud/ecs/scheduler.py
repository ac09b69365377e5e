"""The ECS service scheduler: one pass moves every task on and runs the rolling deployment.

What ECS does for a service with the rolling update deployment type
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html):

* tasks move PROVISIONING -> PENDING -> ACTIVATING -> RUNNING (:class:`Launcher` places and
  launches them), are registered and health-checked (:class:`HealthChecker`) and stop through
  :class:`Lifecycle`; STOPPED tasks are forgotten after ``stopped_task_retention_seconds``;
* the PRIMARY deployment starts tasks up to ``desiredCount`` within ``maximumPercent``, older
  deployments' tasks stop while at least ``minimumHealthyPercent`` stay healthy, and the
  deployment COMPLETES when its own tasks are all healthy and no other task is left;
* the circuit breaker (:mod:`localcloud.ecs.breaker`) fails a deployment whose tasks keep
  failing, the deployment alarms (:mod:`localcloud.ecs.deploymentalarms`) one whose alarms go
  to ALARM (and hold a steady deployment IN_PROGRESS for their bake time), StopServiceDeployment
  one a user rolls back; each rolls back when asked to (:mod:`localcloud.ecs.failure`), and
  the service deployments follow (:mod:`localcloud.ecs.history`).

Every method takes the simulated time ``now`` and changes only the simulator's state and the
moto objects the service's records point to; the caller holds the simulator's lock.
"""

from __future__ import annotations

import math
import time

from localcloud.ecs import breaker, deploymentalarms, failure, history
from localcloud.ecs.health import HealthChecker
from localcloud.ecs.launcher import Launcher
from localcloud.ecs.lifecycle import Lifecycle, deregister, finish_stop, set_phase
from localcloud.ecs.model import Deployment, Phase, ServiceRecord, SimConfig, TaskRecord
from localcloud.ecs.servicedeployments import Status
from localcloud.ecs.taskruntime import ExitStatus
from localcloud.ecs.tasks import utcnow

SCALING = "Scaling activity initiated by (deployment {})"


class Scheduler:
    """The per-service pass; :attr:`transitions` records each COMPLETED or FAILED rollout."""

    def __init__(
        self,
        config: SimConfig,
        launcher: Launcher,
        lifecycle: Lifecycle,
        health: HealthChecker,
    ) -> None:
        self.config = config
        self.launcher = launcher
        self.lifecycle = lifecycle
        self.health = health
        self.transitions: list[tuple[float, str, str]] = []
        """``(wall-clock time, deployment id, rolloutState)``, in order."""

    def step(self, svc: ServiceRecord, now: float) -> None:
        """One pass over ``svc``: tasks, health checks, then the rollout."""
        for task in list(svc.tasks.values()):
            self.advance(svc, task, now)
        self.health.check(svc, now)
        self.rollout(svc, now)

    # --- tasks ----------------------------------------------------------------------------

    def advance(self, svc: ServiceRecord, task: TaskRecord, now: float) -> None:
        """Move ``task`` on as far as its timers and its process allow."""
        config = self.config
        elapsed = now - task.since
        if task.phase == Phase.PROVISIONING and elapsed >= config.provisioning_seconds:
            set_phase(task, Phase.PENDING, now)
            task.task.pull_started_at = utcnow()
        elif task.phase == Phase.PENDING and task.pull_error is not None:
            if now >= task.pull_error_until:
                self.launcher.failed_to_start(svc, task, task.pull_error, now)
        elif task.phase == Phase.PENDING and elapsed >= config.pull_seconds:
            self.launcher.launch(svc, task, now)
        elif (
            task.phase == Phase.ACTIVATING
            and elapsed >= config.activating_seconds
            and not (task.process is not None and task.process.starting())
        ):
            set_phase(task, Phase.RUNNING, now)
            task.started = now
            task.task.started_at = utcnow()
            for container in task.task.sim_containers:
                container.last_status = "RUNNING"
            self.health.register_targets(svc, task, now)
        if task.phase in (Phase.ACTIVATING, Phase.RUNNING, Phase.DEACTIVATING):
            exit_status = task.process.poll() if task.process else None
            if exit_status is not None:
                self.lifecycle.container_exited(svc, task, exit_status, now)
        if task.phase == Phase.DEACTIVATING and all(
            t.drain_until is not None and now >= t.drain_until for t in task.targets
        ):
            self.lifecycle.begin_stopping(task, now)
        if (
            task.phase == Phase.STOPPING
            and task.stop_future is not None
            and task.stop_future.done()
        ):
            try:
                status = task.stop_future.result()
            except Exception:
                status = ExitStatus(137)
            finish_stop(task, status, now)
        for target in list(task.targets):
            if target.drain_until is not None and now >= target.drain_until:
                deregister(svc, task, target)
        if (
            task.phase == Phase.STOPPED
            and not task.targets
            and task.stopped_since is not None
            and now - task.stopped_since >= config.stopped_task_retention_seconds
        ):
            del svc.tasks[task.task.id]
            svc.backend.tasks.get(svc.cluster, {}).pop(task.task.task_arn, None)

    # --- the rolling deployment -----------------------------------------------------------

    def rollout(self, svc: ServiceRecord, now: float) -> None:
        """Start, replace and stop tasks for the PRIMARY deployment; complete or fail it."""
        if not svc.deployments:
            return
        configuration = svc.deployment_configuration
        desired = svc.desired_count
        min_healthy = math.ceil(
            desired * int(configuration.get("minimumHealthyPercent", 100)) / 100
        )
        max_total = max(
            math.floor(desired * int(configuration.get("maximumPercent", 200)) / 100), 1
        )
        primary = self.watch(svc, svc.deployments[0], now)
        tasks = list(svc.tasks.values())
        mine = [t for t in tasks if t.deployment is primary and t.active]
        active = [t for t in tasks if t.active]
        stalled = primary.rollout_state == "FAILED"

        # Launch the primary deployment's tasks within maximumPercent.
        started = []
        while (
            not stalled
            and len(mine) < desired
            and len(active) < max_total
            and now >= primary.next_launch_at
        ):
            if svc.capacity_shortage:
                svc.event(
                    "was unable to place a task. Reason: Capacity is unavailable at this time. "
                    "Please try again later or in a different availability zone."
                )
                breaker.count_failure(svc, primary, now, self.config)
                break
            record = self.launcher.place(svc, primary, now)
            if record is None:
                break
            mine.append(record)
            active.append(record)
            started.append(record)
        if started:
            ids = " ".join(f"(task {t.task.id})" for t in started)
            svc.event(f"has started {len(started)} tasks: {ids}.")

        # Scale in the primary deployment beyond desiredCount.
        for task in sorted(mine, key=lambda t: t.healthy)[: max(len(mine) - desired, 0)]:
            self.lifecycle.stop_task(
                svc, task, "ServiceSchedulerInitiated", SCALING.format(primary.id)
            )

        # Replace older deployments' tasks while keeping minimumHealthyPercent.
        if not stalled:
            healthy = sum(1 for t in tasks if t.healthy)
            old = [t for t in tasks if t.deployment is not primary and t.active]
            stopped = []
            for task in sorted(old, key=lambda t: t.healthy):
                if task.healthy:
                    if healthy - 1 < min_healthy:
                        continue
                    healthy -= 1
                self.lifecycle.stop_task(
                    svc, task, "ServiceSchedulerInitiated", SCALING.format(primary.id)
                )
                stopped.append(task)
            if stopped:
                ids = " ".join(f"(task {t.task.id})" for t in stopped)
                svc.event(f"has stopped {len(stopped)} running tasks: {ids}.")

        # Forget older deployments once none of their tasks is left running and the primary
        # deployment no longer needs them listed (a failed deployment stays visible, ACTIVE and
        # FAILED, while the circuit breaker's rollback is in progress).
        for deployment in svc.deployments[1:]:
            drained = not any(
                t.deployment is deployment and t.phase != Phase.STOPPED for t in tasks
            )
            if drained and (
                deployment.rollout_state != "FAILED" or primary.rollout_state != "IN_PROGRESS"
            ):
                svc.deployments.remove(deployment)

        if primary.rollout_state == "IN_PROGRESS":
            healthy_mine = sum(1 for t in mine if t.healthy)
            others_left = any(
                t.deployment is not primary and t.phase != Phase.STOPPED for t in tasks
            )
            steady = healthy_mine >= desired and not others_left
            if steady and self.baked(svc, primary, now):
                primary.rollout_state = "COMPLETED"
                primary.rollout_reason = f"ECS deployment {primary.id} completed."
                primary.updated_at = utcnow()
                primary.bake_until = None
                svc.last_completed = primary
                self.transitions.append((time.time(), primary.id, "COMPLETED"))
                svc.event(f"(deployment {primary.id}) deployment completed.")
                svc.event("has reached a steady state.")
                svc.deployments[1:] = []
                history.completed(primary)
            elif not steady:
                primary.bake_until = None
                if breaker.tripped(svc, primary, desired):
                    failure.fail(
                        svc,
                        primary,
                        failure.CIRCUIT_BREAKER,
                        roll_back=breaker.rolls_back(svc),
                        transitions=self.transitions,
                    )

    def watch(self, svc: ServiceRecord, primary: Deployment, now: float) -> Deployment:
        """Before a pass over the rollout: start the service deployment's clock, carry out a
        StopServiceDeployment, fail the deployment if a deployment alarm is in ALARM. Returns
        the PRIMARY deployment after that (a rollback's, if one began)."""
        history.started(primary)
        if primary.rollout_state != "IN_PROGRESS":
            return primary
        record = primary.service_deployment
        if (
            record is not None
            and record.status == Status.ROLLBACK_REQUESTED
            and history.owns_target(primary)
        ):
            rollback = failure.fail(
                svc, primary, failure.STOPPED_BY_USER, roll_back=True, transitions=self.transitions
            )
            return rollback or primary
        names = deploymentalarms.watched(svc)
        running = any(
            t.deployment is primary and t.phase == Phase.RUNNING for t in svc.tasks.values()
        )
        if names and running and not primary.is_rollback:
            firing = deploymentalarms.in_alarm(svc, names)
            if firing:
                rollback = failure.fail(
                    svc,
                    primary,
                    failure.alarms(firing),
                    roll_back=deploymentalarms.rolls_back(svc),
                    transitions=self.transitions,
                )
                return rollback or primary
        return primary

    def baked(self, svc: ServiceRecord, primary: Deployment, now: float) -> bool:
        """Whether a steady ``primary`` may complete: at once, or once the deployment alarms'
        bake time is over (started the first time it is steady)."""
        names = deploymentalarms.watched(svc)
        if not names or primary.is_rollback:
            return True
        if primary.bake_until is None:
            primary.bake_until = now + deploymentalarms.bake_seconds(svc, names)
            history.baking(primary)
        return now >= primary.bake_until
