"""Which CloudWatch alarms concern a service: the rule ``status`` and the bake window share."""

from __future__ import annotations


def concerns(
    name: str,
    dimensions: tuple[tuple[str, str], ...],
    cluster: str,
    service: str,
    group_arn: str | None,
) -> bool:
    """An alarm on the service (``ServiceName``/``ClusterName``), on its target group, or named
    after it (infra/modules/observability names every alarm ``<service>-<what>``)."""
    dims = dict(dimensions)
    if dims.get("ServiceName") == service and dims.get("ClusterName", cluster) == cluster:
        return True
    if group_arn and dims.get("TargetGroup") and group_arn.endswith(dims["TargetGroup"]):
        return True
    return service in name
