"""``opsctl rollback [--to-revision N]``: back to the last known good revision (the most
recently verified revision other than the current one, found by its tags however many newer
revisions exist), after checking that it is this service's own and that its image still exists;
followed and verified like deploy (runbook 3.1, 3.2).

While a deployment is still rolling out, the rollback stops it with ECS's own rollback
(StopServiceDeployment) when ECS would return to that same revision, else it updates the
service to it (:mod:`opsctl.stopping`)."""

from __future__ import annotations

from dataclasses import replace

from opsctl import lkg, ownership, stopping
from opsctl.commands import Context
from opsctl.commands._rollout import (
    Plan,
    RolloutOptions,
    result,
    revision_ref,
    start,
    stop_and_follow,
)
from opsctl.errors import ConflictError, NotFoundError, OpsctlError
from opsctl.images import ResolvedImage, check_exists
from opsctl.model import TaskDefinition
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
    warnings: list[str] = []
    repository = target.spec.ecr_repository_url
    if to_revision is None:
        if primary is not None and primary.is_circuit_breaker_rollback:
            raise ConflictError(
                "ECS is already rolling back to "
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
        chosen, looked_at = _last_known_good(ctx, current, repository, notes, warnings)
        if chosen is None:
            raise NotFoundError(
                f"no earlier revision of {current.family} is known good ({looked_at}); "
                "nothing was changed",
                hint="choose one explicitly: `opsctl revisions` lists them, then "
                "`opsctl rollback --to-revision N`",
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
        foreign = ownership.differences(chosen, current, target.container_name, repository)
        if foreign:
            raise NotFoundError(
                f"{chosen.family}:{chosen.revision} is not this service's revision: "
                + "; ".join(foreign)
                + ". Rolling back to it would run another image or other permissions under "
                "this service's name; nothing was changed",
                hint="someone registered it in this family: check who "
                "(CloudTrail RegisterTaskDefinition), deregister it, and pick another "
                "revision (`opsctl revisions`)",
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
        warnings=tuple(warnings),
        ecr_image=ResolvedImage(reference, image, container.image) if image else None,
    )
    if chosen.arn == current.arn:
        return result(
            ctx,
            plan,
            Outcome.UNCHANGED,
            explanation=(f"the service already runs {chosen.family}:{chosen.revision}",),
        )
    rolling_out = (
        primary is not None
        and primary.rollout_state == "IN_PROGRESS"
        and primary.task_definition == current.arn
    )
    stop = (
        stopping.plan(ctx.aws, target.cluster, target.name, primary, chosen.arn)
        if rolling_out and primary is not None
        else None
    )
    if dry_run:
        how = (
            f"would stop deployment {primary.id} with ECS's rollback (StopServiceDeployment)"
            if stop is not None and stop.usable and primary is not None
            else "would update the service to it (UpdateService)"
        )
        return result(ctx, replace(plan, notes=(*plan.notes, how)), Outcome.DRY_RUN)
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
    if stop is not None and primary is not None:
        if stop.usable and stop.service_deployment is not None:
            try:
                return stop_and_follow(ctx, plan, stop.service_deployment.arn, primary, options)
            except OpsctlError as error:
                if _changed_something(error):
                    raise
                plan = replace(
                    plan,
                    warnings=(
                        *plan.warnings,
                        f"StopServiceDeployment was refused ({error.message}); rolled back "
                        "with UpdateService instead",
                    ),
                )
        elif stop.why_not:
            plan = replace(plan, notes=(*plan.notes, stop.why_not))
    rolled = start(ctx, plan, task_definition=chosen.arn, force=False, options=options)
    return replace(rolled, method="update_service")


def _changed_something(error: OpsctlError) -> bool:
    """Whether StopServiceDeployment failed after ECS accepted it (then falling back to
    UpdateService would act twice): only a refusal of the call itself falls back."""
    code = getattr(error, "code", None)
    return code is None or code not in REFUSALS


REFUSALS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnknownOperationException",
        "InvalidAction",
        "ConflictException",
        "ServiceDeploymentNotFoundException",
        "UnsupportedFeatureException",
    }
)
"""Errors of StopServiceDeployment that leave the deployment as it was: the role may not call
it, the region does not offer it, or the deployment finished (or is unknown) meanwhile."""


def _last_known_good(
    ctx: Context,
    current: TaskDefinition,
    repository: str | None,
    notes: list[str],
    warnings: list[str],
) -> tuple[TaskDefinition | None, str]:
    """The most recently good revision but ``current`` that is ACTIVE and this service's own,
    and a description of what was looked at (for the error when there is none)."""
    target = ctx.target
    candidates, warning = lkg.good_candidates(
        ctx.aws, target.service, current.family, exclude=[current.arn]
    )
    if warning:
        warnings.append(warning)
    for good in candidates:
        try:
            definition = ctx.aws.describe_task_definition(good.arn)
        except NotFoundError:
            continue
        name = f"{definition.family}:{definition.revision}"
        if definition.status != "ACTIVE":
            notes.append(f"skipped {name}: {definition.status} (deregistered)")
            continue
        foreign = ownership.differences(definition, current, target.container_name, repository)
        if foreign:
            warnings.append(
                f"skipped {name}, recorded good but not this service's revision: "
                + "; ".join(foreign)
            )
            continue
        notes.insert(
            0,
            f"last known good: {name} (good since "
            f"{good.good_since.isoformat() if good.good_since else '?'})",
        )
        return definition, ""
    looked = (
        f"{len(candidates)} recorded good, none usable"
        if candidates
        else "no revision besides "
        f"{current.revision} has a completed, verified deployment recorded in its tags"
    )
    return None, looked
