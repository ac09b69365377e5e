"""What deploy, rollback, redeploy and watch share: start (or pick) a deployment, follow it by
its id, verify it, remember the verdict in the revision's tags, and build the result."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from opsctl import failfast, images, lkg
from opsctl.bake import BakeOptions, Baker
from opsctl.commands import Context, revision_of
from opsctl.errors import AwsError, OpsctlError
from opsctl.model import Deployment, Service, TaskDefinition
from opsctl.results import (
    BakeInfo,
    Change,
    EventInfo,
    FailFastInfo,
    ImageInfo,
    Outcome,
    RevisionRef,
    RollbackMethod,
    RolloutCommand,
    RolloutInfo,
    RolloutResult,
    StoppedTaskInfo,
    Verification,
)
from opsctl.rollout import Follower, FollowResult, Verdict, rollback_of
from opsctl.target import smoke_target
from opsctl.verify import verify


@dataclass(frozen=True)
class RolloutOptions:
    wait: bool = True
    timeout: float = 900.0
    poll_interval: float = 5.0
    verify_timeout: float = 60.0
    url: str | None = None
    fail_fast: int = failfast.DEFAULT_THRESHOLD
    """End the wait when this many tasks stopped for one decisive reason (0: wait for ECS)."""
    allow_no_smoke_test: bool = False
    """A deploy whose smoke test could not run exits 0 and is recorded good (on the targets'
    health alone) instead of exiting 15 unrecorded."""
    bake: BakeOptions | None = None
    """Watch this long after COMPLETED and verified (``deploy --bake``)."""
    rollback_on_failure: bool = False


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
    """The result of ``plan`` ending ``outcome``; ``fields`` set the rest (``exit_code``
    defaults to the outcome's)."""
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


def _outcome(
    verdict: Verdict,
    verification: Verification | None,
    bake: BakeInfo | None = None,
    superseded: bool = False,
) -> Outcome:
    if verdict == Verdict.COMPLETED:
        if verification is not None and not verification.ok:
            return Outcome.UNVERIFIED
        if superseded:
            return Outcome.SUPERSEDED
        if bake is not None and not bake.passed:
            return Outcome.BAKE_FAILED
        if verification is not None and verification.smoke_ok is None:
            return Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST
        return Outcome.SUCCEEDED
    return {
        Verdict.ROLLED_BACK: Outcome.ROLLED_BACK,
        Verdict.FAILED: Outcome.FAILED,
        Verdict.TIMED_OUT: Outcome.TIMED_OUT,
        Verdict.SUPERSEDED: Outcome.SUPERSEDED,
        Verdict.IN_PROGRESS: Outcome.TIMED_OUT,
        Verdict.FAILING: Outcome.FAILING,
    }[verdict]


def exit_code(outcome: Outcome, options: RolloutOptions) -> int:
    """The outcome's exit code; a skipped smoke test is 0 only when the operator accepted it."""
    if outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST and options.allow_no_smoke_test:
        return 0
    return int(outcome.exit_code)


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


def stop_and_follow(
    ctx: Context,
    plan: Plan,
    service_deployment: str,
    failing: Deployment,
    options: RolloutOptions,
) -> RolloutResult:
    """StopServiceDeployment with ROLLBACK on ``failing`` (in progress), then follow the
    rollback deployment ECS starts for it, like any other, to its outcome."""
    target = ctx.target
    plan = _protect_image(ctx, plan)
    before = ctx.aws.describe_service(target.cluster, target.name)
    known, events = known_before(before)
    ctx.aws.stop_service_deployment(service_deployment)
    method: RollbackMethod = "stop_service_deployment"
    ctx.progress.note(
        f"{plan.command}: stopped deployment {failing.id} with ECS's rollback "
        f"(StopServiceDeployment {service_deployment.rsplit('/', 1)[-1]})"
    )
    deadline = time.monotonic() + options.timeout
    rollback: Deployment | None = None
    while True:
        service = ctx.aws.describe_service(target.cluster, target.name)
        # ECS's rollback deployment: new, and PRIMARY (its rolloutStateReason says "rolling
        # back" in every case seen, but the id is what proves it).
        rollback = rollback_of(service, failing.id, known) or next(
            (d for d in service.deployments if d.id not in known and d.status == "PRIMARY"),
            None,
        )
        if rollback is not None or not options.wait or time.monotonic() >= deadline:
            break
        time.sleep(min(options.poll_interval, max(deadline - time.monotonic(), 0.0)))
    if rollback is None:
        outcome = Outcome.STARTED if not options.wait else Outcome.TIMED_OUT
        return result(
            ctx,
            plan,
            outcome,
            method=method,
            deployment_id=failing.id,
            resume_command=ctx.resume_command(failing.id),
            explanation=()
            if not options.wait
            else (
                f"ECS accepted the rollback of {failing.id} but started no rollback deployment "
                f"within {options.timeout:.0f} s",
            ),
        )
    ctx.progress.note(f"{plan.command}: ECS started rollback deployment {rollback.id}")
    if not options.wait:
        return result(
            ctx,
            plan,
            Outcome.STARTED,
            method=method,
            deployment_id=rollback.id,
            resume_command=ctx.resume_command(rollback.id),
        )
    followed = follow(ctx, plan, rollback.id, options, known | {failing.id}, events)
    return replace(followed, method=method)


def known_before(service: Service, *also: Service) -> tuple[frozenset[str], frozenset[str]]:
    """The deployment and event ids of ``service`` (and ``also``): what existed before."""
    services = (service, *also)
    return (
        frozenset(d.id for s in services for d in s.deployments),
        frozenset(e.id for s in services for e in s.events),
    )


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
    """Follow ``deployment_id`` to its outcome; verify it when it completes; bake it when
    asked; record the verdict in the revision's tags; build the result."""
    target = ctx.target
    follower = Follower(
        ctx.aws,
        target.cluster,
        target.name,
        target.target_group_arn,
        progress=ctx.progress,
        poll_interval=options.poll_interval,
        timeout=options.timeout,
        fail_fast=options.fail_fast,
        container=target.container_name,
    )
    notes = list(plan.notes)
    warnings = list(plan.warnings)
    bake: BakeInfo | None = None
    superseded = False
    fail_fast: FailFastInfo | None = None
    try:
        followed = follower.follow(
            deployment_id,
            known_deployments=known_deployments,
            known_events=known_events,
            resume_hint=ctx.resume_command(deployment_id),
        )
        verification = None
        if followed.verdict == Verdict.COMPLETED:
            smoke, _, balancer = smoke_target(ctx.aws, target, options.url)
            expected = None
            if smoke.url is not None and plan.to_revision is not None:
                expected, said = images.revision_label(ctx.aws, plan.to_revision.image)
                if said is not None:
                    (warnings if said.startswith("could not") else notes).append(said)
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
                expected_commit=expected,
            )
            if verification.ok and options.bake is not None and options.bake.seconds > 0:
                ours = followed.deployment
                bake, superseded = Baker(
                    ctx.aws,
                    cluster=target.cluster,
                    service=target.name,
                    deployment_id=deployment_id,
                    deployment_started=ours.created_at if ours else None,
                    deployment_completed=ours.updated_at if ours else None,
                    group_arn=target.target_group_arn,
                    container_port=target.container_port,
                    balancer_dimension=balancer.dimension if balancer else None,
                    log_group=target.log_group,
                    stream_prefix=target.log_stream_prefix,
                    container=target.container_name,
                    progress=ctx.progress,
                    poll_interval=max(options.poll_interval, 0.5),
                    options=options.bake,
                ).watch()
        elif followed.verdict == Verdict.FAILING and followed.failing is not None:
            fail_fast = _evidence(ctx, followed.failing)
    finally:
        ctx.progress.close()
    outcome = _outcome(followed.verdict, verification, bake, superseded)
    if outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST and verification is not None:
        warnings.append(f"smoke test skipped: {verification.detail}")
        if not options.allow_no_smoke_test:
            warnings.append(
                "not recorded as known good: nothing checked that the service answers "
                "(exit 15); pass --allow-no-smoke-test to accept the targets' health checks alone"
            )
    remembered, not_remembered = _remember(ctx, followed, outcome, options)
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
    if outcome == Outcome.BAKE_FAILED and bake is not None:
        explanation.append(
            f"the deployment COMPLETED and passed verification, then failed the bake window "
            f"after {bake.watched_seconds:.0f} s of {bake.seconds:.0f} s:"
        )
        explanation.extend(bake.breaches)
        explanation.append(
            "the new revision is marked failed; `opsctl rollback` returns to the last known "
            "good revision"
        )
    if outcome == Outcome.SUPERSEDED and superseded:
        primary = ctx.aws.describe_service(target.cluster, target.name).primary
        explanation.append(
            f"another deployment ({primary.id if primary else 'unknown'}) replaced "
            f"{deployment_id} during the bake window: the bake judged nothing"
        )
    if fail_fast is not None:
        explanation.extend(
            f"last output of task {fail_fast.task_id[:12]}: {line}"
            for line in fail_fast.log_lines[-5:]
        )
    return result(
        ctx,
        plan,
        outcome,
        exit_code=exit_code(outcome, options),
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
        elapsed_seconds=round(followed.elapsed + (bake.watched_seconds if bake else 0.0), 3),
        resume_command=ctx.resume_command(deployment_id)
        if outcome in (Outcome.TIMED_OUT, Outcome.FAILING)
        else None,
        notes=tuple(notes),
        warnings=tuple(warnings),
        fail_fast=fail_fast,
        bake=bake,
    )


LOG_LINES = 20
"""How many of a failed task's last log lines the fail-fast evidence shows."""


def _evidence(ctx: Context, decision: failfast.Decision) -> FailFastInfo:
    """The fail-fast verdict with the newest failed task's reason, exit code and last lines."""
    target = ctx.target
    task = decision.tasks[0]
    lines: tuple[str, ...] = ()
    log_error = None
    if target.log_group and target.log_stream_prefix:
        stream = f"{target.log_stream_prefix}/{target.container_name}/{task.id}"
        since = (task.created_at or datetime.now(UTC)) - timedelta(minutes=1)
        try:
            events = ctx.aws.filter_log_events(
                target.log_group, start=since, streams=[stream], limit=500
            )
            lines = tuple(e.message for e in events[-LOG_LINES:])
        except OpsctlError as error:
            log_error = error.message
    else:
        log_error = "the container does not log with awslogs"
    code = next((c.exit_code for c in task.containers if c.exit_code is not None), None)
    return FailFastInfo(
        kind=decision.cause.kind,
        reason=decision.cause.reason,
        tasks=len(decision.tasks),
        threshold=decision.threshold,
        task_id=task.id,
        stopped_reason=task.stopped_reason,
        exit_code=code,
        log_lines=lines,
        log_error=log_error,
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
    ctx: Context, followed: FollowResult, outcome: Outcome, options: RolloutOptions
) -> tuple[list[str], list[str]]:
    """Tag the revision with the verdict (last known good lives there, ADR 0007).

    Returns (notes, warnings): bookkeeping must never turn a deploy's outcome into an error,
    but a verdict that could not be recorded is a warning the operator must see."""
    ours = followed.deployment
    if ours is None:
        return [], []
    name = ours.task_definition.rsplit("/", 1)[-1]
    notes: list[str] = []
    good = outcome == Outcome.SUCCEEDED or (
        outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST and options.allow_no_smoke_test
    )
    try:
        if good:
            lkg.mark_verified(ctx.aws, ours.task_definition, ours.id, by=ctx.recorded_by)
            notes.append(
                f"recorded {name} as known good"
                + (
                    " on the targets' health alone (--allow-no-smoke-test)"
                    if outcome == Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST
                    else ""
                )
            )
        elif outcome in (
            Outcome.ROLLED_BACK,
            Outcome.FAILED,
            Outcome.UNVERIFIED,
            Outcome.FAILING,
            Outcome.BAKE_FAILED,
        ):
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
