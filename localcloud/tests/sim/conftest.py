"""Fixtures for the ECS simulator's own tests: the shared emulator + simulator, boto3 clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from localcloud.sim import Behaviour
from localcloud.sim.stack import Stack, StackOptions, build_stack, client, push_image
from localcloud.sim.testing import Harness, shared_harness


@dataclass
class World:
    harness: Harness
    stack: Stack

    def client(self, service: str) -> Any:
        return client(self.harness.endpoint.url, self.stack.region, service)

    @property
    def ecs(self) -> Any:
        return self.client("ecs")

    def service(self) -> dict[str, Any]:
        return self.ecs.describe_services(
            cluster=self.stack.cluster, services=[self.stack.service]
        )["services"][0]

    def tasks(self, status: str = "RUNNING") -> list[dict[str, Any]]:
        arns = self.ecs.list_tasks(
            cluster=self.stack.cluster, serviceName=self.stack.service, desiredStatus=status
        )["taskArns"]
        return (
            self.ecs.describe_tasks(cluster=self.stack.cluster, tasks=arns)["tasks"] if arns else []
        )

    def health(self) -> list[dict[str, Any]]:
        return self.client("elbv2").describe_target_health(
            TargetGroupArn=self.stack.target_group_arn
        )["TargetHealthDescriptions"]

    def wait(
        self, predicate: Callable[[], bool], timeout: float = 20, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"{what} not reached within {timeout} s")

    def settle(self) -> None:
        self.harness.simulator.settle(self.stack.cluster, self.stack.service, 20)

    def push(self, tag: str, behaviour: Behaviour | None = None) -> str:
        if behaviour is not None:
            self.harness.runtime.script(tag, behaviour)
        return push_image(self.harness.endpoint, self.stack.repository_name, tag)

    def deploy(self, image: str, **update: Any) -> dict[str, Any]:
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
        return self.ecs.update_service(
            cluster=self.stack.cluster, service=self.stack.service, taskDefinition=arn, **update
        )["service"]


@pytest.fixture(scope="session")
def harness() -> Harness:
    return shared_harness()


@pytest.fixture
def world(harness: Harness) -> Iterator[Callable[..., World]]:
    def make(
        options: StackOptions | None = None, behaviours: dict[str, Behaviour] | None = None
    ) -> World:
        harness.reset()
        for tag, behaviour in (behaviours or {}).items():
            harness.runtime.script(tag, behaviour)
        return World(harness, build_stack(harness.endpoint, options or StackOptions()))

    yield make
    harness.simulator.forget_all()
