"""``opsctl diagnose``: runbook 4.2 over live evidence (rules in opsctl.diagnosis).

Collects the service, its running and recently stopped tasks, target health and the target
group's settings, the load balancer, CloudWatch 5xx metrics of the last 15 minutes and, when
the symptoms call for it, the network (subnet routes, VPC endpoints, security groups) and the
last output of a crashed task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from opsctl.aws import parallel
from opsctl.commands import Context
from opsctl.diagnosis import RULES, Evidence, Metrics, diagnose, needs_network_evidence
from opsctl.model import LoadBalancer, TargetGroup, TargetHealth, Task
from opsctl.results import DiagnoseResult

WINDOW_MINUTES = 15
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
    calls: list[Callable[[], object]] = [
        lambda: aws.service_tasks(target.cluster, target.name, "RUNNING"),
        lambda: aws.service_tasks(target.cluster, target.name, "STOPPED"),
    ]
    if group_arn:
        calls += [lambda: aws.target_group(group_arn), lambda: aws.target_health(group_arn)]
    answers = parallel(calls)
    running: list[Task] = answers[0]  # type: ignore[assignment]
    stopped: list[Task] = answers[1]  # type: ignore[assignment]
    group: TargetGroup | None = answers[2] if group_arn else None  # type: ignore[assignment]
    targets: list[TargetHealth] = answers[3] if group_arn else []  # type: ignore[assignment]
    stopped = [t for t in stopped if _current(t, ctx)]
    stopped.sort(key=lambda t: t.stopped_at or t.created_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)

    balancer: LoadBalancer | None = None
    more: list[Callable[[], object]] = []
    if group and group.load_balancer_arns:
        lb_arn = group.load_balancer_arns[0]
        more.append(lambda: aws.load_balancer(lb_arn))
    network = needs_network_evidence(tuple(stopped), tuple(targets))
    if network:
        more += [
            lambda: aws.security_groups(service.security_groups),
            lambda: aws.subnet_routes(service.subnets),
        ]
    crashed = next(
        (t for t in stopped if t.stop_code == "EssentialContainerExited" and any(c.exit_code for c in t.containers)),
        None,
    )
    if crashed and target.log_group and target.log_stream_prefix:
        stream = f"{target.log_stream_prefix}/{target.container_name}/{crashed.id}"
        since = (crashed.created_at or datetime.now(timezone.utc)) - timedelta(minutes=1)
        log_group = target.log_group
        more.append(lambda: aws.filter_log_events(log_group, start=since, streams=[stream], limit=200))
    results = parallel(more)
    index = 0
    if group and group.load_balancer_arns:
        balancer = results[index]  # type: ignore[assignment]
        index += 1
    security_groups, routes, endpoints = (), (), ()
    if network:
        security_groups = tuple(results[index])  # type: ignore[arg-type]
        routes = tuple(results[index + 1])  # type: ignore[arg-type]
        index += 2
        vpc = routes[0].vpc_id if routes else None
        endpoints = tuple(aws.vpc_endpoint_services(vpc)) if vpc else ()
    crash_logs: tuple[str, ...] = ()
    if crashed and index < len(results):
        crash_logs = tuple(e.message for e in results[index][-20:])  # type: ignore[index, union-attr]

    metrics = None
    if balancer is not None:
        end = datetime.now(timezone.utc)
        start = end - timedelta(minutes=WINDOW_MINUTES)
        dims = {"LoadBalancer": balancer.dimension}
        sums = parallel(
            [lambda name=name: aws.metric_sum("AWS/ApplicationELB", name, dims, start, end) for name in _ELB_METRICS]  # type: ignore[misc]
        )
        metrics = Metrics(WINDOW_MINUTES, *sums)

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
        task_security_groups=security_groups,  # type: ignore[arg-type]
        subnet_routes=routes,  # type: ignore[arg-type]
        vpc_endpoints=endpoints,  # type: ignore[arg-type]
        metrics=metrics,
        crash_logs=crash_logs,
    )


def run(ctx: Context) -> DiagnoseResult:
    evidence = collect(ctx)
    return DiagnoseResult(
        target=ctx.target_info(),
        findings=diagnose(evidence),
        rules_checked=tuple(name for name, _ in RULES),
    )
