"""``opsctl deploy --image-tag TAG``: a new revision copied from the current one with only the
image changed, pinned by digest; the service updated; the deployment followed and verified
(runbook 2.1, 2.2 step 3)."""

from __future__ import annotations

from dataclasses import replace

from opsctl import lkg
from opsctl.commands import Context
from opsctl.commands._rollout import (
    NOT_RECORDED_HINT,
    Plan,
    RolloutOptions,
    result,
    revision_ref,
    start,
)
from opsctl.errors import ConflictError, OpsctlError
from opsctl.images import parse_image, resolve_tag
from opsctl.results import ImageInfo, Outcome, RevisionRef, RolloutResult
from opsctl.taskdef import changes, inherited_tags, unified_diff, with_image


def run(
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
        return result(
            ctx,
            plan,
            Outcome.UNCHANGED,
            to_revision=plan.from_revision,
            explanation=(
                f"revision {current.revision} already runs {resolved.pinned}; "
                "`opsctl redeploy` restarts its tasks",
            ),
        )
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
