"""``opsctl rollback [--to-revision N]``: back to the last known good revision (the most
recently verified revision other than the current one), after checking its image still exists;
followed and verified like deploy (runbook 3.1, 3.2)."""

from __future__ import annotations

from dataclasses import replace

from opsctl import lkg
from opsctl.commands import Context
from opsctl.commands._rollout import Plan, RolloutOptions, result, revision_ref, start
from opsctl.errors import ConflictError, NotFoundError, OpsctlError
from opsctl.images import ResolvedImage, check_exists
from opsctl.results import Outcome, RolloutResult
from opsctl.taskdef import changes, unified_diff


def run(
    ctx: Context, *, to_revision: int | None, dry_run: bool, options: RolloutOptions
) -> RolloutResult:
    target = ctx.target
    service = target.service
    current = target.task_definition
    primary = service.primary
    notes: list[str] = []
    if to_revision is None:
        if primary is not None and primary.is_circuit_breaker_rollback:
            raise ConflictError(
                "the ECS circuit breaker is already rolling back to "
                f"{current.family}:{current.revision} "
                f"(deployment {primary.id}, {primary.rollout_state}); nothing was changed",
                hint=f"watch it with `{ctx.resume_command(primary.id)}`, or pass --to-revision N",
            )
        failed = lkg.restored(current, service)
        if failed is not None:
            ref = revision_ref(current, target.container_name)
            return result(
                ctx,
                Plan(command="rollback", from_revision=ref, to_revision=ref),
                Outcome.UNCHANGED,
                explanation=(
                    "the service already runs the last known good revision "
                    f"{current.revision}: the circuit "
                    f"breaker restored it after revision {failed} failed",
                    "to go further back, pass --to-revision N (`opsctl revisions` lists them)",
                ),
            )
        definitions = lkg.scan(ctx.aws, current.family)
        completed = lkg.live_completed(service)
        verdicts = [lkg.verdict(d, completed) for d in definitions]
        good = lkg.last_known_good(verdicts, exclude=[current.arn])
        if good is None:
            raise NotFoundError(
                f"no earlier revision of {current.family} is known good (none of the newest "
                f"{len(definitions)} revisions besides {current.revision} has a completed, "
                "verified "
                "deployment); nothing was changed",
                hint="choose one explicitly: `opsctl revisions` lists them, then "
                "`opsctl rollback --to-revision N`",
            )
        chosen = next(d for d in definitions if d.arn == good.arn)
        notes.append(
            f"last known good: {chosen.family}:{chosen.revision} (good since "
            f"{good.good_since.isoformat() if good.good_since else '?'})"
        )
    else:
        if to_revision < 1:
            raise NotFoundError(f"revision {to_revision} does not exist (revisions start at 1)")
        chosen = ctx.aws.describe_task_definition(f"{current.family}:{to_revision}")
        if chosen.status != "ACTIVE":
            raise NotFoundError(
                f"{chosen.family}:{to_revision} is {chosen.status} (deregistered); ECS cannot "
                "deploy it; nothing was changed"
            )
    container = chosen.container(target.container_name)
    reference, image, checked = check_exists(ctx.aws, container.image)
    if checked and image is None:
        raise NotFoundError(
            f"the image of {chosen.family}:{chosen.revision} ({container.image}) no longer "
            "exists in ECR; "
            "rolling back to it would fail; nothing was changed",
            hint="pick another revision with --to-revision, or push the image again",
        )
    if not checked:
        notes.append(f"{reference.name} is not in ECR: its existence was not checked")
    elif reference.digest is None:
        notes.append(
            f"{chosen.family}:{chosen.revision} names its image by tag ({reference.tag}); "
            "the tag may now point at other bytes than the ones that ran"
        )
    diff = unified_diff(
        current.registration,
        chosen.registration,
        f"{current.family}:{current.revision}",
        f"{chosen.family}:{chosen.revision}",
    )
    plan = Plan(
        command="rollback",
        from_revision=revision_ref(current, target.container_name),
        to_revision=revision_ref(chosen, target.container_name),
        diff=diff or None,
        changes=changes(current.registration, chosen.registration),
        notes=tuple(notes),
        ecr_image=ResolvedImage(reference, image, container.image) if image else None,
    )
    if chosen.arn == current.arn:
        return result(
            ctx,
            plan,
            Outcome.UNCHANGED,
            explanation=(f"the service already runs {chosen.family}:{chosen.revision}",),
        )
    if dry_run:
        return result(ctx, plan, Outcome.DRY_RUN)
    try:
        lkg.mark_rolled_back(ctx.aws, current.arn, by=ctx.recorded_by)
    except OpsctlError as error:  # bookkeeping must not block a rollback at 3 a.m.
        plan = replace(
            plan,
            warnings=(
                *plan.warnings,
                f"could not mark {current.family}:{current.revision} as rolled back in its "
                f"tags: {error.message}; `opsctl rollback` may pick it as last known good later",
            ),
        )
    return start(ctx, plan, task_definition=chosen.arn, force=False, options=options)
