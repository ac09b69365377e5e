"""Runbook 4.2 as rules over live evidence (pure: no AWS calls here).

Each rule looks for a *symptom* first (tasks that failed to start, unhealthy targets, tasks
killed by health checks, 5xx from the load balancer) and only then reads configuration to name
the cause, so a healthy service produces no finding. Every finding carries its evidence, the
likely cause, the runbook section and the fix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opsctl.model import (
    LoadBalancer,
    SecurityGroup,
    Service,
    ServiceEvent,
    SubnetRoute,
    TargetGroup,
    TargetHealth,
    Task,
    TaskDefinition,
)
from opsctl.results import Finding, Severity

PENDING = "4.2 Task stuck in PENDING"
UNHEALTHY = "4.2 Task running but unhealthy"
ALB_5XX = "4.2 ALB returning 502/503"
HEALTH_CHECK_PATH = "/health"
"""The runbook's health-check path (8.2)."""


@dataclass(frozen=True)
class Metrics:
    """Sums over the last ``window_minutes`` of the ALB's AWS/ApplicationELB metrics."""

    window_minutes: int
    elb_5xx: float
    target_5xx: float
    elb_502: float
    elb_503: float
    elb_504: float


@dataclass(frozen=True)
class Evidence:
    service: Service
    task_definition: TaskDefinition
    container_name: str
    container_port: int | None
    running: tuple[Task, ...]
    stopped: tuple[Task, ...]
    """Recently stopped tasks of the service, newest first."""
    target_group: TargetGroup | None
    targets: tuple[TargetHealth, ...]
    load_balancer: LoadBalancer | None
    task_security_groups: tuple[SecurityGroup, ...] = ()
    subnet_routes: tuple[SubnetRoute, ...] = ()
    vpc_endpoints: tuple[str, ...] = ()
    metrics: Metrics | None = None
    crash_logs: tuple[str, ...] = ()
    """The last lines the most recently crashed task wrote."""


Rule = Callable[[Evidence], Finding | None]


def _short(task: Task) -> str:
    return task.id[:12]


def _exit_code(task: Task) -> int | None:
    return next((c.exit_code for c in task.containers if c.exit_code is not None), None)


def _stopped_with(evidence: Evidence, prefix: str) -> list[Task]:
    return [t for t in evidence.stopped if (t.stopped_reason or "").startswith(prefix)]


def _health_killed(evidence: Evidence) -> list[Task]:
    return [t for t in evidence.stopped if "failed ELB health checks" in (t.stopped_reason or "")]


def _live_unhealthy(evidence: Evidence) -> list[TargetHealth]:
    return [t for t in evidence.targets if t.state == "unhealthy"]


def _has_health_symptom(evidence: Evidence) -> bool:
    return bool(_live_unhealthy(evidence) or _health_killed(evidence))


# ECS's service event when a target fails its health checks, e.g. "(service api) (task 3f…)
# (port 8000) is unhealthy in (target-group arn:…) due to (reason Health checks failed with
# these codes: [404])." The reason is the target's health description, from which ELB's reason
# code follows (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html#target-health-reason-codes).
_UNHEALTHY_EVENT = re.compile(
    r"\(port (?P<port>\d+)\) is unhealthy in \(target-group (?P<group>[^)\s]+)\) "
    r"due to \(reason (?P<reason>.*?)\)\.?$"
)
_DESCRIPTION_CODES = (
    ("Health checks failed with these codes", "Target.ResponseCodeMismatch"),
    ("Request timed out", "Target.Timeout"),
    ("Health checks failed", "Target.FailedHealthChecks"),
)


def since_steady_state(events: Sequence[ServiceEvent]) -> list[ServiceEvent]:
    """The service's events (newest first) since it last reached a steady state: what ECS has
    said about the problem it has now. Older ones are history a recovery ended."""
    recent = []
    for event in events:
        if "has reached a steady state" in event.message:
            break
        recent.append(event)
    return recent


_EVENT_TARGET = "in a service event at"


def _where(target: TargetHealth) -> str:
    """Where a failing health check was seen: a live target, or a service event about one."""
    if target.id.startswith(_EVENT_TARGET):
        return f"ECS reported a target unhealthy {target.id.removeprefix('in a ')}"
    return f"target {target.id}"


def _symptom_now(evidence: Evidence) -> bool:
    """Targets failing now, as the target group shows it: an unhealthy target, or no healthy
    target for a service that should run tasks. (Tasks ECS stopped for failed health checks
    do not count: they stay listed for an hour after the service recovered, drill 04.)"""
    if _live_unhealthy(evidence):
        return True
    return (
        evidence.target_group is not None
        and evidence.service.desired > 0
        and not any(t.state == "healthy" for t in evidence.targets)
    )


def _unhealthy(evidence: Evidence) -> list[TargetHealth]:
    """Targets failing their health checks, with ELB's reason code and description.

    The live ones first. A failing target does not stay to be seen: ECS stops its task once
    the grace period is over and the target drains (``Target.DeregistrationInProgress``), so
    under load ``diagnose`` may find no target that still shows why. ECS's service events
    keep the reason ("... is unhealthy in (target-group ...) due to (reason ...)"): while the
    symptom lasts, those since the last steady state count too, as targets named after the
    event's port (drill 04 failed on this before).
    """
    live = _live_unhealthy(evidence)
    if not _symptom_now(evidence):
        return live
    group = evidence.target_group.arn if evidence.target_group else None
    seen = {(t.reason, t.description) for t in live}
    found = list(live)
    for event in since_steady_state(evidence.service.events):
        match = _UNHEALTHY_EVENT.search(event.message)
        if match is None or (group is not None and match["group"] != group):
            continue
        description = match["reason"]
        reason = next(
            (code for prefix, code in _DESCRIPTION_CODES if description.startswith(prefix)),
            None,
        )
        if (reason, description) in seen:
            continue
        seen.add((reason, description))
        when = event.created_at.astimezone(UTC).strftime("%H:%M:%SZ")
        found.append(
            TargetHealth(
                f"{_EVENT_TARGET} {when}, port {match['port']}",
                int(match["port"]),
                "unhealthy",
                reason,
                description,
            )
        )
    return found


def _image(evidence: Evidence) -> str:
    return evidence.task_definition.container(evidence.container_name).image


# --- Task stuck in PENDING ------------------------------------------------------------------


def image_not_found(evidence: Evidence) -> Finding | None:
    tasks = [
        t
        for t in _stopped_with(evidence, "CannotPullContainerError")
        if re.search(r"not found|manifest unknown|does not exist", t.stopped_reason or "", re.I)
    ]
    if not tasks:
        return None
    return Finding(
        rule="image-not-found",
        severity=Severity.CRITICAL,
        title="Tasks cannot start: the image does not exist in the registry",
        evidence=(
            f"{len(tasks)} task(s) stopped with CannotPullContainerError, e.g. task "
            f"{_short(tasks[0])}: "
            f"{tasks[0].stopped_reason}",
            "the current revision "
            f"{evidence.task_definition.family}:{evidence.task_definition.revision} "
            f"runs {_image(evidence)}",
        ),
        likely_cause="the revision names an image tag or digest that is not in ECR (never pushed, "
        "a typo, or removed by a lifecycle policy)",
        runbook=PENDING,
        fix="deploy an image that exists: `opsctl deploy --image-tag <tag>`, or go back with "
        "`opsctl rollback` (it checks the image exists first)",
    )


def _network_problems(evidence: Evidence) -> list[str]:
    problems = []
    endpoints = [
        e for e in evidence.vpc_endpoints if e.endswith(".ecr.dkr") or e.endswith(".ecr.api")
    ]
    for route in evidence.subnet_routes:
        target = route.default_route or ""
        if target.startswith("nat-") or endpoints:
            continue
        if target.startswith("igw-") and evidence.service.assign_public_ip:
            continue
        if target.startswith("igw-"):
            problems.append(
                f"subnet {route.subnet_id} routes 0.0.0.0/0 to {target} but tasks get no public IP "
                "(assignPublicIp DISABLED) and there is no NAT gateway"
            )
        else:
            problems.append(
                f"subnet {route.subnet_id} has no default route ({target or 'none'}) and the "
                "VPC has no "
                "ECR interface endpoints"
            )
    if evidence.task_security_groups and not any(
        rule.covers(443) for group in evidence.task_security_groups for rule in group.egress
    ):
        groups = ", ".join(g.id for g in evidence.task_security_groups)
        problems.append(f"security groups {groups} allow no outbound HTTPS (443)")
    return problems


def registry_unreachable(evidence: Evidence) -> Finding | None:
    tasks = [
        t
        for t in evidence.stopped
        if (t.stopped_reason or "").startswith(
            ("CannotPullContainerError", "ResourceInitializationError")
        )
        and re.search(
            r"timeout|i/o timeout|dial tcp|context deadline|connection",
            t.stopped_reason or "",
            re.I,
        )
    ]
    problems = _network_problems(evidence)
    if not tasks or not problems:
        return None
    return Finding(
        rule="registry-unreachable",
        severity=Severity.CRITICAL,
        title="Tasks cannot reach ECR: subnets or security groups block the image pull",
        evidence=(
            f"{len(tasks)} task(s) stopped, e.g. task {_short(tasks[0])}: "
            f"{tasks[0].stopped_reason}",
            *problems,
        ),
        likely_cause="the task's subnets have no path to ECR and CloudWatch Logs over HTTPS "
        "(no NAT gateway, no public IP, no VPC endpoints) or its security group blocks "
        "outbound 443",
        runbook=PENDING,
        fix="give the private subnets a NAT gateway route or add VPC endpoints (ecr.api, ecr.dkr, "
        "logs, and an S3 gateway endpoint), or run in public subnets with assignPublicIp; allow "
        "outbound 443 in the task security group (Terraform: the network module)",
    )


def resource_initialization(evidence: Evidence) -> Finding | None:
    tasks = [
        t
        for t in _stopped_with(evidence, "ResourceInitializationError")
        if not re.search(r"i/o timeout|dial tcp|context deadline", t.stopped_reason or "", re.I)
    ]
    if not tasks:
        return None
    reason = tasks[0].stopped_reason or ""
    if re.search(r"log group does not exist|logger", reason, re.I):
        group = evidence.task_definition.container(evidence.container_name).log_option(
            "awslogs-group"
        )
        cause = (
            f"the awslogs log group {group} does not exist (and awslogs-create-group is not set)"
        )
        fix = (
            f"create the log group {group} (Terraform owns it: apply the environment), or set "
            "awslogs-create-group=true and allow logs:CreateLogGroup to the execution role"
        )
    elif re.search(r"secret|ssm|parameter", reason, re.I):
        cause = (
            "the execution role cannot read a secret or parameter the task definition "
            "references, or it does not exist"
        )
        fix = (
            "check the secret ARNs in the task definition and the execution role's "
            "secretsmanager/ssm permissions"
        )
    else:
        cause = (
            "the execution role lacks a permission ECS needs to prepare the task (pull, "
            "logs, secrets)"
        )
        fix = (
            "compare the execution role's policy with the task definition's needs (ECR, "
            "logs, secrets)"
        )
    return Finding(
        rule="resource-initialization",
        severity=Severity.CRITICAL,
        title="Tasks cannot start: ECS could not prepare their resources",
        evidence=(f"{len(tasks)} task(s) stopped, e.g. task {_short(tasks[0])}: {reason}",),
        likely_cause=cause,
        runbook=PENDING,
        fix=fix,
    )


def capacity(evidence: Evidence) -> Finding | None:
    messages = [
        e.message
        for e in evidence.service.events[:50]
        if re.search(
            r"unable to place a task|capacity is unavailable|insufficient capacity", e.message, re.I
        )
    ]
    primary = evidence.service.primary
    if not messages or primary is None or primary.running >= primary.desired:
        return None
    return Finding(
        rule="capacity",
        severity=Severity.CRITICAL,
        title="ECS cannot place tasks: no capacity",
        evidence=(
            f"deployment {primary.id}: {primary.running}/{primary.desired} tasks running",
            f"{len(messages)} recent event(s), latest: {messages[0]}",
        ),
        likely_cause="Fargate has no capacity for this task size in the service's "
        "availability zones, "
        "or an account quota is exhausted",
        runbook=PENDING,
        fix="wait and retry (`opsctl redeploy`), give the service subnets in more "
        "availability zones, "
        "or check the Fargate vCPU quota in Service Quotas",
    )


# --- Task running but unhealthy -------------------------------------------------------------


def targets_unhealthy(evidence: Evidence) -> Finding | None:
    unhealthy = _unhealthy(evidence)
    killed = _health_killed(evidence)
    if not unhealthy and not killed:
        return None
    live = [t for t in unhealthy if not t.id.startswith(_EVENT_TARGET)]
    reasons = Counter(f"{t.reason} ({t.description})" for t in live)
    codes = {t.reason for t in unhealthy}
    group = evidence.target_group
    check = (
        f"health check {group.health_check_path} on port {group.health_check_port}, every "
        f"{group.health_check_interval}s, healthy after {group.healthy_threshold}, unhealthy after "
        f"{group.unhealthy_threshold}, matcher {group.matcher}"
        if group
        else "no target group"
    )
    if "Target.ResponseCodeMismatch" in codes:
        cause = "the application answers the health check with an unexpected status (see the codes)"
        fix = (
            "read the tasks' logs (`opsctl logs --since 15m`); roll back with `opsctl "
            "rollback` if the new revision broke /health"
        )
    elif "Target.Timeout" in codes:
        cause = (
            "the health check gets no answer in time: a security group drops the ALB's "
            "traffic, or the app hangs"
        )
        fix = (
            "check that the task security group admits the ALB on the container port; then "
            "the app's logs"
        )
    elif "Target.FailedHealthChecks" in codes:
        cause = (
            "nothing accepts connections on the registered port: the app is not listening "
            "there or crashed"
        )
        fix = (
            "check the container port, the app's PORT and its start-up logs (`opsctl logs "
            "--since 15m`)"
        )
    else:
        cause = "tasks fail their load balancer health checks and ECS replaces them"
        fix = (
            "read the tasks' logs (`opsctl logs --since 15m`) and `opsctl status` for "
            "target reasons"
        )
    lines = [f"{n} target(s) unhealthy: {reason}" for reason, n in reasons.most_common()]
    lines += [f"{_where(t)}: {t.description}" for t in unhealthy if t not in live][:3]
    if killed:
        lines.append(f"{len(killed)} task(s) stopped by ECS: {killed[0].stopped_reason}")
    lines.append(check)
    return Finding(
        rule="targets-unhealthy",
        severity=Severity.CRITICAL,
        title="Tasks run but fail their load balancer health checks",
        evidence=tuple(lines),
        likely_cause=cause,
        runbook=UNHEALTHY,
        fix=fix,
    )


def port_mismatch(evidence: Evidence) -> Finding | None:
    if not _has_health_symptom(evidence) or evidence.container_port is None:
        return None
    container = evidence.task_definition.container(evidence.container_name)
    port = evidence.container_port
    problems = []
    if container.container_ports and port not in container.container_ports:
        problems.append(
            f"the service sends traffic to container port {port} but the container maps "
            f"{', '.join(map(str, container.container_ports))}"
        )
    app_port = container.env("PORT")
    if app_port is not None and app_port != str(port):
        problems.append(
            f"the container's PORT is {app_port} but the load balancer uses container port {port}"
        )
    group = evidence.target_group
    if (
        group
        and group.health_check_port not in (None, "traffic-port")
        and group.health_check_port != str(port)
    ):
        problems.append(
            f"the target group checks port {group.health_check_port}, the container listens "
            f"on {port}"
        )
    if not problems:
        return None
    return Finding(
        rule="port-mismatch",
        severity=Severity.CRITICAL,
        title="The app does not listen on the port the load balancer uses",
        evidence=tuple(problems),
        likely_cause="container port, the app's PORT setting and the health-check port disagree",
        runbook=f"{UNHEALTHY}; {ALB_5XX}",
        fix=f"make them agree on {port} (contract: the app honours PORT, default 8000; the target "
        "group checks traffic-port): fix the task definition or the Terraform variables, then "
        "deploy",
    )


def health_check_path(evidence: Evidence) -> Finding | None:
    group = evidence.target_group
    if group is None:
        return None
    mismatches = [t for t in _unhealthy(evidence) if t.reason == "Target.ResponseCodeMismatch"]
    if not mismatches:
        return None
    not_found = [t for t in mismatches if "404" in (t.description or "")]
    if group.health_check_path == HEALTH_CHECK_PATH and not not_found:
        return None
    evidence_lines = [f"target group {group.name} checks {group.health_check_path}"]
    evidence_lines += [f"{_where(t)}: {t.description}" for t in mismatches[:3]]
    if group.health_check_path != HEALTH_CHECK_PATH:
        cause = (
            f"the health check path is {group.health_check_path}, the runbook's is "
            f"{HEALTH_CHECK_PATH}"
        )
        fix = (
            f"set the target group's health check path to {HEALTH_CHECK_PATH} (Terraform: "
            "load balancer module)"
        )
    else:
        cause = f"the app answers 404 on {HEALTH_CHECK_PATH}: the image may not be this service"
        fix = "check the image (`opsctl status`) and roll back with `opsctl rollback`"
    return Finding(
        rule="health-check-path",
        severity=Severity.CRITICAL,
        title="The health check asks the wrong path",
        evidence=tuple(evidence_lines),
        likely_cause=cause,
        runbook=UNHEALTHY,
        fix=fix,
    )


def grace_period(evidence: Evidence) -> Finding | None:
    killed = _health_killed(evidence)
    group = evidence.target_group
    if not killed or group is None:
        return None
    grace = evidence.service.grace_period or 0
    needed = (group.health_check_interval or 30) * (group.healthy_threshold or 5)
    if grace >= needed:
        return None
    return Finding(
        rule="grace-period",
        severity=Severity.WARNING,
        title="ECS kills tasks before they can pass their health checks",
        evidence=(
            f"{len(killed)} task(s) stopped: {killed[0].stopped_reason}",
            f"health check grace period {grace}s, but a new target needs at least {needed}s "
            f"({group.healthy_threshold} healthy checks x {group.health_check_interval}s) to "
            "turn healthy",
        ),
        likely_cause="start-up takes longer than the grace period, so a slow start looks like "
        "a failure",
        runbook=UNHEALTHY,
        fix=f"raise healthCheckGracePeriodSeconds above the start-up time plus {needed}s "
        "(Terraform: the ECS service module), or make start-up faster",
    )


def security_group_blocks_alb(evidence: Evidence) -> Finding | None:
    timeouts = [t for t in _unhealthy(evidence) if t.reason == "Target.Timeout"]
    if not timeouts or evidence.load_balancer is None or evidence.container_port is None:
        return None
    if not evidence.task_security_groups:
        return None
    port = evidence.container_port
    lb_groups = set(evidence.load_balancer.security_groups)
    for group in evidence.task_security_groups:
        for rule in group.ingress:
            if rule.covers(port) and (
                lb_groups & set(rule.groups) or rule.cidrs or rule.prefix_lists
            ):
                return None
    return Finding(
        rule="security-group-blocks-alb",
        severity=Severity.CRITICAL,
        title="The task security group drops the load balancer's traffic",
        evidence=(
            f"{len(timeouts)} target(s) unhealthy with Target.Timeout",
            f"task security groups {', '.join(g.id for g in evidence.task_security_groups)} "
            f"allow no inbound TCP {port} from the load balancer's groups "
            f"{', '.join(sorted(lb_groups)) or '(none)'}",
        ),
        likely_cause="the ingress rule from the ALB's security group to the container port is "
        "missing",
        runbook=f"{UNHEALTHY}; {ALB_5XX}",
        fix=f"allow TCP {port} from the ALB security group in the task security group "
        "(Terraform: ecs service module)",
    )


# --- ALB returning 502/503 ------------------------------------------------------------------


def no_healthy_targets(evidence: Evidence) -> Finding | None:
    if evidence.target_group is None or evidence.service.desired == 0:
        return None
    healthy = [t for t in evidence.targets if t.state == "healthy"]
    if healthy:
        return None
    states = Counter(t.state for t in evidence.targets)
    summary = ", ".join(f"{n} {s}" for s, n in states.most_common()) or "no registered targets"
    return Finding(
        rule="no-healthy-targets",
        severity=Severity.CRITICAL,
        title="The load balancer has no healthy target: clients get 503 (or 502)",
        evidence=(
            f"target group {evidence.target_group.name}: {summary}",
            f"service: {evidence.service.running}/{evidence.service.desired} tasks running",
        ),
        likely_cause="every task is failing, starting or gone; see the other findings for why",
        runbook=ALB_5XX,
        fix="fix the cause below/above, or restore service fast with `opsctl rollback`",
    )


def crash_loop(evidence: Evidence) -> Finding | None:
    crashed = [
        t
        for t in evidence.stopped
        if t.stop_code == "EssentialContainerExited" and (_exit_code(t) or 0) != 0
    ]
    if len(crashed) < 2:
        return None
    codes = Counter(_exit_code(t) for t in crashed)
    lines = [
        f"{len(crashed)} task(s) exited on their own; exit codes: "
        + ", ".join(f"{code} x{n}" for code, n in codes.most_common()),
    ]
    if evidence.crash_logs:
        lines.append(f"last output of task {_short(crashed[0])}:")
        lines.extend(f"  {line}" for line in evidence.crash_logs[-8:])
    cause = "the application exits shortly after start (configuration, missing dependency, bug)"
    if 137 in codes:
        cause = (
            "exit 137: the container was killed (out of memory, or it ignored SIGTERM "
            "past stopTimeout)"
        )
    return Finding(
        rule="crash-loop",
        severity=Severity.CRITICAL,
        title="The container crashes in a loop",
        evidence=tuple(lines),
        likely_cause=cause,
        runbook=ALB_5XX,
        fix="read the full output (`opsctl logs --task <id>`), fix and deploy, or `opsctl "
        "rollback` now",
    )


def alb_5xx(evidence: Evidence) -> Finding | None:
    metrics = evidence.metrics
    if metrics is None or (metrics.elb_5xx <= 0 and metrics.target_5xx <= 0):
        return None
    lines = [
        f"last {metrics.window_minutes} min: {metrics.elb_5xx:.0f} 5xx generated by the load "
        "balancer "
        f"(502: {metrics.elb_502:.0f}, 503: {metrics.elb_503:.0f}, 504: {metrics.elb_504:.0f}), "
        f"{metrics.target_5xx:.0f} 5xx returned by the targets",
    ]
    if metrics.elb_5xx >= metrics.target_5xx:
        if metrics.elb_503 >= max(metrics.elb_502, metrics.elb_504):
            cause = "503 from the ALB itself: no healthy target to send requests to"
        elif metrics.elb_502 >= metrics.elb_504:
            cause = (
                "502 from the ALB itself: targets refuse or reset connections (crash loop, "
                "wrong port, "
                "or a server keep-alive shorter than the ALB's 60 s idle timeout)"
            )
        else:
            cause = "504 from the ALB itself: targets do not answer within the idle timeout"
        fix = (
            "see the target findings; check keep-alive > 60 s in the server settings; "
            "`opsctl rollback` restores service"
        )
    else:
        cause = "the application itself answers 5xx"
        fix = (
            "read the errors in the logs (`opsctl logs --since 15m --filter ERROR`); roll "
            "back if a deploy caused it"
        )
    return Finding(
        rule="alb-5xx",
        severity=Severity.CRITICAL if metrics.elb_5xx > 0 else Severity.WARNING,
        title="Clients receive 5xx responses",
        evidence=tuple(lines),
        likely_cause=cause,
        runbook=ALB_5XX,
        fix=fix,
    )


def deployment_failed(evidence: Evidence) -> Finding | None:
    primary = evidence.service.primary
    if primary is None:
        return None
    if primary.rollout_state == "FAILED":
        state = (
            f"deployment {primary.id} FAILED: {primary.rollout_reason}; ECS starts no "
            "more tasks for it"
        )
    elif primary.is_circuit_breaker_rollback and primary.rollout_state == "IN_PROGRESS":
        state = f"the circuit breaker is rolling back: {primary.rollout_reason}"
    else:
        return None
    return Finding(
        rule="deployment-failed",
        severity=Severity.CRITICAL,
        title="The last deployment failed",
        evidence=(
            state,
            f"revision {primary.task_definition.rsplit('/', 1)[-1]}, failed tasks "
            f"{primary.failed_tasks}",
        ),
        likely_cause="the new revision's tasks did not start or pass health checks (see the "
        "other findings)",
        runbook="3.1 Rollback; 4.2 ECS Debugging",
        fix="`opsctl rollback` (last known good), then fix and deploy again",
    )


RULES: tuple[tuple[str, Rule], ...] = (
    ("deployment-failed", deployment_failed),
    ("image-not-found", image_not_found),
    ("registry-unreachable", registry_unreachable),
    ("resource-initialization", resource_initialization),
    ("capacity", capacity),
    ("crash-loop", crash_loop),
    ("port-mismatch", port_mismatch),
    ("health-check-path", health_check_path),
    ("security-group-blocks-alb", security_group_blocks_alb),
    ("grace-period", grace_period),
    ("targets-unhealthy", targets_unhealthy),
    ("no-healthy-targets", no_healthy_targets),
    ("alb-5xx", alb_5xx),
)


LOOKS_FOR: dict[str, str] = {
    "deployment-failed": "the PRIMARY deployment FAILED or rolling back",
    "image-not-found": "tasks stopped because their image is missing",
    "registry-unreachable": "image pulls timing out with no route to ECR",
    "resource-initialization": "ECS unable to prepare logs, secrets or roles",
    "capacity": "tasks ECS cannot place for lack of capacity",
    "crash-loop": "two or more tasks exiting non-zero",
    "port-mismatch": "container, PORT and health-check ports disagreeing",
    "health-check-path": "checks on a path other than /health, or a 404",
    "security-group-blocks-alb": "checks timing out, no ingress from the ALB",
    "grace-period": "tasks killed before they could turn healthy",
    "targets-unhealthy": "targets failing their health checks",
    "no-healthy-targets": "no healthy target behind the load balancer",
    "alb-5xx": "5xx from the load balancer or the app",
}
"""What each rule looks for, in a few words (``diagnose`` lists them when it finds nothing)."""


def looked_at(evidence: Evidence) -> tuple[str, ...]:
    """What the rules were given, one line per source: with no finding, this is what says
    "healthy" rather than "saw nothing"."""
    service = evidence.service
    primary = service.primary
    lines = [
        f"service: {service.running}/{service.desired} tasks running"
        + (f"; deployment {primary.id} {primary.rollout_state or '-'}" if primary else ""),
        f"tasks: {len(evidence.running)} running, {len(evidence.stopped)} stopped since the "
        "current deployment began",
        f"service events since the last steady state: {len(since_steady_state(service.events))}",
    ]
    if evidence.target_group is None:
        lines.append("target group: none (the service has no load balancer)")
    else:
        states = Counter(t.state for t in evidence.targets)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no targets"
        lines.append(
            f"target group {evidence.target_group.name}: {summary}; checks "
            f"{evidence.target_group.health_check_path}"
        )
    if evidence.metrics is None:
        lines.append("load balancer metrics: not read (no load balancer)")
    else:
        m = evidence.metrics
        lines.append(
            f"5xx in the last {m.window_minutes} min: {m.elb_5xx:.0f} from the load balancer, "
            f"{m.target_5xx:.0f} from the targets"
        )
    return tuple(lines)


def onset(evidence: Evidence) -> datetime | None:
    """When the symptoms began, as far as the evidence shows: the first task that stopped
    during the current deployment, or the first service event since the last steady state.
    ``None`` when nothing dates them (5xx alone): then "now" is the best bound."""
    times = [t.stopped_at or t.created_at for t in evidence.stopped]
    times += [e.created_at for e in since_steady_state(evidence.service.events)]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def diagnose(evidence: Evidence) -> tuple[Finding, ...]:
    """Every finding the rules make on ``evidence``, most specific first."""
    findings = []
    for _, rule in RULES:
        finding = rule(evidence)
        if finding is not None:
            findings.append(finding)
    return tuple(findings)


def needs_network_evidence(
    stopped: tuple[Task, ...],
    targets: tuple[TargetHealth, ...],
    events: Sequence[ServiceEvent] = (),
) -> bool:
    """Whether EC2 evidence (routes, security groups) could explain the symptoms (health
    checks that time out: on a live target, or in the events since the last steady state)."""
    failed_start = any(
        (t.stopped_reason or "").startswith(
            ("CannotPullContainerError", "ResourceInitializationError")
        )
        for t in stopped
    )
    timed_out = any(t.reason == "Target.Timeout" for t in targets) or any(
        "(reason Request timed out)" in e.message for e in since_steady_state(events)
    )
    return failed_start or timed_out
