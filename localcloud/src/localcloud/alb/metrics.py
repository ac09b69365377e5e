"""The simulated ALB's CloudWatch metrics, recorded in the emulated CloudWatch as the ALB does
(namespace AWS/ApplicationELB, dimension LoadBalancer)."""

from __future__ import annotations

from datetime import UTC, datetime

from moto.cloudwatch.models import cloudwatch_backends


def put_alb_metrics(
    account: str, region: str, load_balancer_dimension: str, counts: dict[str, float]
) -> None:
    """Add ``counts`` (metric name -> count; zeros are skipped) at the current minute."""
    now = datetime.now(UTC).replace(tzinfo=None)  # moto keeps metric times naive UTC
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "LoadBalancer", "Value": load_balancer_dimension}],
            "Value": value,
            "Unit": "Count",
            "Timestamp": now,
        }
        for name, value in counts.items()
        if value
    ]
    if data:
        cloudwatch_backends[account][region].put_metric_data("AWS/ApplicationELB", data)
