"""Which CloudWatch alarms concern a service: ``status`` shows those in ALARM, the bake window
fails on them, ``changes`` lists their history."""

from __future__ import annotations

from opsctl.model import Alarm


def concerns(alarm: Alarm, cluster: str, service: str, group_arn: str | None) -> bool:
    """An alarm on the service (``ServiceName``/``ClusterName``), on its target group, or named
    after it (infra/modules/observability names every alarm ``<service>-<what>``)."""
    dims = dict(alarm.dimensions)
    if dims.get("ServiceName") == service and dims.get("ClusterName", cluster) == cluster:
        return True
    if group_arn and dims.get("TargetGroup") and group_arn.endswith(dims["TargetGroup"]):
        return True
    return service in alarm.name
