"""Following one deployment by its own id until it completes, fails or times out.

Waiting for "service stable" reports a rolled-back deploy as a success, because the service
is stable again after the circuit breaker rolled it back (aws-actions deploy-task-definition
#191, ecspresso #732, ecs-deploy #185). opsctl instead takes the PRIMARY deployment id from the
UpdateService response and watches *that* deployment's ``rolloutState``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from opsctl import failfast
from opsctl.aws import Aws
from opsctl.errors import Interrupted
from opsctl.model import Deployment, Service, ServiceEvent, TargetHealth, Task
from opsctl.progress import Progress, Snapshot


class Verdict(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    TIMED_OUT = "timed_out"
    FAILING = "failing"
    """Fail fast: tasks keep stopping for one decisive reason; ECS has not decided yet."""


def failure_threshold(service: Service) -> int | None:
    """The circuit breaker's failed-task threshold: 0.5 x desired, clamped to 3..200
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html)."""
    if not service.circuit_breaker_enabled:
        return None
    return min(max(math.ceil(0.5 * service.desired), 3), 200)


def rollback_of(service: Service, deployment_id: str, known: frozenset[str]) -> Deployment | None:
    """The circuit breaker's rollback deployment that appeared after ours, if any.

    ``known`` holds the deployment ids that existed when ours started (ids, not timestamps,
    so a skewed local clock cannot hide a rollback).
    """
    for deployment in service.deployments:
        if deployment.id == deployment_id or deployment.id in known:
            continue
        if deployment.is_circuit_breaker_rollback:
            return deployment
    return None


def classify(
    service: Service, deployment_id: str, known: frozenset[str], seen_failed: bool
) -> Verdict:
    """What the service says about our deployment right now (pure; no time-out here)."""
    ours = service.deployment(deployment_id)
    rollback = rollback_of(service, deployment_id, known)
    if ours is None:
        # ECS drops a deployment once it is replaced and drained.
        if rollback is not None or seen_failed:
            return Verdict.ROLLED_BACK if rollback is not None else Verdict.FAILED
        return Verdict.SUPERSEDED
    if ours.rollout_state == "COMPLETED":
        return Verdict.COMPLETED
    if ours.rollout_state == "FAILED":
        return Verdict.ROLLED_BACK if rollback is not None else Verdict.FAILED
    if ours.status != "PRIMARY":
        return Verdict.ROLLED_BACK if rollback is not None else Verdict.SUPERSEDED
    return Verdict.IN_PROGRESS


@dataclass(frozen=True)
class FollowResult:
    verdict: Verdict
    deployment: Deployment | None
    """Our deployment as last seen."""
    rollback: Deployment | None
    service: Service
    events: tuple[ServiceEvent, ...]
    """Service events that appeared while following, oldest first."""
    stopped_tasks: tuple[Task, ...]
    """Our deployment's stopped tasks."""
    targets: tuple[TargetHealth, ...]
    elapsed: float
    polls: int
    explanation: tuple[str, ...]
    failing: failfast.Decision | None = None
    """Why the wait ended early (verdict FAILING)."""


def breaker_deciding(service: Service, deployment: Deployment | None, stopped: int) -> bool:
    """Whether the circuit breaker has counted enough failures to fail ``deployment`` now: then
    its verdict (and its rollback) is a poll away, and failing fast would only hide it."""
    threshold = failure_threshold(service)
    failed = max(deployment.failed_tasks if deployment else 0, stopped)
    return threshold is not None and failed >= threshold


def _revision(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class Follower:
    """Polls DescribeServices (and target health) every ``poll_interval`` seconds."""

    def __init__(
        self,
        aws: Aws,
        cluster: str,
        service: str,
        target_group_arn: str | None,
        *,
        progress: Progress,
        poll_interval: float,
        timeout: float,
        fail_fast: int = 0,
        container: str | None = None,
    ) -> None:
        self._fail_fast = fail_fast
        self._container = container
        self._aws = aws
        self._cluster = cluster
        self._service = service
        self._group = target_group_arn
        self._progress = progress
        self._poll = poll_interval
        self._timeout = timeout
        self._seen_events: set[str] = set()
        self._events: list[ServiceEvent] = []
        self._stopped: dict[str, Task] = {}
        self._failed_seen = -1

    def _notes(self, service: Service) -> None:
        for event in reversed(service.events):
            if event.id in self._seen_events:
                continue
            self._seen_events.add(event.id)
            self._events.append(event)
            self._progress.note(f"event: {event.message}")

    def _stopped_tasks(self, deployment: Deployment | None) -> None:
        if deployment is None or deployment.failed_tasks == self._failed_seen:
            return
        self._failed_seen = deployment.failed_tasks
        for task in self._aws.service_tasks(self._cluster, self._service, "STOPPED"):
            if task.started_by != deployment.id or task.id in self._stopped:
                continue
            if task.last_status != "STOPPED":
                continue
            self._stopped[task.id] = task
            code = next((c.exit_code for c in task.containers if c.exit_code is not None), None)
            exit_text = f", exit code {code}" if code is not None else ""
            self._progress.note(
                f"task {task.id[:12]} stopped: {task.stopped_reason or task.stop_code}{exit_text}"
            )

    def follow(
        self,
        deployment_id: str,
        *,
        known_deployments: frozenset[str],
        known_events: frozenset[str],
        resume_hint: str,
    ) -> FollowResult:
        """Follow ``deployment_id``; after a circuit-breaker rollback, follow the rollback too.

        ``known_deployments``/``known_events``: ids that existed before our deployment (from the
        UpdateService response): anything else is new.
        """
        self._seen_events |= known_events
        known = known_deployments - {deployment_id}
        clock = time.monotonic()
        deadline = clock + self._timeout
        polls = 0
        seen_failed = False
        targets: list[TargetHealth] = []
        verdict = Verdict.IN_PROGRESS
        service: Service | None = None
        ours: Deployment | None = None
        rollback: Deployment | None = None
        failing: failfast.Decision | None = None
        try:
            while True:
                polls += 1
                service = self._aws.describe_service(self._cluster, self._service)
                ours = service.deployment(deployment_id) or ours
                current = service.deployment(deployment_id)
                if current is not None and current.rollout_state == "FAILED":
                    seen_failed = True
                if verdict in (Verdict.IN_PROGRESS,):
                    verdict = classify(service, deployment_id, known, seen_failed)
                rollback = rollback_of(service, deployment_id, known) or rollback
                if rollback is not None:
                    rollback = service.deployment(rollback.id) or rollback
                self._notes(service)
                self._stopped_tasks(current)
                if verdict == Verdict.IN_PROGRESS:
                    failing = failfast.decide(
                        self._stopped.values(), self._fail_fast, self._container
                    )
                    if failing is not None and not breaker_deciding(
                        service, current, len(self._stopped)
                    ):
                        verdict = Verdict.FAILING
                        self._progress.note(
                            f"fail fast: {len(failing.tasks)} tasks stopped: {failing.cause.reason}"
                        )
                    else:
                        failing = None
                if self._group:
                    targets = self._aws.target_health(self._group)
                followed = (
                    rollback if verdict == Verdict.ROLLED_BACK and rollback else (current or ours)
                )
                if followed is not None:
                    self._progress.update(
                        Snapshot(
                            deployment_id=followed.id,
                            label="rollback" if followed is rollback else "deployment",
                            revision=_revision(followed.task_definition),
                            rollout_state=followed.rollout_state or "?",
                            running=followed.running,
                            desired=followed.desired,
                            pending=followed.pending,
                            failed_tasks=followed.failed_tasks,
                            failure_threshold=failure_threshold(service),
                            targets=dict(Counter(t.state for t in targets)),
                            elapsed=time.monotonic() - clock,
                        )
                    )
                rollback_done = rollback is None or rollback.rollout_state in (
                    "COMPLETED",
                    "FAILED",
                )
                if verdict not in (Verdict.IN_PROGRESS, Verdict.ROLLED_BACK) or (
                    verdict == Verdict.ROLLED_BACK and rollback_done
                ):
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if verdict == Verdict.IN_PROGRESS:
                        verdict = Verdict.TIMED_OUT
                    break
                time.sleep(min(self._poll, remaining))
        except KeyboardInterrupt as interrupt:
            self._progress.close()
            raise Interrupted(
                f"stopped watching deployment {deployment_id}; it continues in ECS, nothing "
                "was changed",
                hint=f"resume with: {resume_hint}",
            ) from interrupt
        if service is None:  # the loop above always describes the service at least once
            raise RuntimeError(f"deployment {deployment_id}: the service was never described")
        elapsed = time.monotonic() - clock
        stopped = tuple(self._stopped.values())
        return FollowResult(
            verdict=verdict,
            deployment=ours,
            rollback=rollback,
            service=service,
            events=tuple(self._events),
            stopped_tasks=stopped,
            targets=tuple(targets),
            elapsed=elapsed,
            polls=polls,
            explanation=explain(
                verdict, service, ours, rollback, stopped, targets, elapsed, self._events, failing
            ),
            failing=failing,
        )


def _failed_by(ours: Deployment | None, rollback: Deployment | None) -> str:
    """Who failed the deployment, from ECS's words (``rolloutStateReason``): the circuit
    breaker, the deployment alarms, or a rollback someone asked for (StopServiceDeployment)."""
    said = " ".join((d.rollout_reason or "").lower() for d in (ours, rollback) if d is not None)
    if "alarm" in said:
        return "ECS deployment alarms"
    if "rollback requested" in said or "stopservicedeployment" in said:
        return "a requested rollback (StopServiceDeployment)"
    return "the ECS deployment circuit breaker"


def explain(
    verdict: Verdict,
    service: Service,
    ours: Deployment | None,
    rollback: Deployment | None,
    stopped: tuple[Task, ...],
    targets: list[TargetHealth] | tuple[TargetHealth, ...],
    elapsed: float,
    events: list[ServiceEvent] | tuple[ServiceEvent, ...],
    failing: failfast.Decision | None = None,
) -> tuple[str, ...]:
    """Why the deployment ended as it did, in sentences a person can act on."""
    if verdict == Verdict.COMPLETED:
        return ()
    lines: list[str] = []
    name = ours.id if ours else "the deployment"
    if verdict == Verdict.FAILING and failing is not None:
        threshold = failure_threshold(service)
        waiting = (
            "the circuit breaker is off: ECS would retry forever"
            if threshold is None
            else f"the circuit breaker would wait for {threshold} failed tasks"
        )
        lines.append(
            f"fail fast: {len(failing.tasks)} tasks of {name} stopped for the same reason "
            f"({failing.cause.reason}); {waiting}. opsctl stopped waiting after {elapsed:.0f} s; "
            "the deployment goes on in ECS until it is rolled back (`opsctl rollback` stops it)"
        )
    elif verdict == Verdict.TIMED_OUT and ours is not None:
        lines.append(
            f"deployment {name} is still {ours.rollout_state} after {elapsed:.0f} s: "
            f"{ours.running}/{ours.desired} tasks running, {ours.pending} pending"
        )
    elif verdict == Verdict.ROLLED_BACK:
        restored = _revision(rollback.task_definition) if rollback else "the previous revision"
        state = rollback.rollout_state if rollback else "unknown"
        lines.append(
            f"{_failed_by(ours, rollback)} failed {name} and rolled the service back to "
            f"{restored} (rollback {state})"
        )
        if ours is not None and ours.rollout_reason and "alarm" in ours.rollout_reason.lower():
            lines.append(f"ECS said: {ours.rollout_reason}")
    elif verdict == Verdict.FAILED:
        lines.append(
            f"deployment {name} FAILED ({ours.rollout_reason if ours else 'no reason given'}) "
            "and was not "
            "rolled back: the circuit breaker has rollback off or no earlier COMPLETED deployment; "
            "ECS launches no more tasks for it"
        )
    elif verdict == Verdict.SUPERSEDED:
        primary = service.primary
        lines.append(
            f"another deployment ({primary.id if primary else 'unknown'}, "
            f"{_revision(primary.task_definition) if primary else '?'}) replaced {name}"
        )
    if ours is not None and ours.failed_tasks:
        threshold = failure_threshold(service)
        breaker = (
            f"circuit breaker threshold {threshold}"
            if threshold
            else "circuit breaker off: ECS keeps retrying forever"
        )
        lines.append(f"{ours.failed_tasks} tasks of it failed ({breaker})")
    reasons = Counter((t.stopped_reason or t.stop_code or "unknown") for t in stopped)
    for reason, count in reasons.most_common(3):
        codes = sorted(
            {
                c.exit_code
                for t in stopped
                for c in t.containers
                if c.exit_code is not None
                and (t.stopped_reason or t.stop_code or "unknown") == reason
            }
        )
        exit_text = f" (exit code {', '.join(map(str, codes))})" if codes else ""
        lines.append(f"{count} task(s) stopped: {reason}{exit_text}")
    unhealthy = [t for t in targets if t.state not in ("healthy", "draining")]
    for target in unhealthy[:3]:
        lines.append(
            f"target {target.id}:{target.port} {target.state} ({target.reason}: "
            f"{target.description})"
        )
    if events:
        lines.append(f"latest event: {events[-1].message}")
    if verdict != Verdict.SUPERSEDED:
        lines.append(
            "next: `opsctl diagnose` names the likely cause; `opsctl logs --since 15m` shows "
            "the tasks' output"
        )
    return tuple(lines)
