"""CloudWatch alarm evaluation on the AWS side of the wire, on the simulator's time scale.

moto stores metric alarms and metric data but never evaluates one against the other: an alarm
stays in the state it was created or set in (docs/emulator.md, "CloudWatch alarms").
:class:`AlarmEvaluator` does what CloudWatch does by itself: every alarm is evaluated once a
minute (once per period when its period is shorter) against the datapoints in moto, and its
state, reason and reason data change as AWS would change them
(:mod:`localcloud.cloudwatch.evaluation`); each change lands in the alarm's history
(:mod:`localcloud.moto_fixes.cloudwatch`).

Time follows the simulator: with ``time_scale`` 0.1 a 60 s period is the last 6 real seconds of
datapoints, so a whole "3 periods breaching" alarm fires in about 20 real seconds. Metric
timestamps, like every timestamp in the API, stay wall-clock.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    MetricAggregatedDatum,
    MetricDatum,
    MetricDatumBase,
    cloudwatch_backends,
)

from localcloud.cloudwatch import metricmath
from localcloud.cloudwatch.evaluation import (
    Aggregate,
    Datapoint,
    Rule,
    Unsupported,
    Verdict,
    decide,
    statistic,
)

MetricKey = tuple[str, str, frozenset[tuple[str, str]]]
"""A metric: namespace, name and its exact set of dimensions (CloudWatch treats each
combination of dimensions as a metric of its own)."""
Index = dict[MetricKey, list[tuple[float, MetricDatumBase]]]
"""Recent datapoints by metric, each with its age in real seconds."""


def wall_now() -> datetime:
    """Naive UTC now: moto keeps metric timestamps naive."""
    return datetime.now(UTC).replace(tzinfo=None)


def _naive(value: Any) -> datetime | None:  # noqa: ANN401 - moto stores what it was given
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _number(value: Any, default: float = 0.0) -> float:  # noqa: ANN401 - moto's raw params
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _key(namespace: str, name: str, dimensions: Iterable[Any]) -> MetricKey:
    return (namespace, name, frozenset((str(d.name), str(d.value)) for d in dimensions))


def index(data: Iterable[MetricDatumBase], now: datetime, horizon: float) -> Index:
    """The datapoints younger than ``horizon`` real seconds, by metric: one pass over moto's
    data per evaluation round, however many alarms read it."""
    grouped: Index = defaultdict(list)
    for datum in data:
        stamp = _naive(datum.timestamp)
        if stamp is None:
            continue
        age = (now - stamp).total_seconds()
        if 0 <= age < horizon:
            grouped[_key(datum.namespace, datum.name, datum.dimensions)].append((age, datum))
    return grouped


def series(
    data: Index,
    *,
    key: MetricKey,
    stat: str,
    unit: str | None,
    window: float,
    periods: int,
    now: datetime,
) -> list[Datapoint]:
    """The last ``periods`` periods of the metric ``key`` (``window`` real seconds each),
    newest first; if the alarm names a unit, only datapoints in that unit count."""
    buckets: list[list[float]] = [[] for _ in range(periods)]
    aggregates: list[list[Aggregate]] = [[] for _ in range(periods)]
    for age, datum in data.get(key, ()):
        if unit and datum.unit and datum.unit != unit:
            continue
        slot = math.floor(age / window) if window > 0 else -1
        if not 0 <= slot < periods:
            continue
        if isinstance(datum, MetricDatum):
            buckets[slot].append(float(datum.value))
        elif isinstance(datum, MetricAggregatedDatum):
            aggregates[slot].append(Aggregate(datum.sample_count, datum.sum, datum.min, datum.max))
    points = []
    for slot in range(periods):
        start = now - timedelta(seconds=(slot + 1) * window)
        samples = len(buckets[slot]) + sum(a.count for a in aggregates[slot])
        value = statistic(stat, buckets[slot], aggregates[slot]) if samples else None
        points.append(Datapoint(start, value, float(samples)))
    return points


def _period(alarm: Alarm) -> float:
    if alarm.period:
        return _number(alarm.period, 60.0)
    periods = [
        _number(q.metric_stat.period, 60.0)
        for q in alarm.metric_data_queries
        if q.metric_stat is not None
    ]
    return max(periods, default=60.0)


def _returned(queries: Sequence[Any]) -> Any:  # noqa: ANN401 - moto's MetricDataQuery
    """The query the alarm alarms on: the one with ``ReturnData`` true, or else the only
    expression (a client may leave ``ReturnData`` out of the others)."""
    explicit = [q for q in queries if str(q.return_data).lower() == "true"]
    if len(explicit) == 1:
        return explicit[0]
    expressions = [q for q in queries if q.expression]
    if not explicit and len(expressions) == 1:
        return expressions[0]
    raise Unsupported("a metric math alarm must return exactly one query")


def datapoints(
    alarm: Alarm, data: Index, window: float, now: datetime
) -> tuple[list[Datapoint], str]:
    """The alarm's datapoints (newest first) and the statistic they show."""
    periods = max(int(_number(alarm.evaluation_periods, 1)), 1)
    if not alarm.metric_data_queries:
        stat = alarm.extended_statistic or alarm.statistic or "Average"
        points = series(
            data,
            key=_key(alarm.namespace, alarm.metric_name, alarm.dimensions),
            stat=stat,
            unit=alarm.unit,
            window=window,
            periods=periods,
            now=now,
        )
        return points, stat
    queries = {q.id: q for q in alarm.metric_data_queries}
    result = _returned(alarm.metric_data_queries)
    per_query: dict[str, list[Datapoint]] = {}
    for query in queries.values():
        if query.metric_stat is None:
            continue
        metric = query.metric_stat.metric
        per_query[query.id] = series(
            data,
            key=_key(metric.namespace, metric.metric_name, metric.dimensions),
            stat=str(query.metric_stat.stat),
            unit=query.metric_stat.unit,
            window=window,
            periods=periods,
            now=now,
        )
    if not result.expression:
        return per_query[result.id], str(result.metric_stat.stat)
    metricmath.names(result.expression)
    points = []
    for slot in range(periods):
        values = {key: points_[slot].value for key, points_ in per_query.items()}
        start = next(iter(per_query.values()))[slot].start if per_query else now
        points.append(Datapoint(start, metricmath.evaluate(result.expression, values)))
    return points, "Expression"


def rule_of(alarm: Alarm) -> Rule:
    periods = max(int(_number(alarm.evaluation_periods, 1)), 1)
    return Rule(
        threshold=_number(alarm.threshold),
        comparison=str(alarm.comparison_operator),
        evaluation_periods=periods,
        datapoints_to_alarm=int(_number(alarm.datapoints_to_alarm, periods)) or periods,
        treat_missing_data=str(alarm.treat_missing_data or "missing"),
    )


def judge(alarm: Alarm, data: Index, time_scale: float, now: datetime) -> tuple[Verdict, str]:
    """The verdict on ``alarm`` now, and its ``StateReasonData`` JSON."""
    period = _period(alarm)
    try:
        rule = rule_of(alarm)
        points, stat = datapoints(alarm, data, period * time_scale, now)
    except Unsupported as error:
        reason = f"Insufficient Data: the local cloud does not evaluate this alarm ({error})."
        verdict = Verdict("INSUFFICIENT_DATA", reason, unsupported=True)
        return verdict, json.dumps({"version": "1.0"})
    verdict = decide(rule, points, str(alarm.state_value))
    present = [p for p in points if p.value is not None]
    reason_data = {
        "version": "1.0",
        "queryDate": now.isoformat(timespec="milliseconds") + "+0000",
        "startDate": points[-1].start.isoformat(timespec="milliseconds") + "+0000",
        "statistic": stat,
        "period": int(period),
        "recentDatapoints": [p.value for p in reversed(present)],
        "threshold": rule.threshold,
        "evaluatedDatapoints": [
            {
                "timestamp": p.start.isoformat(timespec="milliseconds") + "+0000",
                "sampleCount": p.samples,
                "value": p.value,
            }
            for p in verdict.evaluated
        ],
    }
    return verdict, json.dumps(reason_data)


class AlarmEvaluator:
    """Evaluates every metric alarm in the emulator when it is due (:meth:`run`)."""

    def __init__(
        self,
        time_scale: float,
        evaluation_seconds: float = 60.0,
        now: Callable[[], datetime] = wall_now,
        monotonic: Callable[[], float] = time.monotonic,
        backends: Callable[[], list[CloudWatchBackend]] | None = None,
    ) -> None:
        self.time_scale = time_scale
        self.evaluation_seconds = evaluation_seconds
        self._now = now
        self._monotonic = monotonic
        self._backends = backends or _backends
        self._due: dict[str, float] = {}

    def run(self) -> int:
        """Evaluate the alarms that are due; how many were evaluated."""
        evaluated = 0
        clock = self._monotonic()
        seen: set[str] = set()
        for backend in self._backends():
            due = []
            for alarm in list(backend.alarms.values()):
                if alarm.rule is not None:
                    continue  # composite alarms are not evaluated
                seen.add(alarm.alarm_arn)
                if self._due.get(alarm.alarm_arn, 0.0) <= clock:
                    due.append(alarm)
            if due:
                evaluated += self.evaluate(backend, due)
                for alarm in due:
                    every = min(_period(alarm), self.evaluation_seconds) * self.time_scale
                    self._due[alarm.alarm_arn] = clock + every
        for arn in set(self._due) - seen:
            del self._due[arn]
        return evaluated

    def evaluate(self, backend: CloudWatchBackend, alarms: Sequence[Alarm]) -> int:
        """Evaluate ``alarms`` of ``backend`` now, changing the state of those that change."""
        now = self._now()
        horizon = max(
            _period(a) * max(int(_number(a.evaluation_periods, 1)), 1) * self.time_scale
            for a in alarms
        )
        data = index(list(backend.metric_data), now, horizon)
        for alarm in alarms:
            verdict, reason_data = judge(alarm, data, self.time_scale, now)
            if verdict.state is not None and verdict.state != alarm.state_value:
                alarm.update_state(verdict.reason, reason_data, verdict.state)
            elif verdict.unsupported and alarm.state_reason != verdict.reason:
                alarm.state_reason = verdict.reason  # say why, once; no state change
        return len(alarms)


def _backends() -> list[CloudWatchBackend]:
    found = []
    for regional in list(cloudwatch_backends.values()):
        found.extend(list(regional.values()))
    return found
