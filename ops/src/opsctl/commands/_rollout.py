"""What deploy, rollback, redeploy and watch share: start (or pick) a deployment, follow it by
its id, verify it, remember the verdict in the revision's tags, and build the result."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from opsctl import images, lkg
from opsctl.commands import Context, revision_of
from opsctl.errors import AwsError, OpsctlError
from opsctl.model import Service, TaskDefinition
from opsctl.results import (
    Change,
    EventInfo,
    ImageInfo,
    Outcome,
    RevisionRef,
    RolloutCommand,
    RolloutInfo,
    RolloutResult,
    StoppedTaskInfo,
    Verification,
)
from opsctl.rollout import Follower, FollowResult, Verdict
from opsctl.target import smoke_target
from opsctl.verify import verify


@dataclass(frozen=True)
class RolloutOptions:
    wait: bool = True
    timeout: float = 900.0
    poll_interval: float = 5.0
    verify_timeout: float = 60.0
    url: str | None = None


@dataclass(frozen=True)
class Plan:
    """What a command is about to do (the parts of its result known before acting)."""

    command: RolloutCommand
    from_revision: RevisionRef | None
    to_revision: RevisionRef | None
    image: ImageInfo | None = None
    diff: str | None = None
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    ecr_image: images.ResolvedImage | None = None
    """The image the rollout runs, as looked up in ECR before acting (None outside ECR)."""


def revision_ref(definition: TaskDefinition, container: str) -> RevisionRef:
    return RevisionRef(definition.revision, definition.arn, definition.container(container).image)


def result(ctx: Context, plan: Plan, outcome: Outcome, **fields: object) -> RolloutResult:
    base = RolloutResult(
        command=plan.command,
        outcome=outcome,
        exit_code=int(outcome.exit_code),
        target=ctx.target_info(),
        deployment_id=None,
        from_revision=plan.from_revision,
        to_revision=plan.to_revision,
        image=plan.image,
        diff=plan.diff,
        changes=plan.changes,
        rollout=None,
        verification=None,
        stopped_tasks=(),
        events=(),
        explanation=(),
        elapsed_seconds=0.0,
        resume_command=None,
        notes=plan.notes,
        warnings=plan.warnings,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _outcome(verdict: Verdict, verification: Verification | None) -> Outcome:
    if verdict == Verdict.COMPLETED:
        if verification is not None and not verification.ok:
            return Outcome.UNVERIFIED
        if verification is not None and verification.smoke_ok is None:
            return Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST
        return Outcome.SUCCEEDED
    return {
        Verdict.ROLLED_BACK: Outcome.ROLLED_BACK,
        Verdict.FAILED: Outcome.FAILED,
        Verdict.TIMED_OUT: Outcome.TIMED_OUT,
        Verdict.SUPERSEDED: Outcome.SUPERSEDED,
        Verdict.IN_PROGRESS: Outcome.TIMED_OUT,
    }[verdict]


def start(
    ctx: Context, plan: Plan, *, task_definition: str | None, force: bool, options: RolloutOptions
) -> RolloutResult:
    """Protect the image from expiry, UpdateService, then follow the PRIMARY deployment of its
    response."""
    target = ctx.target
    plan = _protect_image(ctx, plan)
    before = target.service
    service = ctx.aws.update_service(
        target.cluster, target.name, task_definition=task_definition, force=force
    )
    primary = service.primary
    if primary is None:
        raise AwsError(
            "UpdateService returned no PRIMARY deployment; cannot follow the rollout",
            hint="the service must use the rolling update (ECS) deployment controller",
        )
    ctx.progress.note(
        f"{plan.command}: started deployment {primary.id} "
        f"({primary.task_definition.rsplit('/', 1)[-1]})"
    )
    if ctx.notifier is not None:  # a warning at worst: never what decides the outcome
        sent = ctx.notifier.started(primary.id, plan.from_revision, plan.to_revision, plan.changes)
        plan = replace(plan, warnings=(*plan.warnings, *sent))
    known_deployments = frozenset(d.id for d in service.deployments) | frozenset(
        d.id for d in before.deployments
    )
    known_events = frozenset(e.id for e in service.events) | frozenset(e.id for e in before.events)
    if not options.wait:
        return result(
            ctx,
            plan,
            Outcome.STARTED,
            deployment_id=primary.id,
            resume_command=ctx.resume_command(primary.id),
            rollout=RolloutInfo(primary.rollout_state, primary.rollout_reason, 0, None, None, None),
        )
    return follow(ctx, plan, primary.id, options, known_deployments, known_events)


def _protect_image(ctx: Context, plan: Plan) -> Plan:
    """Tag the image about to run before any task pulls it, so that ECR's lifecycle policy
    never expires what a service runs (infra/modules/ecr/README.md, "Lifecycle")."""
    if plan.ecr_image is None:
        return plan
    try:
        note = images.protect(ctx.aws, plan.ecr_image, datetime.now(UTC))
    except OpsctlError as error:
        return replace(
            plan,
            warnings=(
                *plan.warnings,
                f"could not tag {plan.ecr_image.pinned} {images.PROTECTED_TAG_PREFIX}*: "
                f"{error.message}; ECR's lifecycle policy may expire it once enough newer "
                "images are pushed: tag it by hand (infra/modules/ecr/README.md)",
            ),
        )
    ctx.progress.note(f"{plan.command}: {note}")
    return replace(plan, notes=(*plan.notes, note))


def follow(
    ctx: Context,
    plan: Plan,
    deployment_id: str,
    options: RolloutOptions,
    known_deployments: frozenset[str],
    known_events: frozenset[str],
) -> RolloutResult:
    target = ctx.target
    follower = Follower(
        ctx.aws,
        target.cluster,
        target.name,
        target.target_group_arn,
        progress=ctx.progress,
        poll_interval=options.poll_interval,
        timeout=options.timeout,
    )
    try:
        followed = follower.follow(
            deployment_id,
            known_deployments=known_deployments,
            known_events=known_events,
            resume_hint=ctx.resume_command(deployment_id),
        )
        verification = None
        if followed.verdict == Verdict.COMPLETED:
            smoke, _, _ = smoke_target(ctx.aws, target, options.url)
            verification = verify(
                ctx.aws,
                cluster=target.cluster,
                service=target.name,
                deployment_id=deployment_id,
                group_arn=target.target_group_arn,
                container_port=target.container_port,
                url=smoke.url,
                skipped=smoke.skipped,
                timeout=options.verify_timeout,
                poll_interval=min(options.poll_interval, 2.0),
                progress=ctx.progress,
            )
    finally:
        ctx.progress.close()
    outcome = _outcome(followed.verdict, verification)
    notes = list(plan.notes)
    warnings = list(plan.warnings)
    if outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST and verification is not None:
        warnings.append(f"smoke test skipped: {verification.detail}")
    remembered, not_remembered = _remember(ctx, followed, outcome)
    notes.extend(remembered)
    warnings.extend(not_remembered)
    explanation = list(followed.explanation)
    if outcome == Outcome.UNVERIFIED and verification is not None:
        if verification.targets_healthy is False:
            unhealthy = [t for t in verification.targets if t.state != "healthy"]
            explanation.append(
                "the deployment COMPLETED but its targets are not all healthy: "
                + ", ".join(
                    f"{t.id} {t.state} ({t.reason})" for t in unhealthy or verification.targets
                )
                if verification.targets
                else "the deployment COMPLETED but none of its tasks is registered in the "
                "target group"
            )
        if verification.smoke_ok is False:
            explanation.append(f"smoke test failed: {verification.detail}")
        explanation.append(
            "the new revision is marked failed; `opsctl rollback` returns to the last known "
            "good revision"
        )
    return result(
        ctx,
        plan,
        outcome,
        deployment_id=deployment_id,
        rollout=_rollout_info(followed),
        verification=verification,
        stopped_tasks=tuple(
            StoppedTaskInfo(
                task_id=t.id,
                revision=revision_of(t.task_definition),
                stop_code=t.stop_code,
                stopped_reason=t.stopped_reason,
                exit_code=next(
                    (c.exit_code for c in t.containers if c.exit_code is not None), None
                ),
                stopped_at=t.stopped_at,
            )
            for t in followed.stopped_tasks
        ),
        events=tuple(EventInfo(e.created_at, e.message) for e in followed.events),
        explanation=tuple(explanation),
        elapsed_seconds=round(followed.elapsed, 3),
        resume_command=ctx.resume_command(deployment_id) if outcome == Outcome.TIMED_OUT else None,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def _rollout_info(followed: FollowResult) -> RolloutInfo:
    ours, rollback = followed.deployment, followed.rollback
    state = ours.rollout_state if ours else None
    if followed.verdict == Verdict.ROLLED_BACK:
        state = (
            "FAILED"  # a circuit-breaker rollback means ECS failed it, seen or not between polls
        )
    return RolloutInfo(
        state=state,
        reason=ours.rollout_reason if ours else None,
        failed_tasks=max(ours.failed_tasks if ours else 0, len(followed.stopped_tasks)),
        rollback_deployment_id=rollback.id if rollback else None,
        rollback_revision=revision_of(rollback.task_definition) if rollback else None,
        rollback_state=rollback.rollout_state if rollback else None,
    )


NOT_RECORDED_HINT = "last known good may be wrong: check `opsctl revisions` before a rollback"


def _remember(
    ctx: Context, followed: FollowResult, outcome: Outcome
) -> tuple[list[str], list[str]]:
    """Tag the revision with the verdict (last known good lives there, ADR 0007).

    Returns (notes, warnings): bookkeeping must never turn a deploy's outcome into an error,
    but a verdict that could not be recorded is a warning the operator must see."""
    ours = followed.deployment
    if ours is None:
        return [], []
    name = ours.task_definition.rsplit("/", 1)[-1]
    notes: list[str] = []
    try:
        if outcome in (Outcome.SUCCEEDED, Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST):
            lkg.mark_verified(ctx.aws, ours.task_definition, ours.id, by=ctx.recorded_by)
            notes.append(f"recorded {name} as known good")
        elif outcome in (Outcome.ROLLED_BACK, Outcome.FAILED, Outcome.UNVERIFIED):
            lkg.mark_failed(
                ctx.aws,
                ours.task_definition,
                outcome.value,
                by=ctx.recorded_by,
                deployment_id=ours.id,
            )
            notes.append(f"recorded {name} as {outcome.value}")
            rollback = followed.rollback
            failed_revision = revision_of(ours.task_definition)
            if rollback is not None and rollback.rollout_state == "COMPLETED" and failed_revision:
                lkg.mark_restored(
                    ctx.aws, rollback.task_definition, rollback.id, failed_revision, ctx.recorded_by
                )
                restored = rollback.task_definition.rsplit("/", 1)[-1]
                notes.append(f"recorded {restored} as restored and good")
    except OpsctlError as error:
        return notes, [
            f"could not record the verdict ({outcome.value}) in {name}'s tags: "
            f"{error.message}; {NOT_RECORDED_HINT}"
        ]
    return notes, []


def in_progress(service: Service) -> str | None:
    """The id of a deployment still rolling out, if any."""
    primary = service.primary
    if primary is not None and primary.rollout_state == "IN_PROGRESS":
        return primary.id
    return None
