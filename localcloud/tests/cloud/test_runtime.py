"""The simulator with real ``app-serve`` processes as tasks: health follows what the process
answers, output reaches CloudWatch Logs, a crashing image trips the circuit breaker, and no
process outlives its task or the runtime."""

from __future__ import annotations

import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from localcloud.ecs import SimConfig, Simulator
from localcloud.ecs.clock import SimClock
from localcloud.ecs.taskruntime import ContainerSpec, TaskSpec
from localcloud.emulator import Endpoint, client
from localcloud.images import records
from localcloud.images.oci import ImageConfig
from localcloud.net import QuietHTTPServer
from localcloud.runtime import processes
from localcloud.runtime.processes import ProcessRuntime
from localcloud.runtime.procs import ProcessRef
from localcloud.testing.processes import processes_under
from localcloud.testing.stacks import Stack, StackOptions, build_stack

from .conftest import record_pusher

TIME_SCALE = 0.05


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ProcessRuntime:
    root = tmp_path_factory.mktemp("runtime")
    return ProcessRuntime(
        bin_dir=Path(sys.executable).parent, work_dir=root / "tasks", pid_dir=root / "pids"
    )


@pytest.fixture(scope="module")
def simulator(endpoint: Endpoint, runtime: ProcessRuntime) -> Iterator[Simulator]:
    with Simulator(runtime, SimConfig(time_scale=TIME_SCALE, tick=0.02)) as running:
        yield running


@pytest.fixture
def sim(simulator: Simulator, endpoint: Endpoint) -> Iterator[Simulator]:
    yield simulator
    simulator.forget_all()
    endpoint.reset()


def deploy(endpoint: Endpoint, stack: Stack, tag: str) -> None:
    ecs = client(endpoint.url, endpoint.region, "ecs")
    definition = ecs.describe_task_definition(taskDefinition=stack.family)["taskDefinition"]
    container = definition["containerDefinitions"][0]
    container["image"] = f"{stack.repository_url}@{stack.digests[tag]}"
    fields = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory",
              "executionRoleArn", "containerDefinitions")  # fmt: skip
    registered = ecs.register_task_definition(**{k: definition[k] for k in fields})
    ecs.update_service(
        cluster=stack.cluster,
        service=stack.service,
        taskDefinition=registered["taskDefinition"]["taskDefinitionArn"],
    )


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return response.status, response.read()


def test_tasks_are_real_processes_health_checked_over_http(
    sim: Simulator, endpoint: Endpoint, runtime: ProcessRuntime
) -> None:
    stack = build_stack(endpoint, StackOptions(name="real", desired_count=2), push=record_pusher())
    sim.settle(stack.cluster, stack.service, timeout=60)

    processes = runtime.processes()
    assert len(processes) == 2
    assert all(ProcessRef.of(p.pid) is not None for p in processes.values())
    health = client(endpoint.url, endpoint.region, "elbv2").describe_target_health(
        TargetGroupArn=stack.target_group_arn
    )["TargetHealthDescriptions"]
    assert [t["TargetHealth"]["State"] for t in health] == ["healthy", "healthy"]

    status, body = get(f"{sim.alb_url(stack.load_balancer_arn)}/health")
    assert status == 200
    assert b'"commit":"v1"' in body  # the image record's APP_COMMIT

    task_id = next(iter(processes))
    events = client(endpoint.url, endpoint.region, "logs").filter_log_events(
        logGroupName=stack.log_group, logStreamNames=[f"ecs/app/{task_id}"]
    )["events"]
    assert any('"service started"' in e["message"] for e in events)
    assert any("ELB-HealthChecker/2.0" in e["message"] for e in events)


def test_a_crashing_image_trips_the_circuit_breaker(sim: Simulator, endpoint: Endpoint) -> None:
    stack = build_stack(endpoint, StackOptions(name="crash", desired_count=1), push=record_pusher())
    sim.settle(stack.cluster, stack.service, timeout=60)
    broken = record_pusher(APP_ENVIRONMENT="broken")(endpoint, stack.repository_name, "v2")
    stack.digests["v2"] = broken
    deploy(endpoint, stack, "v2")
    ecs = client(endpoint.url, endpoint.region, "ecs")

    def rolled_back() -> bool:
        deployments = ecs.describe_services(cluster=stack.cluster, services=[stack.service])[
            "services"
        ][0]["deployments"]
        return any(d["rolloutState"] == "FAILED" for d in deployments)

    deadline = time.monotonic() + 60
    while not rolled_back() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rolled_back()
    stopped = ecs.list_tasks(
        cluster=stack.cluster, serviceName=stack.service, desiredStatus="STOPPED"
    )["taskArns"]
    tasks = ecs.describe_tasks(cluster=stack.cluster, tasks=stopped)["tasks"]
    crashed = [t for t in tasks if t["stopCode"] == "EssentialContainerExited"]
    assert len(crashed) >= 3
    assert {t["containers"][0]["exitCode"] for t in crashed} == {2}
    lines = client(endpoint.url, endpoint.region, "logs").filter_log_events(
        logGroupName=stack.log_group, filterPattern='"invalid settings"'
    )["events"]
    assert any("APP_ENVIRONMENT" in e["message"] for e in lines)
    sim.settle(stack.cluster, stack.service, timeout=60)


def test_a_port_the_load_balancer_does_not_use_fails_the_health_checks(
    sim: Simulator, endpoint: Endpoint
) -> None:
    options = StackOptions(name="port", desired_count=1, environment={"PORT": "8081"})
    stack = build_stack(endpoint, options, push=record_pusher())
    elbv2 = client(endpoint.url, endpoint.region, "elbv2")

    def reasons() -> set[str]:
        health = elbv2.describe_target_health(TargetGroupArn=stack.target_group_arn)
        return {t["TargetHealth"].get("Reason", "") for t in health["TargetHealthDescriptions"]}

    deadline = time.monotonic() + 30
    while "Target.FailedHealthChecks" not in reasons() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Target.FailedHealthChecks" in reasons()


def test_a_killed_process_stops_its_task_with_137_and_is_replaced(
    sim: Simulator, endpoint: Endpoint, runtime: ProcessRuntime
) -> None:
    stack = build_stack(endpoint, StackOptions(name="kill", desired_count=1), push=record_pusher())
    sim.settle(stack.cluster, stack.service, timeout=60)
    (task_id, process), *_ = runtime.processes().items()
    ProcessRef.of(process.pid).signal_group(signal.SIGKILL)  # type: ignore[union-attr]
    ecs = client(endpoint.url, endpoint.region, "ecs")

    def replaced() -> bool:
        running = ecs.list_tasks(cluster=stack.cluster, serviceName=stack.service)["taskArns"]
        return bool(running) and not any(arn.endswith(task_id) for arn in running)

    deadline = time.monotonic() + 30
    while not replaced() and time.monotonic() < deadline:
        time.sleep(0.1)
    killed = ecs.describe_tasks(cluster=stack.cluster, tasks=[task_id])["tasks"][0]
    assert killed["containers"][0]["exitCode"] == 137
    assert killed["stopCode"] == "EssentialContainerExited"
    assert replaced()


def test_no_process_outlives_the_runtime(tmp_path: Path) -> None:
    # A runtime of its own, with two tasks launched directly, closed at the end.
    runtime = ProcessRuntime(
        bin_dir=Path(sys.executable).parent, work_dir=tmp_path / "tasks", pid_dir=tmp_path / "pids"
    )
    record = records.service_image("1.2.3", "close")
    container = ContainerSpec(
        name="app",
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/close:v1",
        image_digest=None,
        image_tags=("v1",),
        command=(),
        entry_point=(),
        environment={"PORT": "8000"},
        container_ports=(8000,),
        stop_timeout=30,
        image_config=ImageConfig.from_json(record.config_blob),
    )
    started = [
        runtime.launch(
            TaskSpec(
                task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/close/{name}",
                task_id=name,
                cluster="close",
                service="close",
                task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/close:1",
                container=container,
                private_ip="10.0.0.9",
                clock=SimClock(TIME_SCALE),
            )
        )
        for name in ("one", "two")
    ]
    assert len(processes_under(tmp_path / "tasks")) == 2
    assert len(list((tmp_path / "pids").glob("*.pid"))) == 2
    runtime.close(timeout=5)
    assert all(p.poll() is not None for p in started)
    assert processes_under(tmp_path / "tasks") == []
    assert list((tmp_path / "pids").glob("*.pid")) == []
    assert not (tmp_path / "tasks" / "one").exists()


def test_a_port_taken_before_the_app_binds_it_is_not_the_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another program on the machine takes the free port the task was given before app-serve
    # binds it, and answers 200 on /health. The task must not look started or healthy through
    # it: its own process cannot listen there, and exits.
    stranger = QuietHTTPServer(("127.0.0.1", 0), _AlwaysOk).serve_in_background(
        "stranger", poll_interval=0.05
    )
    port = int(stranger.server_address[1])
    monkeypatch.setattr(processes, "free_port", lambda: port)
    runtime = ProcessRuntime(
        bin_dir=Path(sys.executable).parent, work_dir=tmp_path / "tasks", pid_dir=tmp_path / "pids"
    )
    record = records.service_image("1.2.3", "taken")
    container = ContainerSpec(
        name="app",
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/taken:v1",
        image_digest=None,
        image_tags=("v1",),
        command=(),
        entry_point=(),
        environment={"PORT": "8000"},
        container_ports=(8000,),
        stop_timeout=30,
        image_config=ImageConfig.from_json(record.config_blob),
    )
    task = runtime.launch(
        TaskSpec(
            task_arn="arn:aws:ecs:us-east-1:123456789012:task/taken/one",
            task_id="one",
            cluster="taken",
            service="taken",
            task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/taken:1",
            container=container,
            private_ip="10.0.0.9",
            clock=SimClock(TIME_SCALE),
        )
    )
    try:
        assert get(f"http://127.0.0.1:{port}/health")[0] == 200  # the stranger answers
        deadline = time.monotonic() + 30
        while task.poll() is None and time.monotonic() < deadline:
            assert task.starting()
            assert task.address(8000) is None
            time.sleep(0.05)
        status = task.poll()
        assert status is not None
        assert status.exit_code != 0  # app-serve could not bind the port
        assert task.address(8000) is None
    finally:
        runtime.close(timeout=5)
        stranger.close()


class _AlwaysOk(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        del format, args
