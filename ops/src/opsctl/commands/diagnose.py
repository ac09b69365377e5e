"""``opsctl diagnose``: runbook 4.2 over live evidence (rules in opsctl.diagnosis).

Collects the service, its running and recently stopped tasks, target health and the target
group's settings, the load balancer, CloudWatch 5xx metrics of the last 15 minutes and, when
the symptoms call for it, the network (subnet routes, VPC endpoints, security groups) and the
last output of a crashed task.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsctl import timeline
from opsctl.aws import concurrently
from opsctl.commands import Context, changes
from opsctl.diagnosis import (
    LOOKS_FOR,
    RULES,
    Evidence,
    Metrics,
    diagnose,
    looked_at,
    needs_network_evidence,
    onset,
)
from opsctl.errors import OpsctlError
from opsctl.model import LoadBalancer, TargetGroup, TargetHealth, Task
from opsctl.results import ChangeEntry, DiagnoseResult, RuleCheck

WINDOW_MINUTES = 15
LINK_WINDOW_HOURS = 24
"""How far back diagnose looks for the change nearest before its first finding."""
_ELB_METRICS = (
    "HTTPCode_ELB_5XX_Count",
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_ELB_502_Count",
    "HTTPCode_ELB_503_Count",
    "HTTPCode_ELB_504_Count",
)


def _current(task: Task, ctx: Context) -> bool:
    """Whether a stopped task tells about the service *now*: it belongs to a deployment that has
    not completed, or stopped after the PRIMARY deployment completed (ECS keeps stopped tasks
    for about an hour; failures a completed rollback already fixed are history, not a problem)."""
    for deployment in ctx.target.service.deployments:
        if task.started_by != deployment.id:
            continue
        if deployment.rollout_state != "COMPLETED":
            return True
        completed = deployment.updated_at
        return completed is None or (task.stopped_at is not None and task.stopped_at > completed)
    return False


def collect(ctx: Context) -> Evidence:
    aws, target = ctx.aws, ctx.target
    service = target.service
    group_arn = target.target_group_arn
    with concurrently() as pool:
        running_f = pool.submit(aws.service_tasks, target.cluster, target.name, "RUNNING")
        stopped_f = pool.submit(aws.service_tasks, target.cluster, target.name, "STOPPED")
        group_f = pool.submit(aws.target_group, group_arn) if group_arn else None
        health_f = pool.submit(aws.target_health, group_arn) if group_arn else None
        running = running_f.result()
        stopped = [t for t in stopped_f.result() if _current(t, ctx)]
        group: TargetGroup | None = group_f.result() if group_f else None
        targets: list[TargetHealth] = health_f.result() if health_f else []
    oldest = datetime.min.replace(tzinfo=UTC)
    stopped.sort(key=lambda t: t.stopped_at or t.created_at or oldest, reverse=True)

    network = needs_network_evidence(tuple(stopped), tuple(targets), service.events)
    crashed = next(
        (
            t
            for t in stopped
            if t.stop_code == "EssentialContainerExited" and any(c.exit_code for c in t.containers)
        ),
        None,
    )
    with concurrently() as pool:
        balancer_f = (
            pool.submit(aws.load_balancer, group.load_balancer_arns[0])
            if group and group.load_balancer_arns
            else None
        )
        groups_f = pool.submit(aws.security_groups, service.security_groups) if network else None
        routes_f = pool.submit(aws.subnet_routes, service.subnets) if network else None
        logs_f = None
        if crashed and target.log_group and target.log_stream_prefix:
            stream = f"{target.log_stream_prefix}/{target.container_name}/{crashed.id}"
            since = (crashed.created_at or datetime.now(UTC)) - timedelta(minutes=1)
            logs_f = pool.submit(
                aws.filter_log_events, target.log_group, start=since, streams=[stream], limit=200
            )
        balancer: LoadBalancer | None = balancer_f.result() if balancer_f else None
        security_groups = tuple(groups_f.result()) if groups_f else ()
        routes = tuple(routes_f.result()) if routes_f else ()
        crash_logs = tuple(e.message for e in logs_f.result()[-20:]) if logs_f else ()
    vpc = routes[0].vpc_id if routes else None
    endpoints = tuple(aws.vpc_endpoint_services(vpc)) if vpc else ()

    metrics = None
    if balancer is not None:
        # EndTime is exclusive: end at the next whole minute so the latest datapoints count.
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(minutes=WINDOW_MINUTES)
        dims = {"LoadBalancer": balancer.dimension}
        sums = aws.metric_sums("AWS/ApplicationELB", _ELB_METRICS, dims, start, end)
        metrics = Metrics(WINDOW_MINUTES, *(sums[name] for name in _ELB_METRICS))

    return Evidence(
        service=service,
        task_definition=target.task_definition,
        container_name=target.container_name,
        container_port=target.container_port,
        running=tuple(running),
        stopped=tuple(stopped),
        target_group=group,
        targets=tuple(targets),
        load_balancer=balancer,
        task_security_groups=security_groups,
        subnet_routes=routes,
        vpc_endpoints=endpoints,
        metrics=metrics,
        crash_logs=crash_logs,
    )


def nearest_change(
    ctx: Context, evidence: Evidence, state_url: str | None, now: datetime
) -> tuple[ChangeEntry | None, str | None]:
    """The change that most plausibly started the first finding: the nearest one before the
    symptoms began that alters what runs (``opsctl changes``'s timeline), with a note when
    there is none."""
    since = now - timedelta(hours=LINK_WINDOW_HOURS)
    try:
        found = changes.collect(ctx, since, now, state_url)
    except OpsctlError as error:
        return None, f"changes not read: {error.message}"
    when = onset(evidence) or now
    unread = [f"{s.source}: {s.note}" for s in found.sources if s.state == "failed"]
    entry = timeline.nearest_before(found.entries, when)
    if entry is not None:
        return entry, None
    note = (
        "no deployment, task definition, image or Terraform change in the "
        f"{LINK_WINDOW_HOURS} h before {when.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}"
    )
    if unread:
        note += f" (not read: {'; '.join(unread)})"
    return None, note


def run(ctx: Context, *, state_url: str | None = None) -> DiagnoseResult:
    evidence = collect(ctx)
    findings = diagnose(evidence)
    entry, note = (
        nearest_change(ctx, evidence, state_url, datetime.now(UTC)) if findings else (None, None)
    )
    return DiagnoseResult(
        target=ctx.target_info(),
        findings=findings,
        rules_checked=tuple(name for name, _ in RULES),
        checks=tuple(RuleCheck(name, LOOKS_FOR[name]) for name, _ in RULES),
        looked_at=looked_at(evidence),
        nearest_change=entry,
        nearest_change_note=note,
    )
