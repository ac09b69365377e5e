"""Fixtures for the local cloud's own tests: an emulator in this process, image records pushed
over the ECR API, and helpers to find the processes the runtime starts.

``make test-localcloud`` runs them in a pytest process of their own: these tests start their own
ECS simulators (with the real-process runtime), and only one simulator may be active in a
process, so they stay apart from the tests of the shared harness (localcloud/tests/ecs).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import pytest
from localcloud.emulator import Emulator, Endpoint, client
from localcloud.images import records


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Emulator() as running:
        yield running
        running.reset()


def record_pusher(
    version: str = "1.2.3", **environment: str
) -> Callable[[Endpoint, str, str], str]:
    """A ``push(endpoint, repository, tag)`` for ``build_stack`` that records real images
    (APP_COMMIT = the tag)."""

    def push(endpoint: Endpoint, repository: str, tag: str) -> str:
        record = records.service_image(version, tag, environment)
        ecr = client(endpoint.url, endpoint.region, "ecr")
        return records.push(ecr, repository, record, [tag]).digest

    return push


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret in this process's environment, which no task may see."""
    marker = f"marker-{os.getpid()}"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", marker)
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == marker
