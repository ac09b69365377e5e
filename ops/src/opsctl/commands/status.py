"""``opsctl status``: desired/running/pending, deployments with revision and image digest,
latest service events, target health with reason codes, alarms in ALARM (runbook 2.1 step 3,
8.1)."""

from __future__ import annotations

from opsctl.alarms import concerns
from opsctl.aws import concurrently
from opsctl.commands import Context, deployment_info, revision_of
from opsctl.errors import AwsError
from opsctl.images import parse_image
from opsctl.model import Alarm, TargetHealth, Task, TaskDefinition
from opsctl.results import AlarmInfo, EventInfo, StatusResult


def run(ctx: Context, *, events: int = 10) -> StatusResult:
    aws, target = ctx.aws, ctx.target
    service = target.service
    others = {d.task_definition for d in service.deployments} - {target.task_definition.arn}
    pinned = parse_image(target.task_definition.container(target.container_name).image).digest

    with concurrently() as pool:
        alarms_f = pool.submit(aws.alarms_in_alarm)
        group = target.target_group_arn
        health_f = pool.submit(aws.target_health, group) if group else None
        # Tasks report the digest they run when the revision names a tag.
        tasks_f = (
            pool.submit(aws.service_tasks, target.cluster, target.name, "RUNNING")
            if pinned is None
            else None
        )
        others_f = [pool.submit(aws.describe_task_definition, arn) for arn in sorted(others)]
        # Alarms are context, not the service's state: a role that may not list them (or a
        # throttled call) must not cost the operator the rest of status.
        alarms: list[Alarm] = []
        alarms_error = None
        try:
            alarms = alarms_f.result()
        except AwsError as error:
            alarms_error = error.message
        targets: list[TargetHealth] = health_f.result() if health_f else []
        tasks: list[Task] = tasks_f.result() if tasks_f else []
        definitions: dict[str, TaskDefinition] = {
            target.task_definition.arn: target.task_definition
        }
        for future in others_f:
            definition = future.result()
            definitions[definition.arn] = definition
    digest = pinned or next(
        (
            c.image_digest
            for t in tasks
            if t.task_definition == target.task_definition.arn
            for c in t.containers
            if c.name == target.container_name and c.image_digest
        ),
        None,
    )

    return StatusResult(
        target=ctx.target_info(),
        status=service.status,
        desired=service.desired,
        running=service.running,
        pending=service.pending,
        revision=revision_of(target.task_definition.arn) or 0,
        task_definition=target.task_definition.arn,
        image=target.task_definition.container(target.container_name).image,
        image_digest=digest,
        grace_period=service.grace_period,
        circuit_breaker=service.circuit_breaker_enabled,
        circuit_breaker_rollback=service.circuit_breaker_rollback,
        target_group_arn=target.target_group_arn,
        deployments=tuple(
            deployment_info(d, definitions.get(d.task_definition), target.container_name)
            for d in service.deployments
        ),
        events=tuple(EventInfo(e.created_at, e.message) for e in service.events[:events]),
        targets=tuple(targets),
        alarms=tuple(
            AlarmInfo(
                a.name, a.reason, f"{a.namespace}/{a.metric}" if a.metric else None, a.updated_at
            )
            for a in alarms
            if concerns(a, target.cluster, target.name, target.target_group_arn)
        ),
        alarms_error=alarms_error,
    )
