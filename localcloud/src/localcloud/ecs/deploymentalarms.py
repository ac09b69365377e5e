"""ECS deployment alarms: CloudWatch alarms that fail a rolling deployment, and its bake time.

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html: a
service whose ``deploymentConfiguration.alarms`` is enabled (Terraform's ``aws_ecs_service``
``alarms { alarm_names, enable, rollback }``) has its deployment watched from the moment one of
the new tasks runs: if any of the named alarms is in ALARM, the deployment is FAILED (and rolled
back when ``rollback`` is true). Once the new tasks are steady and the old ones are gone, the
deployment stays IN_PROGRESS for a *bake time* during which the alarms are still watched, and
only then COMPLETES.

AWS "computes this time period based on the alarm configuration associated with the deployment"
without publishing the formula; here it is the longest time any named alarm needs to see a full
evaluation window (``Period x max(EvaluationPeriods, DatapointsToAlarm)``), or
``bakeTimeInMinutes`` when the deployment configuration sets it (the API accepts it; the AWS
provider 5.100 cannot set it). Rollback deployments are not watched by the alarms: the alarms
that failed the deployment are usually still in ALARM when its rollback begins.
"""

from __future__ import annotations

from moto.cloudwatch.models import Alarm

from localcloud.ecs import backends
from localcloud.ecs.model import ServiceRecord


def watched(svc: ServiceRecord) -> tuple[str, ...]:
    """The alarm names the service's deployments are watched by (empty: none, or disabled)."""
    alarms = svc.deployment_configuration.get("alarms") or {}
    if not alarms.get("enable"):
        return ()
    return tuple(str(name) for name in alarms.get("alarmNames") or ())


def rolls_back(svc: ServiceRecord) -> bool:
    """Whether a failure the alarms detect rolls the service back."""
    return bool((svc.deployment_configuration.get("alarms") or {}).get("rollback"))


def in_alarm(svc: ServiceRecord, names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``names`` whose alarm is in ALARM now (a name with no alarm is never)."""
    found = []
    for name in names:
        alarm = backends.metric_alarm(svc.account, svc.region, name)
        if alarm is not None and alarm.state_value == "ALARM":
            found.append(name)
    return tuple(found)


def bake_seconds(svc: ServiceRecord, names: tuple[str, ...]) -> float:
    """How long (simulated seconds) a deployment watched by ``names`` bakes once steady."""
    minutes = svc.deployment_configuration.get("bakeTimeInMinutes")
    if minutes is not None:
        return float(minutes) * 60
    longest = 0.0
    for name in names:
        alarm = backends.metric_alarm(svc.account, svc.region, name)
        if alarm is None:
            continue
        periods = max(int(alarm.evaluation_periods or 1), int(alarm.datapoints_to_alarm or 1))
        period = float(alarm.period or 0) or _query_period(alarm)
        longest = max(longest, period * periods)
    return longest


def _query_period(alarm: Alarm) -> float:
    """A metric-math alarm has no Period of its own: its queries' longest period."""
    periods = [
        float(getattr(getattr(q, "metric_stat", None), "period", 0) or 0)
        for q in alarm.metric_data_queries
    ]
    return max(periods, default=60.0)
