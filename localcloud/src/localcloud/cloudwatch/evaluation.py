"""How CloudWatch turns a metric alarm's datapoints into a state, and words the reason.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html: the alarm
looks at its last ``EvaluationPeriods`` (N) periods; ``DatapointsToAlarm`` (M, default N) of
them breaching the threshold put it in ALARM. Periods with no datapoint are handled by
``TreatMissingData``
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data):
``breaching`` and ``notBreaching`` count them as such, ``ignore`` keeps the current state when
nothing is known, ``missing`` (the default) goes to INSUFFICIENT_DATA when no period has data.

Simplifications (docs/emulator.md): with some periods missing under ``missing``/``ignore``,
the present datapoints decide (M breaching: ALARM, else one not breaching: OK) where AWS may
look further back; anomaly-detection comparisons are not evaluated.

Pure functions of frozen inputs, so the tests run them without moto or time.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", operator.ge),
    "GreaterThanThreshold": ("greater than", operator.gt),
    "LessThanThreshold": ("less than", operator.lt),
    "LessThanOrEqualToThreshold": ("less than or equal to", operator.le),
}
"""The static-threshold comparisons, with the words AWS's reasons use for them."""


class Unsupported(ValueError):  # noqa: N818 - reads as "raise Unsupported(...)"
    """The alarm uses something this evaluator does not model (the reason says what)."""


@dataclass(frozen=True)
class Rule:
    """What decides an alarm's state from its datapoints."""

    threshold: float
    comparison: str
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str = "missing"

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise Unsupported(f"comparison operator {self.comparison} is not evaluated")


@dataclass(frozen=True)
class Datapoint:
    """One period's value (``None``: no data in that period) and where the period starts."""

    start: datetime
    value: float | None
    samples: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """A new state, or ``state=None`` to keep the current one."""

    state: str | None
    reason: str
    breaching: tuple[Datapoint, ...] = ()
    evaluated: tuple[Datapoint, ...] = ()
    unsupported: bool = False
    """The alarm uses something not evaluated here; the reason says what."""


def statistic(name: str, values: Sequence[float], aggregates: Sequence[Aggregate] = ()) -> float:
    """``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount`` or ``pNN`` of one period's
    raw ``values`` and pre-aggregated ``aggregates`` (PutMetricData's StatisticValues)."""
    count = len(values) + sum(a.count for a in aggregates)
    total = sum(values) + sum(a.total for a in aggregates)
    if name == "SampleCount":
        return float(count)
    if name == "Sum":
        return float(total)
    if name == "Average":
        return total / count
    if name == "Minimum":
        return min([*values, *(a.low for a in aggregates)])
    if name == "Maximum":
        return max([*values, *(a.high for a in aggregates)])
    if name.startswith("p") and name[1:].replace(".", "", 1).isdigit():
        if aggregates and not values:
            raise Unsupported("a percentile of StatisticValues is not computed")
        ordered = sorted(values)
        rank = math.ceil(float(name[1:]) / 100 * len(ordered))
        return ordered[min(max(rank, 1), len(ordered)) - 1]
    raise Unsupported(f"statistic {name} is not computed")


@dataclass(frozen=True)
class Aggregate:
    """A StatisticValues datum: sample count, sum, minimum, maximum."""

    count: float
    total: float
    low: float
    high: float


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _value(point: Datapoint) -> float:
    return point.value if point.value is not None else math.nan


def _listing(points: Sequence[Datapoint]) -> str:
    # AWS lists datapoints as "value (dd/MM/yy HH:mm:ss)", newest first.
    return ", ".join(f"{float(_value(p))} ({p.start:%d/%m/%y %H:%M:%S})" for p in points)


def decide(rule: Rule, points: Sequence[Datapoint], current: str) -> Verdict:
    """The state ``rule`` gives ``points`` (the last N periods, newest first) in ``current``."""
    words, breaches = COMPARISONS[rule.comparison]
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    present = [p for p in points if p.value is not None]
    missing = len(points) - len(present)
    treat = rule.treat_missing_data or "missing"
    if not present:
        if treat == "notBreaching":
            return Verdict(
                "OK",
                f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} "
                f"and {_plural(n, 'missing datapoint')} were treated as [NonBreaching].",
            )
        if treat == "breaching":
            return Verdict(
                "ALARM",
                f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} "
                f"and {_plural(n, 'missing datapoint')} were treated as [Breaching].",
            )
        if treat == "ignore":
            return Verdict(None, "no datapoints: the current state is kept (ignore)")
        verb = "was" if n == 1 else "were"
        return Verdict(
            "INSUFFICIENT_DATA", f"Insufficient Data: {_plural(n, 'datapoint')} {verb} unknown."
        )
    breaching = tuple(p for p in present if breaches(_value(p), rule.threshold))
    clean = tuple(p for p in present if not breaches(_value(p), rule.threshold))
    count = len(breaching) + (missing if treat == "breaching" else 0)
    listed = _listing(present)
    if count >= m:
        verb = "was" if len(breaching) == 1 else "were"
        return Verdict(
            "ALARM",
            f"Threshold Crossed: {len(breaching)} out of the last {len(present)} datapoints "
            f"[{listed}] {verb} {words} the threshold ({float(rule.threshold)}) "
            f"(minimum {_plural(m, 'datapoint')} for {current} -> ALARM transition).",
            breaching,
            tuple(present),
        )
    good = len(clean) + (missing if treat == "notBreaching" else 0)
    needed = n - m + 1 if treat in ("breaching", "notBreaching") else 1
    if good >= needed:
        verb = "was" if len(clean) == 1 else "were"
        return Verdict(
            "OK",
            f"Threshold Crossed: {len(clean)} out of the last {len(present)} datapoints "
            f"[{listed}] {verb} not {words} the threshold ({float(rule.threshold)}) "
            f"(minimum {_plural(needed, 'datapoint')} for {current} -> OK transition).",
            (),
            tuple(present),
        )
    return Verdict(None, "not enough datapoints to change state")
