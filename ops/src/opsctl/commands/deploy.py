"""``opsctl deploy --image-tag TAG``: a new revision copied from the current one with only the
image changed, pinned by digest; the service updated; the deployment followed and verified
(runbook 2.1, 2.2 step 3)."""

from __future__ import annotations

from dataclasses import replace

from opsctl import lkg
from opsctl.commands import Context
from opsctl.commands import rollback as rollback_command
from opsctl.commands._rollout import (
    NOT_RECORDED_HINT,
    Plan,
    RolloutOptions,
    follow,
    known_before,
    result,
    revision_ref,
    start,
)
from opsctl.errors import ConflictError, OpsctlError
from opsctl.images import parse_image, resolve_tag
from opsctl.model import TaskDefinition
from opsctl.results import (
    ROLLBACK_TRIGGERS,
    AutomaticRollbackInfo,
    ImageInfo,
    Outcome,
    RevisionRef,
    RolloutResult,
    automatic_rollback_exit,
)
from opsctl.taskdef import changes, inherited_tags, unified_diff, with_image


def run(
    ctx: Context,
    *,
    image_tag: str,
    dry_run: bool,
    force: bool,
    options: RolloutOptions,
) -> RolloutResult:
    """Deploy, and with ``options.rollback_on_failure`` roll back when the deploy failed."""
    deployed = _deploy(ctx, image_tag=image_tag, dry_run=dry_run, force=force, options=options)
    if options.rollback_on_failure and deployed.outcome in ROLLBACK_TRIGGERS:
        return _roll_back_after(ctx, deployed, options)
    return deployed


def _roll_back_after(
    ctx: Context, deployed: RolloutResult, options: RolloutOptions
) -> RolloutResult:
    """--rollback-on-failure: the deploy ended ``deployed.outcome``; roll back to the last
    known good revision (StopServiceDeployment while it still rolls out), follow and verify
    that, and say both in the exit code (docs/opsctl.md, "Exit codes")."""
    ctx.refresh()
    ctx.progress.note(
        f"deploy: {deployed.outcome.value}; --rollback-on-failure: rolling back to the last "
        "known good revision"
    )
    again = replace(options, bake=None, rollback_on_failure=False)
    try:
        back = rollback_command.run(ctx, to_revision=None, dry_run=False, options=again)
    except OpsctlError as error:
        info = AutomaticRollbackInfo(
            outcome=Outcome.FAILED,
            method=None,
            deployment_id=None,
            to_revision=None,
            verification=None,
            explanation=(
                f"could not roll back: {error.message}",
                *((error.hint,) if error.hint else ()),
            ),
        )
        restored = False
    else:
        restored = back.outcome in RESTORED
        info = AutomaticRollbackInfo(
            outcome=back.outcome,
            method=back.method,
            deployment_id=back.deployment_id,
            to_revision=back.to_revision,
            verification=back.verification,
            explanation=back.explanation,
        )
        deployed = replace(
            deployed,
            notes=(*deployed.notes, *(f"rollback: {n}" for n in back.notes)),
            warnings=(*deployed.warnings, *(f"rollback: {w}" for w in back.warnings)),
        )
    return replace(
        deployed,
        exit_code=int(automatic_rollback_exit(deployed.outcome, restored)),
        automatic_rollback=info,
    )


RESTORED = frozenset({Outcome.SUCCEEDED, Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST, Outcome.UNCHANGED})
"""Rollback outcomes that leave the service on its last known good revision."""


def _deploy(
    ctx: Context,
    *,
    image_tag: str,
    dry_run: bool,
    force: bool,
    options: RolloutOptions,
) -> RolloutResult:
    target = ctx.target
    current = target.task_definition
    container = current.container(target.container_name)
    repository = target.spec.ecr_repository_url or parse_image(container.image).name
    # Nothing changes before the image is known to exist (ecs-deploy #185: never half-deploy).
    resolved = resolve_tag(ctx.aws, repository, image_tag)
    image = ImageInfo(
        requested=image_tag,
        repository=resolved.reference.name,
        digest=resolved.image.digest,
        tags=resolved.image.tags,
        pushed_at=resolved.image.pushed_at,
        note=resolved.note,
    )
    registration = with_image(current, container.name, resolved.pinned)
    diff = unified_diff(
        current.registration,
        registration,
        f"{current.family}:{current.revision}",
        f"{current.family}:new",
    )
    plan = Plan(
        command="deploy",
        from_revision=revision_ref(current, container.name),
        to_revision=RevisionRef(None, None, resolved.pinned),
        image=image,
        diff=diff or None,
        changes=changes(current.registration, registration),
        notes=(resolved.note,) if resolved.note else (),
        ecr_image=resolved,
    )
    if container.image == resolved.pinned:
        return _same_image(ctx, replace(plan, to_revision=plan.from_revision), current, options)
    if dry_run:
        return result(ctx, plan, Outcome.DRY_RUN)
    busy = target.service.primary
    if busy is not None and busy.rollout_state == "IN_PROGRESS" and not force:
        raise ConflictError(
            f"deployment {busy.id} ({busy.task_definition.rsplit('/', 1)[-1]}) is still in "
            "progress; nothing was changed",
            hint=f"wait with `{ctx.resume_command(busy.id)}`, or pass --force to deploy over it",
        )
    # Remember what runs now as good before replacing it (ECS forgets it soon). Bookkeeping:
    # a refused tag must not block a deploy at 3 a.m., but the operator must hear of it.
    warnings: tuple[str, ...] = ()
    try:
        lkg.record_baseline(ctx.aws, target.service, [current])
    except OpsctlError as error:
        warnings = (
            f"could not record {current.family}:{current.revision} (running now) as known good "
            f"before replacing it: {error.message}; {NOT_RECORDED_HINT}",
        )
    registered = ctx.aws.register_task_definition(registration, inherited_tags(current))
    ctx.progress.note(
        f"deploy: registered {registered.family}:{registered.revision} with {resolved.pinned}"
    )
    plan = replace(plan, to_revision=revision_ref(registered, container.name), warnings=warnings)
    return start(ctx, plan, task_definition=registered.arn, force=False, options=options)


def _same_image(
    ctx: Context, plan: Plan, current: TaskDefinition, options: RolloutOptions
) -> RolloutResult:
    """The service's PRIMARY deployment already runs the requested image.

    "unchanged" (exit 0) only when that deployment COMPLETED and nothing recorded its revision
    as bad. A deployment of it still rolling out (a deploy job that timed out and is run
    again) or failed is followed to its outcome instead, so a re-run never turns green while
    the rollout fails (exit 6 with --no-wait: nothing to start, nothing followed); a completed
    one whose revision is marked failed is verified again."""
    target = ctx.target
    service = target.service
    primary = service.primary
    on_current = primary is not None and primary.task_definition == current.arn
    judged = lkg.verdict(current, lkg.live_completed(service))
    marked_bad = not judged.good and judged.bad_since is not None
    if (
        primary is None
        or not on_current
        or (primary.rollout_state == "COMPLETED" and not marked_bad)
    ):
        return result(
            ctx,
            plan,
            Outcome.UNCHANGED,
            explanation=(
                f"revision {current.revision} already runs "
                f"{plan.to_revision.image if plan.to_revision else '?'}; "
                "`opsctl redeploy` restarts its tasks",
            ),
        )
    state = primary.rollout_state or "?"
    why = (
        f"deployment {primary.id} of this image is {state}"
        if state != "COMPLETED"
        else f"deployment {primary.id} of this image COMPLETED, but {current.family}:"
        f"{current.revision} is recorded {judged.bad_reason or 'bad'}"
    )
    if not options.wait:
        raise ConflictError(
            f"{why}: there is nothing to start; nothing was changed",
            hint=f"follow it with `{ctx.resume_command(primary.id)}`",
        )
    ctx.progress.note(f"deploy: {why}: following it to its outcome")
    known, events = known_before(service)
    return follow(
        ctx,
        replace(plan, notes=(*plan.notes, f"{why}: followed it instead of starting another")),
        primary.id,
        options,
        known - {primary.id},
        events,
    )
