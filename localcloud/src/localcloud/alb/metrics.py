"""The simulated ALB's CloudWatch metrics, recorded in the emulated CloudWatch as the ALB does
(namespace AWS/ApplicationELB): each with the ``LoadBalancer`` dimension, and those about a
target group's targets (``RequestCount``, ``HTTPCode_Target_*``, ``TargetResponseTime``) also
with ``TargetGroup`` and ``LoadBalancer``, the dimension set alarms on a target group use
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html)."""

from __future__ import annotations

from datetime import UTC, datetime

from moto.cloudwatch.models import cloudwatch_backends


def put_alb_metrics(
    account: str,
    region: str,
    load_balancer_dimension: str,
    counts: dict[str, float],
    *,
    target_group_dimension: str | None = None,
    response_time: float | None = None,
) -> None:
    """Add ``counts`` (metric name -> count; zeros are skipped) now; with a target group, the
    target metrics again under ``TargetGroup``/``LoadBalancer``, and ``response_time`` (seconds
    the target took) as ``TargetResponseTime`` under both."""
    now = datetime.now(UTC).replace(tzinfo=None)  # moto keeps metric times naive UTC
    by_balancer = [{"Name": "LoadBalancer", "Value": load_balancer_dimension}]
    dimension_sets = [by_balancer]
    if target_group_dimension is not None:
        dimension_sets.append(
            [{"Name": "TargetGroup", "Value": target_group_dimension}, *by_balancer]
        )
    data = []
    for dimensions in dimension_sets:
        for name, value in counts.items():
            if value:
                data.append(
                    {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count",
                     "Timestamp": now}
                )  # fmt: skip
        if response_time is not None:
            data.append(
                {"MetricName": "TargetResponseTime", "Dimensions": dimensions,
                 "Value": response_time, "Unit": "Seconds", "Timestamp": now}
            )  # fmt: skip
    if data:
        cloudwatch_backends[account][region].put_metric_data("AWS/ApplicationELB", data)
