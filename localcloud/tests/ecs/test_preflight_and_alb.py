"""What AWS checks before a task runs, the simulated ALB, resets and the runtime interface."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from localcloud.ecs import SimClock
from localcloud.ecs.taskruntime import TaskProcess, TaskSpec
from localcloud.runtime import scripted
from localcloud.runtime.scripted import Behaviour
from localcloud.testing.stacks import StackOptions

STUCK = StackOptions(circuit_breaker=False)


def first_stopped(w):
    w.wait(lambda: len(w.tasks("STOPPED")) >= 1, what="a stopped task")
    return w.tasks("STOPPED")[0]


def test_missing_image_cannot_be_pulled(world):
    w = world(STUCK)
    w.deploy(f"{w.stack.repository_url}:nope")
    task = next(t for t in [first_stopped(w)] if t)
    w.wait(
        lambda: any(t["stopCode"] == "TaskFailedToStart" for t in w.tasks("STOPPED")),
        what="a pull failure",
    )
    task = next(t for t in w.tasks("STOPPED") if t["stopCode"] == "TaskFailedToStart")
    assert task["stoppedReason"].startswith("CannotPullContainerError:")
    assert task["stoppedReason"].endswith(f"{w.stack.repository_url}:nope: not found")


def test_no_route_to_the_registry(world):
    w = world(STUCK)
    w.settle()
    ec2 = w.client("ec2")
    table = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [w.stack.subnet_ids[0]]}]
    )
    ec2.delete_route(
        RouteTableId=table["RouteTables"][0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0"
    )
    w.ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, forceNewDeployment=True)
    w.wait(
        lambda: any("i/o timeout" in (t.get("stoppedReason") or "") for t in w.tasks("STOPPED")),
        what="a timeout",
    )


def test_missing_log_group(world):
    w = world(StackOptions(circuit_breaker=False, log_group=False))
    task = first_stopped(w)
    assert task["stoppedReason"].startswith(
        "ResourceInitializationError: failed to validate logger args"
    )
    assert task["stopCode"] == "TaskFailedToStart"


def test_capacity_shortage_places_no_task(world):
    w = world(STUCK)
    w.settle()
    w.harness.simulator.set_capacity_shortage(w.stack.cluster, w.stack.service)
    w.ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, forceNewDeployment=True)
    w.wait(
        lambda: any("Capacity is unavailable" in e["message"] for e in w.service()["events"]),
        what="no capacity",
    )
    primary = w.service()["deployments"][0]
    assert (primary["runningCount"], primary["rolloutState"]) == (0, "IN_PROGRESS")
    assert w.service()["runningCount"] == 2  # the old tasks keep serving


def test_alb_routes_to_healthy_targets_and_records_metrics(world):
    w = world(behaviours={"v1": scripted.with_version(scripted.HEALTHY, "7.7.7")})
    w.settle()
    url = w.harness.simulator.alb_url(w.stack.load_balancer_arn)
    with urllib.request.urlopen(f"{url}/health", timeout=5) as response:  # noqa: S310 - the simulated ALB
        assert response.status == 200
        assert b'"version": "7.7.7"' in response.read()
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{url}/nope", timeout=5)  # noqa: S310
    assert error.value.code == 404
    from moto.cloudwatch.models import cloudwatch_backends

    names = {m.name for m in cloudwatch_backends["123456789012"]["us-east-1"].get_all_metrics()}
    assert {"RequestCount", "HTTPCode_Target_2XX_Count", "HTTPCode_Target_4XX_Count"} <= names


def test_alb_answers_503_without_targets_and_502_when_they_refuse(world):
    w = world(STUCK, {"v1": Behaviour(startup_seconds=100_000)})
    url = w.harness.simulator.alb_url(w.stack.load_balancer_arn)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{url}/", timeout=5)  # noqa: S310
    assert error.value.code == 503
    w2 = world(StackOptions(circuit_breaker=False, grace_period=3600), {"v1": scripted.WRONG_PORT})
    w2.wait(
        lambda: any(h["TargetHealth"]["State"] == "unhealthy" for h in w2.health()),
        what="unhealthy targets",
    )
    url2 = w2.harness.simulator.alb_url(w2.stack.load_balancer_arn)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{url2}/", timeout=5)  # noqa: S310 - fails open to deaf targets
    assert error.value.code == 502


def test_reset_forgets_services(world, harness):
    w = world()
    w.settle()
    harness.reset()
    with pytest.raises(KeyError):
        harness.simulator.set_capacity_shortage(w.stack.cluster, w.stack.service)


class RecordingRuntime:
    """A runtime written against the documented interface only (what the local cloud will do)."""

    def __init__(self) -> None:
        self.specs: list[TaskSpec] = []
        self.inner = scripted.ScriptedRuntime()

    def launch(self, spec: TaskSpec) -> TaskProcess:
        self.specs.append(spec)
        spec.logs.write(["hello from the runtime"])
        return self.inner.launch(spec)

    def close(self) -> None:
        self.inner.close()


def test_a_runtime_sees_the_task_definition_and_writes_logs(world, harness):
    w = world(StackOptions(environment={"LOG_LEVEL": "info"}))
    w.settle()
    recording = RecordingRuntime()
    scripted_runtime = harness.simulator.runtime
    harness.simulator.runtime = recording
    try:
        w.ecs.update_service(
            cluster=w.stack.cluster, service=w.stack.service, forceNewDeployment=True
        )
        w.settle()
    finally:
        harness.simulator.runtime = scripted_runtime
        recording.close()
    spec = recording.specs[0]
    assert spec.container.name == "app"
    assert spec.container.image_digest == w.stack.digests["v1"]
    assert spec.container.image_tags == ("v1",)
    assert spec.container.environment == {"LOG_LEVEL": "info"}
    assert spec.container.container_ports == (8000,)
    assert spec.container.stop_timeout == 30
    assert spec.service == "api"
    events = w.client("logs").get_log_events(
        logGroupName="/aws/ecs/api", logStreamName=f"ecs/app/{spec.task_id}"
    )["events"]
    assert events[0]["message"] == "hello from the runtime"


def test_clock_scales_simulated_time():
    clock = SimClock(0.01)
    assert clock.real(30) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="time_scale"):
        SimClock(0)
