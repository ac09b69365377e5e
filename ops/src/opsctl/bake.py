"""The bake window: keep watching a deployment after ECS says COMPLETED and the smoke test
passed, for what only shows under real traffic.

ECS calls a deployment COMPLETED once the new tasks run and pass their health checks; a release
that answers ``/health`` and fails real requests gets there too
(awslabs/ecs-refarch-continuous-deployment#49: "health checks after COMPLETED with automatic
rollback"). For ``--bake DURATION`` opsctl watches, every poll:

* the CloudWatch alarms that concern the service (:func:`opsctl.alarms.concerns`): an alarm that
  went to ALARM after the deployment began breaches, even when it is OK again by the next look
  (DescribeAlarmHistory); an alarm already in ALARM before it began cannot judge it, and is
  reported as not watched;
* the 5xx answers of the target group (ALB ``HTTPCode_Target_5XX_Count``) and the load
  balancer's own (``HTTPCode_ELB_5XX_Count``: 502/503/504 when the new tasks close the
  connection, are gone or do not answer in time) against ``RequestCount``, per minute, from the
  minute the deployment completed, and the new tasks' own access lines with a status of 500 or
  more (CloudWatch Logs, seconds behind, where the ALB's metrics are a minute or more):
  :data:`MIN_ERRORS` errors that are also ``max_5xx_percent`` of the requests breach;
* the new tasks' targets: one that is not healthy breaches;
* the new tasks: one that stops breaches.

A check that cannot run (a permission the role lacks, no load balancer) is listed as not
watched, never silently skipped; the others go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opsctl.alarms import concerns
from opsctl.aws import Aws
from opsctl.errors import Interrupted, OpsctlError
from opsctl.model import Alarm, AlarmStateChange
from opsctl.progress import Progress
from opsctl.results import BakeInfo
from opsctl.verify import deployment_targets

MIN_ERRORS = 5
"""5xx answers it takes to breach, whatever the share: one failed request among three is not a
verdict on a release."""

DEFAULT_5XX_PERCENT = 5.0

_SERVER_ERRORS = "{ $.status >= 500 }"
"""The access lines of a 5xx answer: the service logs one JSON line per request with its
``status`` (docs/service.md, "Logs"); a JSON filter pattern selects on the field."""


@dataclass(frozen=True)
class BakeOptions:
    seconds: float
    max_5xx_percent: float = DEFAULT_5XX_PERCENT


def parse_duration(text: str) -> float:
    """``0``, ``90s``, ``10m``, ``1h`` (or a bare number of seconds) as seconds; ValueError
    otherwise. At most a day: a bake longer than that is a mistake."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (examples: 0, 90s, 10m, 1h)") from None
    if not 0 <= seconds <= 86400 or seconds != seconds:
        raise ValueError(f"{text!r} must be between 0 and 24h")
    return seconds


def five_xx_breach(
    requests: int | None,
    target_5xx: int | None,
    service_5xx: int | None,
    percent: float,
    elb_5xx: int | None = None,
) -> str | None:
    """The 5xx breach, described, or None. Errors: the load balancer's count (the targets'
    5xx and its own) or the access lines', whichever is larger; requests: the ALB's count, at
    least the errors (its metrics may lag the access lines)."""
    errors = max((target_5xx or 0) + (elb_5xx or 0), service_5xx or 0)
    if errors < MIN_ERRORS:
        return None
    total = max(requests or 0, errors)
    share = 100.0 * errors / total
    if share < percent:
        return None
    sources = []
    if target_5xx:
        sources.append(f"the target group answered {target_5xx} 5xx of {requests or 0} requests")
    if elb_5xx:
        sources.append(f"the load balancer itself answered {elb_5xx} 5xx (502/503/504)")
    if service_5xx:
        sources.append(f"the new tasks logged {service_5xx} 5xx access lines")
    return (
        f"5xx responses: {'; '.join(sources)} ({share:.0f}% >= {percent:g}%, "
        f"at least {MIN_ERRORS} errors)"
    )


@dataclass
class _State:
    alarms: list[str] = field(default_factory=list)
    no_history: set[str] = field(default_factory=set)
    not_watched: list[str] = field(default_factory=list)
    known_stopped: set[str] | None = None
    requests: int | None = None
    target_5xx: int | None = None
    elb_5xx: int | None = None
    service_5xx: int | None = None
    last_note: str = ""


class Baker:
    """Watches one COMPLETED deployment for ``options.seconds``."""

    def __init__(
        self,
        aws: Aws,
        *,
        cluster: str,
        service: str,
        deployment_id: str,
        deployment_started: datetime | None,
        deployment_completed: datetime | None = None,
        group_arn: str | None,
        container_port: int | None,
        balancer_dimension: str | None,
        log_group: str | None,
        stream_prefix: str | None,
        container: str,
        progress: Progress,
        poll_interval: float,
        options: BakeOptions,
    ) -> None:
        self._aws = aws
        self._cluster = cluster
        self._service = service
        self._deployment = deployment_id
        self._began = (deployment_started or datetime.now(UTC)).astimezone(UTC)
        # The 5xx count from when ECS said COMPLETED: answers during the smoke test count too.
        self._completed = deployment_completed.astimezone(UTC) if deployment_completed else None
        self._group = group_arn
        self._port = container_port
        self._balancer = balancer_dimension
        self._log_group = log_group
        self._prefix = stream_prefix
        self._container = container
        self._progress = progress
        self._poll = poll_interval
        self._options = options
        self._state = _State()

    def watch(self) -> tuple[BakeInfo, bool]:
        """Watch until the bake time is up or a check breaches; returns the bake and whether
        another deployment replaced ours meanwhile (then the bake judged nothing)."""
        state = self._state
        started = time.monotonic()
        wall_start = min(self._completed or datetime.now(UTC), datetime.now(UTC))
        self._discover_alarms()
        self._progress.note(
            f"baking for {self._options.seconds:.0f} s: {len(state.alarms)} alarm(s), 5xx of "
            "the target group and of the new tasks' access lines, target health, the new tasks"
        )
        breaches: list[str] = []
        superseded = False
        try:
            while True:
                superseded = self._superseded()
                if superseded:
                    break
                breaches = self._look(wall_start)
                elapsed = time.monotonic() - started
                self._report(elapsed)
                if breaches or elapsed >= self._options.seconds:
                    break
                time.sleep(min(self._poll, max(self._options.seconds - elapsed, 0.0)))
        except KeyboardInterrupt as interrupt:
            self._progress.close()
            raise Interrupted(
                f"stopped baking deployment {self._deployment}; it is COMPLETED in ECS and its "
                "revision is not recorded as known good",
                hint="`opsctl rollback` returns to the last known good revision",
            ) from interrupt
        info = BakeInfo(
            seconds=self._options.seconds,
            watched_seconds=round(time.monotonic() - started, 3),
            passed=not breaches and not superseded,
            breaches=tuple(breaches),
            alarms=tuple(state.alarms),
            requests=state.requests,
            target_5xx=state.target_5xx,
            elb_5xx=state.elb_5xx,
            service_5xx=state.service_5xx,
            max_5xx_percent=self._options.max_5xx_percent,
            not_watched=tuple(state.not_watched),
        )
        return info, superseded

    # --- one look -----------------------------------------------------------------------------

    def _discover_alarms(self) -> None:
        state = self._state
        try:
            alarms = self._aws.metric_alarms()
        except OpsctlError as error:
            state.not_watched.append(f"alarms: {error.message}")
            return
        state.alarms = sorted(
            a.name for a in alarms if concerns(a, self._cluster, self._service, self._group)
        )
        for alarm in alarms:
            if alarm.name in state.alarms and alarm.state == "ALARM" and not self._since(alarm):
                state.not_watched.append(
                    f"alarm {alarm.name}: in ALARM since "
                    f"{_when(alarm.updated_at)}, before this deployment began: it cannot judge "
                    "the new revision"
                )

    def _since(self, alarm: Alarm) -> bool:
        """Whether ``alarm`` changed state after the deployment began."""
        return alarm.updated_at is not None and alarm.updated_at >= self._began

    def _superseded(self) -> bool:
        service = self._aws.describe_service(self._cluster, self._service)
        primary = service.primary
        return primary is None or primary.id != self._deployment

    def _look(self, wall_start: datetime) -> list[str]:
        breaches: list[str] = []
        breaches += self._alarm_breaches()
        breaches += self._task_breaches()
        breaches += self._target_breaches()
        five_xx = self._five_xx(wall_start)
        if five_xx:
            breaches.append(five_xx)
        return breaches

    def _alarm_breaches(self) -> list[str]:
        state = self._state
        if not state.alarms:
            return []
        found: list[str] = []
        try:
            current = self._aws.metric_alarms(state.alarms)
        except OpsctlError as error:
            _once(state.not_watched, f"alarm states: {error.message}")
            current = []
        seen: set[str] = set()
        for alarm in current:
            if alarm.state == "ALARM" and self._since(alarm):
                seen.add(alarm.name)
                found.append(
                    f"alarm {alarm.name} in ALARM since {_when(alarm.updated_at)}: {alarm.reason}"
                )
        for name in state.alarms:
            if name in state.no_history or name in seen:
                continue
            try:
                # Oldest first: the first change to ALARM, the state it is in now.
                transitions = self._aws.alarm_state_changes(name, self._began)[::-1]
            except OpsctlError as error:
                state.no_history.add(name)
                state.not_watched.append(
                    f"history of alarm {name} ({error.message}): only its state at each look "
                    "is watched"
                )
                continue
            went = _to_alarm(transitions)
            if went is not None:
                found.append(
                    f"alarm {name} went to ALARM at {_when(went.at)} "
                    f"(now back to {_last_state(transitions)}): {went.reason}"
                )
        return found

    def _task_breaches(self) -> list[str]:
        state = self._state
        try:
            stopped = [
                t
                for t in self._aws.service_tasks(self._cluster, self._service, "STOPPED")
                if t.started_by == self._deployment
            ]
        except OpsctlError as error:
            _once(state.not_watched, f"the new tasks: {error.message}")
            return []
        if state.known_stopped is None:
            # Tasks that stopped during the rollout were judged by ECS (and the circuit
            # breaker); the bake judges what stops after it began.
            state.known_stopped = {t.id for t in stopped}
            return []
        found = []
        for task in stopped:
            if task.id in state.known_stopped:
                continue
            code = next((c.exit_code for c in task.containers if c.exit_code is not None), None)
            exit_text = f" (exit code {code})" if code is not None else ""
            found.append(
                f"task {task.id[:12]} of the new deployment stopped: "
                f"{task.stopped_reason or task.stop_code or 'no reason given'}{exit_text}"
            )
        return found

    def _target_breaches(self) -> list[str]:
        if not self._group or not self._port:
            _once(self._state.not_watched, "target health: the service has no load balancer")
            return []
        try:
            targets = deployment_targets(
                self._aws, self._cluster, self._service, self._deployment, self._group, self._port
            )
        except OpsctlError as error:
            _once(self._state.not_watched, f"target health: {error.message}")
            return []
        return [
            f"target {t.id}:{t.port} of the new deployment is {t.state} "
            f"({t.reason}: {t.description})"
            for t in targets
            if t.state != "healthy"
        ]

    def _five_xx(self, wall_start: datetime) -> str | None:
        state = self._state
        if self._balancer and self._group:
            start = wall_start.replace(second=0, microsecond=0)
            end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
            dims = {"LoadBalancer": self._balancer, "TargetGroup": self._group.split(":")[-1]}
            try:
                sums = self._aws.metric_sums(
                    "AWS/ApplicationELB",
                    ("RequestCount", "HTTPCode_Target_5XX_Count"),
                    dims,
                    start,
                    end,
                )
                state.requests = int(sums["RequestCount"])
                state.target_5xx = int(sums["HTTPCode_Target_5XX_Count"])
                # The load balancer's own 5xx exist per load balancer only: one service's here.
                elb = self._aws.metric_sums(
                    "AWS/ApplicationELB",
                    ("HTTPCode_ELB_5XX_Count",),
                    {"LoadBalancer": self._balancer},
                    start,
                    end,
                )
                state.elb_5xx = int(elb["HTTPCode_ELB_5XX_Count"])
            except OpsctlError as error:
                _once(state.not_watched, f"the target group's 5xx: {error.message}")
        else:
            _once(state.not_watched, "the target group's 5xx: the service has no load balancer")
        if self._log_group and self._prefix:
            state.service_5xx = self._logged_5xx(wall_start)
        else:
            _once(state.not_watched, "access lines: the container does not log with awslogs")
        return five_xx_breach(
            state.requests,
            state.target_5xx,
            state.service_5xx,
            self._options.max_5xx_percent,
            state.elb_5xx,
        )

    def _logged_5xx(self, since: datetime) -> int | None:
        state = self._state
        try:
            running = [
                t
                for t in self._aws.service_tasks(self._cluster, self._service, "RUNNING")
                if t.started_by == self._deployment
            ]
            streams = [f"{self._prefix}/{self._container}/{t.id}" for t in running]
            count = 0
            for start in range(0, len(streams), 100):  # FilterLogEvents takes 100 streams
                count += len(
                    self._aws.filter_log_events(
                        str(self._log_group),
                        start=since,
                        streams=streams[start : start + 100],
                        pattern=_SERVER_ERRORS,
                    )
                )
        except OpsctlError as error:
            _once(state.not_watched, f"access lines: {error.message}")
            return state.service_5xx
        return count if streams else state.service_5xx

    def _report(self, elapsed: float) -> None:
        state = self._state
        line = (
            f"bake: requests {_count(state.requests)}, target 5xx {_count(state.target_5xx)}, "
            f"load balancer 5xx {_count(state.elb_5xx)}, "
            f"5xx access lines {_count(state.service_5xx)}"
        )
        if line != state.last_note:
            state.last_note = line
            self._progress.note(f"{line} [{elapsed:.0f}s of {self._options.seconds:.0f}s]")


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def _once(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _when(value: datetime | None) -> str:
    if value is None:
        return "?"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _to_alarm(transitions: list[AlarmStateChange]) -> AlarmStateChange | None:
    return next((t for t in transitions if t.new == "ALARM"), None)


def _last_state(transitions: list[AlarmStateChange]) -> str:
    return transitions[-1].new or "?" if transitions else "?"
