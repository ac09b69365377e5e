"""``opsctl watch [--deployment ID]``: follow a deployment that is already running (after
Ctrl-C, --no-wait, or one started elsewhere) and verify it like deploy."""

from __future__ import annotations

from opsctl.commands import Context
from opsctl.commands._rollout import Plan, RolloutOptions, follow, revision_ref
from opsctl.errors import NotFoundError
from opsctl.results import RolloutResult


def run(ctx: Context, *, deployment_id: str | None, options: RolloutOptions) -> RolloutResult:
    target = ctx.target
    service = target.service
    chosen = service.deployment(deployment_id) if deployment_id else service.primary
    if chosen is None:
        known = ", ".join(f"{d.id} ({d.status})" for d in service.deployments) or "none"
        raise NotFoundError(
            f"deployment {deployment_id!r} is not among the service's deployments ({known}); "
            "ECS forgets deployments once they are replaced",
            hint="`opsctl status` shows the current deployments",
        )
    definition = (
        target.task_definition
        if chosen.task_definition == target.task_definition.arn
        else ctx.aws.describe_task_definition(chosen.task_definition)
    )
    ref = revision_ref(definition, target.container_name)
    plan = Plan(command="watch", from_revision=None, to_revision=ref)
    # Every other deployment present now may be the circuit breaker's rollback of this one.
    return follow(
        ctx, plan, chosen.id, options, frozenset(), frozenset(e.id for e in service.events)
    )
