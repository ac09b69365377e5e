"""Fixtures for the ECS simulator's tests through the API: the shared emulator + simulator (the
``harness`` fixture of localcloud's pytest plugin) and a platform built in it per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from localcloud.runtime.scripted import Behaviour
from localcloud.testing.harness import Harness, World
from localcloud.testing.stacks import StackOptions, build_stack


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
