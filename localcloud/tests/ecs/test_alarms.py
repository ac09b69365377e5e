"""CloudWatch alarms through boto3: evaluated on the simulator's clock from the metrics the ALB
and ECS publish, their history, and ECS deployment alarms that roll a deployment back.

The shared harness evaluates alarms only inside ``harness.evaluating_alarms()``."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions, put_target_5xx_alarm


class Traffic:
    """Requests through the simulated ALB in the background until stopped."""

    def __init__(self, world, path="/process"):
        self.world = world
        self.path = path
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.statuses.extend(self.world.traffic(1, self.path))
            self._stop.wait(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)


def alarm(w, name):
    return w.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def test_5xx_under_traffic_drive_the_target_5xx_alarm_and_back(world):
    w = world(behaviours={"v1": scripted.SERVER_ERRORS})
    w.settle()
    name = put_target_5xx_alarm(w.harness.endpoint, w.stack, "api-target-5xx")
    with w.harness.evaluating_alarms():
        w.wait(lambda: alarm(w, name)["StateValue"] == "OK", what="OK with no data")
        with Traffic(w) as traffic:
            w.wait(lambda: alarm(w, name)["StateValue"] == "ALARM", what="ALARM")
        assert set(traffic.statuses) == {500}
        described = alarm(w, name)
        assert described["StateReason"].startswith(
            "Threshold Crossed: 1 out of the last 1 datapoints"
        )
        assert "greater than or equal to the threshold (1.0)" in described["StateReason"]
        assert json.loads(described["StateReasonData"])["statistic"] == "Sum"
        w.wait(lambda: alarm(w, name)["StateValue"] == "OK", what="OK once quiet")
    history = w.client("cloudwatch").describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    change = json.loads(history[1]["HistoryData"])
    assert change["newState"]["stateValue"] == "ALARM"
    assert change["oldState"]["stateValue"] == "OK"


def test_alarm_history_filters_pages_and_outlives_the_alarm(world):
    w = world()
    cloudwatch = w.client("cloudwatch")
    # With no data and "ignore", evaluation keeps whatever state SetAlarmState gave.
    put_target_5xx_alarm(w.harness.endpoint, w.stack, "b", treat_missing_data="ignore")
    time.sleep(0.05)
    before = datetime.now(UTC)
    put_target_5xx_alarm(w.harness.endpoint, w.stack, "a", treat_missing_data="ignore")
    cloudwatch.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="drill")
    put_target_5xx_alarm(  # an update keeps the state
        w.harness.endpoint, w.stack, "a", threshold=3, treat_missing_data="ignore"
    )
    assert alarm(w, "a")["StateValue"] == "ALARM"
    cloudwatch.delete_alarms(AlarmNames=["a"])
    items = cloudwatch.describe_alarm_history(AlarmName="a")["AlarmHistoryItems"]
    summaries = [i["HistorySummary"] for i in items]
    assert summaries[0] == 'Alarm "a" deleted'
    assert 'Alarm "a" updated' in summaries
    assert 'Alarm "a" created' in summaries
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in summaries
    configuration = cloudwatch.describe_alarm_history(
        AlarmName="a", HistoryItemType="ConfigurationUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in configuration] == [
        'Alarm "a" created',
        'Alarm "a" updated',
        'Alarm "a" deleted',
    ]
    assert json.loads(configuration[1]["HistoryData"])["updatedAlarm"]["threshold"] == 3.0
    recent = cloudwatch.describe_alarm_history(StartDate=before)["AlarmHistoryItems"]
    assert {i["AlarmName"] for i in recent} == {"a"}
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        PaginationConfig={"PageSize": 2}
    )
    everything = [i for page in pages for i in page["AlarmHistoryItems"]]
    assert len(everything) == len(cloudwatch.describe_alarm_history()["AlarmHistoryItems"]) >= 5
    with pytest.raises(ClientError):
        cloudwatch.describe_alarm_history(MaxRecords=101)


def test_the_alb_and_ecs_publish_the_metrics_the_platform_alarms_on(world):
    w = world(behaviours={"v1": scripted.SERVER_ERRORS})
    w.ecs.update_cluster(
        cluster=w.stack.cluster, settings=[{"name": "containerInsights", "value": "enabled"}]
    )
    w.settle()
    w.traffic(3)
    cloudwatch = w.client("cloudwatch")
    balancer = w.stack.load_balancer_arn.split(":loadbalancer/", 1)[-1]
    group = w.stack.target_group_arn.rsplit(":", 1)[-1]
    by_group = [
        {"Name": "TargetGroup", "Value": group},
        {"Name": "LoadBalancer", "Value": balancer},
    ]

    def total(namespace, metric, dimensions, statistic="Sum"):
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=datetime.now(UTC) - timedelta(minutes=5),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=60,
            Statistics=[statistic],
        )["Datapoints"]
        return sum(p[statistic] for p in points)

    assert total("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", by_group) == 3
    # GetMetricData, the dimensions named in either order (CloudWatch ignores the order).
    for dimensions in (by_group, by_group[::-1]):
        data = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m0",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/ApplicationELB",
                            "MetricName": "HTTPCode_Target_5XX_Count",
                            "Dimensions": dimensions,
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=datetime.now(UTC) - timedelta(minutes=5),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
        )["MetricDataResults"]
        assert sum(data[0]["Values"]) == 3, dimensions
    by_balancer = [{"Name": "LoadBalancer", "Value": balancer}]
    assert total("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", by_balancer) == 3
    assert total("AWS/ApplicationELB", "TargetResponseTime", by_group, "SampleCount") == 3
    w.wait(
        lambda: total("AWS/ApplicationELB", "HealthyHostCount", by_group, "Maximum") == 2,
        what="HealthyHostCount",
    )
    service = [
        {"Name": "ClusterName", "Value": w.stack.cluster},
        {"Name": "ServiceName", "Value": w.stack.service},
    ]
    w.wait(
        lambda: total("ECS/ContainerInsights", "RunningTaskCount", service, "Maximum") == 2,
        what="RunningTaskCount",
    )


def test_a_deployment_alarm_fails_the_deployment_and_rolls_it_back(world):
    options = StackOptions(deployment_alarms=("api-target-5xx",))
    w = world(options)
    name = put_target_5xx_alarm(w.harness.endpoint, w.stack, "api-target-5xx")
    w.settle(timeout=30)  # through the bake time (one 60 s period)
    assert w.service()["deploymentConfiguration"]["alarms"] == {
        "alarmNames": [name],
        "enable": True,
        "rollback": True,
    }
    completed = w.service()["deployments"][0]["id"]
    w.push("v2", scripted.SERVER_ERRORS)  # passes the health checks, fails every request
    w.deploy(f"{w.stack.repository_url}:v2")
    arn = w.service_deployments()[0]["serviceDeploymentArn"]
    with w.harness.evaluating_alarms(), Traffic(w):
        w.wait(
            lambda: (
                w.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
                    "serviceDeployments"
                ][0]["status"]
                == "ROLLBACK_SUCCESSFUL"
            ),
            timeout=40,
            what="the alarm's rollback",
        )
    record = w.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][
        0
    ]
    assert record["alarms"] == {
        "status": "TRIGGERED",
        "alarmNames": [name],
        "triggeredAlarmNames": [name],
    }
    assert record["statusReason"] == f"ECS deployment alarms: alarm(s) in ALARM state: {name}."
    service = w.service()
    assert service["taskDefinition"].endswith(":1")
    messages = [e["message"] for e in service["events"]]
    assert f"(service api) rolling back to deployment {completed}." in messages
    assert any(m.endswith(f"deployment failed: alarm(s) {name} in ALARM state.") for m in messages)
