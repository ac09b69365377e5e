"""The per-minute metrics AWS publishes about a service, from the simulator's state.

* ``AWS/ApplicationELB`` ``HealthyHostCount`` and ``UnHealthyHostCount`` for each target group
  of the service, with the ``TargetGroup`` and ``LoadBalancer`` dimensions, as the ALB publishes
  them every minute
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html);
  the simulated ALB itself (:mod:`localcloud.alb`) records the per-request metrics.
* ``ECS/ContainerInsights`` ``DesiredTaskCount``, ``RunningTaskCount``, ``PendingTaskCount`` and
  ``DeploymentCount`` with ``ClusterName`` and ``ServiceName``, when the cluster has the
  ``containerInsights`` setting enabled
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).

CPU and memory utilisation are not published: the tasks here have no CPU or memory limits to
measure against (docs/emulator.md).
"""

from __future__ import annotations

from localcloud.ecs import backends
from localcloud.ecs.model import STARTING, Phase, ServiceRecord

MINUTE = 60.0


def load_balancer_dimension(arn: str) -> str:
    """``app/<name>/<id>``: a load balancer's ARN suffix, its CloudWatch dimension value."""
    return arn.split(":loadbalancer/", 1)[-1]


def target_group_dimension(arn: str) -> str:
    """``targetgroup/<name>/<id>``: a target group's ARN suffix, its dimension value."""
    return arn.rsplit(":", 1)[-1]


def container_insights(svc: ServiceRecord) -> bool:
    cluster = svc.backend.clusters.get(svc.cluster)
    settings = getattr(cluster, "settings", None) or []
    return any(
        s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
        for s in settings
    )


def publish_minute(svc: ServiceRecord) -> None:
    """Record one minute's datapoints for ``svc``."""
    tasks = list(svc.tasks.values())
    for balancer in svc.load_balancers:
        group_arn = balancer.get("targetGroupArn")
        group = backends.target_group(svc.account, svc.region, group_arn) if group_arn else None
        if group is None:
            continue
        targets = [t for task in tasks for t in task.targets if t.group_arn == group.arn]
        counts = {
            "HealthyHostCount": float(sum(1 for t in targets if t.state == "healthy")),
            "UnHealthyHostCount": float(sum(1 for t in targets if t.state == "unhealthy")),
        }
        for lb_arn in group.load_balancer_arns:
            backends.put_metrics(
                svc.account,
                svc.region,
                "AWS/ApplicationELB",
                {
                    "TargetGroup": target_group_dimension(group.arn),
                    "LoadBalancer": load_balancer_dimension(lb_arn),
                },
                counts,
            )
    if container_insights(svc):
        backends.put_metrics(
            svc.account,
            svc.region,
            "ECS/ContainerInsights",
            {"ClusterName": svc.cluster, "ServiceName": svc.name},
            {
                "DesiredTaskCount": float(svc.desired_count),
                "RunningTaskCount": float(sum(1 for t in tasks if t.phase == Phase.RUNNING)),
                "PendingTaskCount": float(sum(1 for t in tasks if t.phase in STARTING)),
                "DeploymentCount": float(len(svc.deployments)),
            },
        )
