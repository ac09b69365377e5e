"""CloudWatch alarms: their history, and the state an update keeps.

Gaps (docs/emulator.md, "CloudWatch alarms"):

* DescribeAlarmHistory is not implemented. Here every alarm keeps its history as AWS does
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html):
  a ``ConfigurationUpdate`` item when it is created, updated or deleted, a ``StateUpdate`` item
  each time its state changes (SetAlarmState, or the evaluation that runs beside the ECS
  simulator), with AWS's ``HistorySummary`` and ``HistoryData`` JSON; the history outlives the
  alarm, and is filtered by name, type, item type and dates, newest first unless
  ``ScanBy=TimestampAscending``, paged with ``MaxRecords``/``NextToken``.
* PutMetricAlarm on an existing alarm resets it to OK; AWS leaves the state of an updated
  alarm unchanged ("the update completely overwrites the previous configuration", not its
  state). A new alarm starts in INSUFFICIENT_DATA as on AWS (moto: OK).
* GetMetricStatistics counts every datapoint that has the requested dimensions among its own;
  CloudWatch treats each combination of dimensions as a metric of its own
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension),
  so a query by ``LoadBalancer`` must not also count what the ALB published by ``TargetGroup``
  and ``LoadBalancer``.
* GetMetricData compares dimension sets after sorting them, but moto's ``Dimension.__lt__``
  compares a value with a name, so the sort is no order at all and a query naming
  ``LoadBalancer`` before ``TargetGroup`` finds nothing the ALB published as ``TargetGroup``,
  ``LoadBalancer``. CloudWatch does not care about the order; here dimensions sort by name,
  then value.

Alarm *evaluation* (turning metric data into states) is not a fix here: it is something AWS does
by itself, run beside the simulator (:mod:`localcloud.cloudwatch`).
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterValue
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Dimension,
    MetricDatumBase,
    Statistics,
    cloudwatch_backends,
)
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

MAX_RECORDS = 100
"""DescribeAlarmHistory's page size limit (its default too)."""

_lock = threading.Lock()
_histories: weakref.WeakKeyDictionary[CloudWatchBackend, list[HistoryItem]] = (
    weakref.WeakKeyDictionary()
)
_backend_of: weakref.WeakKeyDictionary[Alarm, CloudWatchBackend] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class HistoryItem:
    """One ``AlarmHistoryItem``."""

    alarm_name: str
    alarm_type: str
    timestamp: datetime
    item_type: str
    summary: str
    data: str

    def to_api(self) -> dict[str, Any]:
        return {
            "AlarmName": self.alarm_name,
            "AlarmType": self.alarm_type,
            "Timestamp": self.timestamp,
            "HistoryItemType": self.item_type,
            "HistorySummary": self.summary,
            "HistoryData": self.data,
        }


def history(backend: CloudWatchBackend) -> list[HistoryItem]:
    """The history items of ``backend``'s alarms, oldest first (a copy)."""
    with _lock:
        return list(_histories.get(backend, []))


def _record(backend: CloudWatchBackend, item: HistoryItem) -> None:
    with _lock:
        _histories.setdefault(backend, []).append(item)


def _type_of(alarm: Alarm) -> str:
    return "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"


def _now() -> datetime:
    return datetime.now(UTC)


def _state(alarm: Alarm) -> dict[str, Any]:
    state: dict[str, Any] = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    try:
        data = json.loads(alarm.state_reason_data or "{}")
    except ValueError:
        data = {}
    if data:
        state["stateReasonData"] = data
    return state


def _configuration(alarm: Alarm) -> dict[str, Any]:
    """The alarm's settings as the history's ``ConfigurationUpdate`` data names them."""
    return {
        "alarmName": alarm.name,
        "alarmArn": alarm.alarm_arn,
        "namespace": alarm.namespace,
        "metricName": alarm.metric_name,
        "statistic": alarm.statistic,
        "extendedStatistic": alarm.extended_statistic,
        "period": alarm.period,
        "evaluationPeriods": alarm.evaluation_periods,
        "datapointsToAlarm": alarm.datapoints_to_alarm,
        "threshold": alarm.threshold,
        "comparisonOperator": alarm.comparison_operator,
        "treatMissingData": alarm.treat_missing_data,
        "actionsEnabled": alarm.actions_enabled,
    }


def _configuration_item(backend: CloudWatchBackend, alarm: Alarm, change: str) -> None:
    key = {"Create": "createdAlarm", "Update": "updatedAlarm", "Delete": "deletedAlarm"}[change]
    data = {"version": "1.0", "type": change, key: _configuration(alarm)}
    word = {"Create": "created", "Update": "updated", "Delete": "deleted"}[change]
    _record(
        backend,
        HistoryItem(
            alarm.name,
            _type_of(alarm),
            _now(),
            "ConfigurationUpdate",
            f'Alarm "{alarm.name}" {word}',
            json.dumps(data),
        ),
    )


def select(
    items: list[HistoryItem],
    *,
    name: str | None,
    types: list[str],
    item_type: str | None,
    start: datetime | None,
    end: datetime | None,
    ascending: bool,
) -> list[HistoryItem]:
    """DescribeAlarmHistory's filters and order."""
    chosen = [
        i
        for i in items
        if (name is None or i.alarm_name == name)
        and i.alarm_type in types
        and (item_type is None or i.item_type == item_type)
        and (start is None or i.timestamp >= start)
        and (end is None or i.timestamp <= end)
    ]
    chosen.sort(key=lambda i: i.timestamp, reverse=not ascending)
    return chosen


def _date(value: object) -> datetime | None:
    """A request's timestamp (a datetime, or an ISO 8601 string) in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class _Only:
    """A stand-in backend holding only some metric data: moto's GetMetricStatistics reads its
    data through ``get_all_metrics`` and nothing else."""

    def __init__(self, data: list[MetricDatumBase]) -> None:
        self._data = data

    def get_all_metrics(self) -> list[MetricDatumBase]:
        return self._data


def _dimension_before(self: Dimension, other: Dimension) -> bool:
    return (self.name or "", self.value or "") < (other.name or "", other.value or "")


def install() -> None:
    """Record alarm history, keep an updated alarm's state, serve DescribeAlarmHistory, match
    GetMetricStatistics' dimensions exactly, and GetMetricData's whatever their order."""
    Dimension.__lt__ = _dimension_before  # type: ignore[method-assign]
    original_statistics = CloudWatchBackend.get_metric_statistics

    def get_metric_statistics(
        self: CloudWatchBackend,
        namespace: str,
        metric_name: str,
        start_time: datetime,
        end_time: datetime,
        period: int,
        stats: list[str],
        dimensions: list[dict[str, str]],
        unit: str | None = None,
    ) -> list[Statistics]:
        wanted = {d["Name"]: d.get("Value") for d in dimensions or []}
        exact = [
            datum
            for datum in self.get_all_metrics()
            if datum.namespace == namespace
            and datum.name == metric_name
            and {d.name: d.value for d in datum.dimensions} == wanted
        ]
        return original_statistics(
            _Only(exact),  # type: ignore[arg-type]
            namespace,
            metric_name,
            start_time,
            end_time,
            period,
            stats,
            dimensions,
            unit,
        )

    original_put = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(
        self: CloudWatchBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> Alarm:
        name = kwargs.get("name", args[0] if args else None)
        previous = self.alarms.get(str(name))
        alarm = original_put(self, *args, **kwargs)
        _backend_of[alarm] = self
        if previous is not None:
            alarm.state_value = previous.state_value
            alarm.state_reason = previous.state_reason
            alarm.state_reason_data = previous.state_reason_data
            alarm.state_updated_timestamp = previous.state_updated_timestamp
            _configuration_item(self, alarm, "Update")
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
            _configuration_item(self, alarm, "Create")
        return alarm

    original_delete = CloudWatchBackend.delete_alarms

    def delete_alarms(self: CloudWatchBackend, alarm_names: list[str]) -> None:
        for name in alarm_names:
            alarm = self.alarms.get(name)
            if alarm is not None:
                _configuration_item(self, alarm, "Delete")
        original_delete(self, alarm_names)

    original_update_state = Alarm.update_state

    def update_state(self: Alarm, reason: str, reason_data: str, state_value: str) -> None:
        old = _state(self)
        original_update_state(self, reason, reason_data, state_value)
        backend = _backend_of.get(self)
        if backend is None or old["stateValue"] == state_value:
            return
        data = {"version": "1.0", "oldState": old, "newState": _state(self)}
        _record(
            backend,
            HistoryItem(
                self.name,
                _type_of(self),
                _now(),
                "StateUpdate",
                f"Alarm updated from {old['stateValue']} to {state_value}",
                json.dumps(data),
            ),
        )

    def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
        backend = cloudwatch_backends[self.current_account][self.region]
        max_records = int(self._get_param("MaxRecords") or MAX_RECORDS)
        if not 1 <= max_records <= MAX_RECORDS:
            raise InvalidParameterValue(
                f"The value {max_records} for parameter MaxRecords is not in the range 1 to "
                f"{MAX_RECORDS}."
            )
        scan_by = self._get_param("ScanBy") or "TimestampDescending"
        items = select(
            history(backend),
            name=self._get_param("AlarmName"),
            types=list(self._get_param("AlarmTypes") or ["MetricAlarm"]),
            item_type=self._get_param("HistoryItemType"),
            start=_date(self._get_param("StartDate")),
            end=_date(self._get_param("EndDate")),
            ascending=scan_by == "TimestampAscending",
        )
        token = self._get_param("NextToken")
        offset = int(token) if token and str(token).isdigit() else 0
        page = items[offset : offset + max_records]
        result: dict[str, Any] = {"AlarmHistoryItems": [i.to_api() for i in page]}
        if offset + max_records < len(items):
            result["NextToken"] = str(offset + max_records)
        return ActionResult(result)

    CloudWatchBackend.get_metric_statistics = get_metric_statistics  # type: ignore[method-assign]
    CloudWatchBackend.put_metric_alarm = put_metric_alarm  # type: ignore[method-assign]
    CloudWatchBackend.delete_alarms = delete_alarms  # type: ignore[method-assign]
    Alarm.update_state = update_state  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]
