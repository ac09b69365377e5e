"""CloudWatch alarm evaluation: the state rules, statistics, metric math, and the evaluator over
moto's stored metric data and alarms on a scaled clock (no HTTP, no sleeping)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

import pytest
from localcloud.cloudwatch import metricmath
from localcloud.cloudwatch.evaluation import Datapoint, Rule, Unsupported, decide, statistic
from localcloud.cloudwatch.evaluator import AlarmEvaluator
from localcloud.moto_fixes import cloudwatch as cloudwatch_fix
from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)

from localcloud import moto_fixes

REGION = "eu-west-3"
T0 = datetime(2026, 12, 3, 10, 0, 0)
_accounts = itertools.count(5100)


def points(*values):
    """Datapoints newest first, one minute apart."""
    return [Datapoint(T0 - timedelta(minutes=i + 1), v, 1.0) for i, v in enumerate(values)]


RULE = Rule(
    threshold=5,
    comparison="GreaterThanOrEqualToThreshold",
    evaluation_periods=3,
    datapoints_to_alarm=3,
    treat_missing_data="notBreaching",
)


def test_m_of_n_breaching_datapoints_alarm_with_aws_words():
    verdict = decide(RULE, points(7, 5, 9), "OK")
    assert verdict.state == "ALARM"
    assert verdict.reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [7.0 (03/12/26 09:59:00), "
        "5.0 (03/12/26 09:58:00), 9.0 (03/12/26 09:57:00)] were greater than or equal to the "
        "threshold (5.0) (minimum 3 datapoints for OK -> ALARM transition)."
    )


def test_fewer_breaching_than_datapoints_to_alarm_is_ok():
    verdict = decide(RULE, points(7, 4, 9), "ALARM")
    assert verdict.state == "OK"
    assert "1 out of the last 3 datapoints" in verdict.reason
    assert "was not greater than or equal to the threshold (5.0)" in verdict.reason
    two_of_three = Rule(5, "GreaterThanOrEqualToThreshold", 3, 2, "notBreaching")
    assert decide(two_of_three, points(7, 4, 9), "OK").state == "ALARM"


@pytest.mark.parametrize(
    ("treat", "state", "words"),
    [
        ("notBreaching", "OK", "treated as [NonBreaching]"),
        ("breaching", "ALARM", "treated as [Breaching]"),
        ("missing", "INSUFFICIENT_DATA", "Insufficient Data: 3 datapoints were unknown."),
        ("ignore", None, "kept"),
    ],
)
def test_no_data_at_all_follows_treat_missing_data(treat, state, words):
    rule = Rule(5, "GreaterThanOrEqualToThreshold", 3, 3, treat)
    verdict = decide(rule, points(None, None, None), "ALARM")
    assert verdict.state == state
    assert words in verdict.reason


def test_missing_periods_count_as_breaching_when_told_to():
    rule = Rule(5, "GreaterThanOrEqualToThreshold", 3, 3, "breaching")
    assert decide(rule, points(9, None, None), "OK").state == "ALARM"
    assert decide(RULE, points(9, None, None), "OK").state == "OK"  # notBreaching


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sum", 10.0),
        ("Average", 2.5),
        ("Minimum", 1.0),
        ("Maximum", 4.0),
        ("SampleCount", 4.0),
        ("p50", 2.0),
        ("p90", 4.0),
        ("p99.9", 4.0),
    ],
)
def test_statistics_of_one_period(name, expected):
    assert statistic(name, [4.0, 1.0, 3.0, 2.0]) == expected


def test_anomaly_detection_comparisons_are_refused_not_guessed():
    with pytest.raises(Unsupported, match="LessThanLowerOrGreaterThanUpperThreshold"):
        Rule(0, "LessThanLowerOrGreaterThanUpperThreshold", 1, 1)


def test_metric_math_arithmetic_and_refusals():
    assert metricmath.evaluate("desired - running", {"desired": 2.0, "running": 0.0}) == 2.0
    assert metricmath.evaluate("(a + b) / 2 * -1", {"a": 3.0, "b": 5.0}) == -4.0
    assert metricmath.evaluate("a - b", {"a": 1.0, "b": None}) is None
    assert metricmath.evaluate("a / b", {"a": 1.0, "b": 0.0}) is None
    assert metricmath.names("desired - running") == {"desired", "running"}
    with pytest.raises(Unsupported, match=r"FILL\(\)"):
        metricmath.names("FILL(m1, 0)")
    with pytest.raises(Unsupported):
        metricmath.names("__import__('os')")
    with pytest.raises(Unsupported):
        metricmath.names("a ** 2")


# --- the evaluator over moto's backends ---------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.wall = T0
        self.mono = 1000.0

    def advance(self, real_seconds: float) -> None:
        self.wall += timedelta(seconds=real_seconds)
        self.mono += real_seconds


@pytest.fixture
def cw():
    moto_fixes.install()  # alarm history and initial states, as in the emulator
    return cloudwatch_backends[f"{next(_accounts):012d}"][REGION]


def evaluator_for(backend, clock, time_scale=0.1):
    """An evaluator of ``backend``'s alarms only (moto's backends are global to the process)."""
    return AlarmEvaluator(
        time_scale, now=lambda: clock.wall, monotonic=lambda: clock.mono, backends=lambda: [backend]
    )


def put(backend, name, value, at, dimensions=None, namespace="AWS/ApplicationELB"):
    backend.put_metric_data(
        namespace,
        [
            {
                "MetricName": name,
                "Value": value,
                "Timestamp": at,
                "Dimensions": [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
            }
        ],
    )


TG = {"LoadBalancer": "app/api-alb/1", "TargetGroup": "targetgroup/api-tg/2"}


def target_5xx_alarm(backend, **changes):
    settings = {
        "name": "api-target-5xx",
        "namespace": "AWS/ApplicationELB",
        "metric_name": "HTTPCode_Target_5XX_Count",
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "evaluation_periods": 3,
        "datapoints_to_alarm": 3,
        "period": 60,
        "threshold": 5.0,
        "statistic": "Sum",
        "description": "",
        "dimensions": [{"Name": k, "Value": v} for k, v in TG.items()],
        "alarm_actions": [],
        "treat_missing_data": "notBreaching",
    }
    settings.update(changes)
    return backend.put_metric_alarm(**settings)


def test_a_new_alarm_starts_insufficient_and_notbreaching_turns_it_ok(cw):
    alarm = target_5xx_alarm(cw)
    assert alarm.state_value == "INSUFFICIENT_DATA"
    clock = Clock()
    assert evaluator_for(cw, clock).run() == 1
    assert alarm.state_value == "OK"
    assert "treated as [NonBreaching]" in alarm.state_reason


def test_scaled_periods_drive_the_alarm_from_the_metric_data(cw):
    # time_scale 0.1: a 60 s period is the last 6 real seconds of datapoints.
    alarm = target_5xx_alarm(cw)
    clock = Clock()
    evaluator = evaluator_for(cw, clock)
    evaluator.run()
    clock.advance(18.0)
    for minute in range(3):  # 6 errors in each of the last three scaled minutes
        at = clock.wall - timedelta(seconds=6 * minute + 3)
        for _ in range(6):
            put(cw, "HTTPCode_Target_5XX_Count", 1.0, at, TG)
            put(cw, "HTTPCode_Target_5XX_Count", 50.0, at, {"LoadBalancer": "app/api-alb/1"})
    assert evaluator.run() == 1
    assert alarm.state_value == "ALARM"
    assert alarm.state_reason.startswith("Threshold Crossed: 3 out of the last 3 datapoints [6.0")
    data = json.loads(alarm.state_reason_data)
    assert data["recentDatapoints"] == [6.0, 6.0, 6.0]
    assert (data["statistic"], data["period"], data["threshold"]) == ("Sum", 60, 5.0)
    # Not evaluated again before a scaled minute passed.
    clock.advance(5.0)
    assert evaluator.run() == 0
    # Quiet again: three quiet minutes later it is OK.
    clock.advance(20.0)
    assert evaluator.run() == 1
    assert alarm.state_value == "OK"
    items = cloudwatch_fix.history(cw)
    updates = [i for i in items if i.item_type == "StateUpdate"]
    assert [i.summary for i in updates] == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    change = json.loads(updates[1].data)
    assert change["oldState"]["stateValue"] == "OK"
    assert change["newState"]["stateValue"] == "ALARM"
    assert change["newState"]["stateReasonData"]["recentDatapoints"] == [6.0, 6.0, 6.0]


def test_an_updated_alarm_keeps_its_state_and_its_history_says_so(cw):
    alarm = target_5xx_alarm(cw)
    alarm.update_state("testing", "{}", "ALARM")
    updated = target_5xx_alarm(cw, threshold=10.0)
    assert updated is not alarm
    assert (updated.state_value, updated.threshold) == ("ALARM", 10.0)
    cw.delete_alarms(["api-target-5xx"])
    summaries = [i.summary for i in cloudwatch_fix.history(cw)]
    assert summaries == [
        'Alarm "api-target-5xx" created',
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        'Alarm "api-target-5xx" updated',
        'Alarm "api-target-5xx" deleted',
    ]


def test_a_metric_math_alarm_on_container_insights(cw):
    def query(key, metric, stat):
        dims = [Dimension("ClusterName", "c"), Dimension("ServiceName", "api")]
        return MetricDataQuery(
            key,
            "",
            None,
            "false",
            metric_stat=MetricStat(Metric(metric, "ECS/ContainerInsights", dims), "60", stat, None),
        )

    alarm = cw.put_metric_alarm(
        name="running-below-desired",
        namespace=None,
        metric_name=None,
        comparison_operator="GreaterThanOrEqualToThreshold",
        evaluation_periods=2,
        datapoints_to_alarm=2,
        period=None,
        threshold=1.0,
        statistic=None,
        description="",
        dimensions=[],
        alarm_actions=[],
        treat_missing_data="notBreaching",
        metric_data_queries=[
            MetricDataQuery("missing", "", None, "true", expression="desired - running"),
            query("desired", "DesiredTaskCount", "Minimum"),
            query("running", "RunningTaskCount", "Maximum"),
        ],
    )
    clock = Clock()
    dims = {"ClusterName": "c", "ServiceName": "api"}
    for minute in range(2):  # the last two scaled minutes: 2 desired, 0 running
        at = clock.wall - timedelta(seconds=6 * minute + 3)
        put(cw, "DesiredTaskCount", 2.0, at, dims, "ECS/ContainerInsights")
        put(cw, "RunningTaskCount", 0.0, at, dims, "ECS/ContainerInsights")
    evaluator_for(cw, clock).run()
    assert alarm.state_value == "ALARM"
    assert json.loads(alarm.state_reason_data)["recentDatapoints"] == [2.0, 2.0]


def test_an_alarm_the_evaluator_cannot_model_says_so(cw):
    alarm = target_5xx_alarm(cw, comparison_operator="LessThanLowerOrGreaterThanUpperThreshold")
    evaluator_for(cw, Clock()).run()
    assert alarm.state_value == "INSUFFICIENT_DATA"
    assert "does not evaluate this alarm" in alarm.state_reason
