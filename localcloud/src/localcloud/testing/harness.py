"""One emulator and one simulator per test process, shared by every test suite that needs them.

moto's state is global to the process and only one simulator may be active, so the test suites
(localcloud's and opsctl's) share this harness instead of starting their own; :meth:`Harness.reset`
empties AWS and the scripted behaviours between tests. :class:`World` is one platform built in
it (:func:`~localcloud.testing.stacks.build_stack`) with what a test does to it and looks at.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from localcloud.ecs import SimConfig, Simulator
from localcloud.emulator import Emulator, Endpoint, client
from localcloud.runtime.scripted import Behaviour, ScriptedRuntime
from localcloud.testing.stacks import Stack, push_image

TEST_TIME_SCALE = 0.005
"""Tests run AWS's clock 200 times faster: a 30 s health-check interval lasts 0.15 s."""


@dataclass
class Harness:
    emulator: Emulator
    endpoint: Endpoint
    simulator: Simulator
    runtime: ScriptedRuntime

    def reset(self) -> None:
        self.simulator.forget_all()
        self.simulator.evaluating_alarms = False
        self.runtime.reset()
        self.endpoint.reset()

    @contextlib.contextmanager
    def evaluating_alarms(self) -> Iterator[None]:
        """CloudWatch evaluates metric alarms while the block runs (the local cloud and the
        drills always evaluate them). Off by default in the shared harness: on AWS,
        SetAlarmState holds only until the next evaluation, and tests that set an alarm's
        state to look at it would otherwise race the evaluator's next pass (0.3 s away at the
        tests' time scale)."""
        self.simulator.evaluating_alarms = True
        try:
            yield
        finally:
            self.simulator.evaluating_alarms = False

    def close(self) -> None:
        self.simulator.stop()
        self.emulator.stop()


_lock = threading.Lock()
_shared: Harness | None = None


def shared_harness() -> Harness:
    """The process's harness, started on first use and stopped at exit."""
    global _shared
    with _lock:
        if _shared is None:
            # Werkzeug logs every request; tests read AWS through boto3, not through that log.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            emulator = Emulator()
            endpoint = emulator.start()
            runtime = ScriptedRuntime()
            config = SimConfig(time_scale=TEST_TIME_SCALE, tick=0.02, evaluate_alarms=False)
            simulator = Simulator(runtime, config).start()
            _shared = Harness(emulator, endpoint, simulator, runtime)
            atexit.register(_shared.close)
        return _shared


@dataclass
class World:
    """A platform (:class:`Stack`) in the shared harness, as a test sees it through the API."""

    harness: Harness
    stack: Stack

    poll_interval = 0.05
    """Real seconds between two looks at AWS in :meth:`wait`."""

    def client(self, service: str) -> Any:  # noqa: ANN401 - any boto3 client
        return client(self.harness.endpoint.url, self.stack.region, service)

    @property
    def ecs(self) -> Any:  # noqa: ANN401 - a boto3 client
        return self.client("ecs")

    def service(self) -> dict[str, Any]:
        """DescribeServices of the stack's service."""
        described = self.ecs.describe_services(
            cluster=self.stack.cluster, services=[self.stack.service]
        )
        return dict(described["services"][0])

    def tasks(self, status: str = "RUNNING") -> list[dict[str, Any]]:
        """DescribeTasks of the service's tasks whose desired status is ``status``."""
        arns = self.ecs.list_tasks(
            cluster=self.stack.cluster, serviceName=self.stack.service, desiredStatus=status
        )["taskArns"]
        if not arns:
            return []
        return list(self.ecs.describe_tasks(cluster=self.stack.cluster, tasks=arns)["tasks"])

    def health(self) -> list[dict[str, Any]]:
        """DescribeTargetHealth of the stack's target group."""
        return list(
            self.client("elbv2").describe_target_health(TargetGroupArn=self.stack.target_group_arn)[
                "TargetHealthDescriptions"
            ]
        )

    def wait(
        self, predicate: Callable[[], bool], timeout: float = 20, what: str = "condition"
    ) -> None:
        """Poll ``predicate`` until it holds; fail the test after ``timeout`` real seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(self.poll_interval)
        raise AssertionError(f"{what} not reached within {timeout} s")

    def settle(self, timeout: float = 20) -> None:
        """Wait until the service's deployment COMPLETED (the simulator's view)."""
        self.harness.simulator.settle(self.stack.cluster, self.stack.service, timeout)

    def push(self, tag: str, behaviour: Behaviour | None = None) -> str:
        """Push image ``tag`` (behaving as ``behaviour`` when it runs); return its digest."""
        if behaviour is not None:
            self.harness.runtime.script(tag, behaviour)
        return push_image(self.harness.endpoint, self.stack.repository_name, tag)

    def deploy(self, image: str, **update: Any) -> dict[str, Any]:  # noqa: ANN401
        """Register a revision running ``image`` and UpdateService to it; the response's service."""
        current = self.ecs.describe_task_definition(taskDefinition=self.stack.family)[
            "taskDefinition"
        ]
        definitions = current["containerDefinitions"]
        definitions[0]["image"] = image
        keys = (
            "family",
            "networkMode",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "executionRoleArn",
        )
        arn = self.ecs.register_task_definition(
            containerDefinitions=definitions, **{k: current[k] for k in keys}
        )["taskDefinition"]["taskDefinitionArn"]
        updated = self.ecs.update_service(
            cluster=self.stack.cluster, service=self.stack.service, taskDefinition=arn, **update
        )
        return dict(updated["service"])

    def service_deployments(self, **filters: Any) -> list[dict[str, Any]]:  # noqa: ANN401
        """ListServiceDeployments of the service (newest first), every page."""
        found: list[dict[str, Any]] = []
        request = {"cluster": self.stack.cluster, "service": self.stack.service, **filters}
        while True:
            page = self.ecs.list_service_deployments(**request)
            found.extend(page["serviceDeployments"])
            if not page.get("nextToken"):
                return found
            request["nextToken"] = page["nextToken"]

    def traffic(self, count: int, path: str = "/process", body: bytes = b"{}") -> list[int]:
        """Send ``count`` requests through the simulated ALB (POST with ``body``, GET without);
        the status codes it answered."""
        url = urllib.parse.urlsplit(self.harness.simulator.alb_url(self.stack.load_balancer_arn))
        statuses = []
        for _ in range(count):
            connection = http.client.HTTPConnection(
                url.hostname or "127.0.0.1", url.port, timeout=5
            )
            try:
                method = "POST" if body else "GET"
                headers = {"Content-Type": "application/json"} if body else {}
                connection.request(method, path, body=body or None, headers=headers)
                statuses.append(connection.getresponse().status)
            finally:
                connection.close()
        return statuses
