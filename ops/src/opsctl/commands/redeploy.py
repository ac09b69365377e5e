"""``opsctl redeploy``: force a new deployment of the current revision (runbook 8.1, 3.2 step
3), after checking its image still exists, followed and verified like deploy."""

from __future__ import annotations

from opsctl.commands import Context
from opsctl.commands._rollout import Plan, RolloutOptions, result, revision_ref, start
from opsctl.errors import ConflictError, NotFoundError
from opsctl.images import ResolvedImage, check_exists
from opsctl.results import Outcome, RolloutResult


def run(ctx: Context, *, dry_run: bool, force: bool, options: RolloutOptions) -> RolloutResult:
    target = ctx.target
    current = target.task_definition
    container = current.container(target.container_name)
    reference, image, checked = check_exists(ctx.aws, container.image)
    if checked and image is None:
        raise NotFoundError(
            f"the image of {current.family}:{current.revision} ({container.image}) no longer "
            "exists in ECR: "
            "new tasks could not start; nothing was changed",
            hint="deploy an existing image with `opsctl deploy --image-tag TAG`",
        )
    notes = () if checked else (f"{reference.name} is not in ECR: its existence was not checked",)
    ref = revision_ref(current, container.name)
    plan = Plan(
        command="redeploy",
        from_revision=ref,
        to_revision=ref,
        notes=notes,
        ecr_image=ResolvedImage(reference, image, container.image) if image else None,
    )
    if dry_run:
        return result(ctx, plan, Outcome.DRY_RUN)
    busy = target.service.primary
    if busy is not None and busy.rollout_state == "IN_PROGRESS" and not force:
        raise ConflictError(
            f"deployment {busy.id} is still in progress; nothing was changed",
            hint=f"wait with `{ctx.resume_command(busy.id)}`, or pass --force",
        )
    return start(ctx, plan, task_definition=None, force=True, options=options)
