"""CloudWatch Embedded Metric Format (EMF) for POST /process: metrics with no agent.

The access line of every /process request carries an `_aws` member, which makes CloudWatch Logs
extract metrics from it on arrival (the awslogs driver needs nothing more):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

Namespace `APP_METRICS_NAMESPACE` (default `AwsFastapiService`), one dimension set `[Service]`
(`APP_SERVICE_NAME`), metrics per request:

| metric                | unit         | value                        |
|-----------------------|--------------|------------------------------|
| `ProcessRequests`     | Count        | 1                            |
| `ProcessLatency`      | Milliseconds | time to the last body byte   |
| `ProcessClientErrors` | Count        | 1 if the status is 4xx, else 0 |
| `ProcessServerErrors` | Count        | 1 if the status is 5xx, else 0 |
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

PROCESS_PATH = "/process"

METRICS: tuple[tuple[str, str], ...] = (
    ("ProcessRequests", "Count"),
    ("ProcessLatency", "Milliseconds"),
    ("ProcessClientErrors", "Count"),
    ("ProcessServerErrors", "Count"),
)


@dataclass(frozen=True, slots=True)
class ProcessMetrics:
    """Builds the EMF members merged into the access line of a /process request."""

    namespace: str
    service: str
    _directive: list[dict[str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        directive = [
            {
                "Namespace": self.namespace,
                "Dimensions": [["Service"]],
                "Metrics": [{"Name": name, "Unit": unit} for name, unit in METRICS],
            }
        ]
        object.__setattr__(self, "_directive", directive)

    def fields(self, path: str, status: int, duration_ms: float) -> dict[str, Any] | None:
        """The EMF members for one request, or None when `path` is not measured."""
        if path != PROCESS_PATH:
            return None
        return {
            "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": self._directive},
            "Service": self.service,
            "ProcessRequests": 1,
            "ProcessLatency": duration_ms,
            "ProcessClientErrors": 1 if 400 <= status < 500 else 0,
            "ProcessServerErrors": 1 if status >= 500 else 0,
        }
