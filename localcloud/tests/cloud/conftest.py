"""Fixtures for the local cloud's own tests: an emulator in this process, image records pushed
over the ECR API, and helpers to find the processes the runtime starts.

Run with ``make test-localcloud`` (``pytest -p localcloud.drill localcloud/tests/cloud``): these
tests start their own ECS simulator, so they run in a process of their own, apart from the
simulator tests opsctl's suite shares (``make test-ops``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from localcloud.emulator import Emulator, Endpoint
from localcloud.sim.stack import client

from localcloud import images


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
        record = images.service_image(version, tag, environment)
        ecr = client(endpoint.url, endpoint.region, "ecr")
        return images.push(ecr, repository, record, [tag]).digest

    return push


def processes_under(directory: Path) -> list[int]:
    """Pids of the processes whose working directory is under ``directory``."""
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            try:
                if str((entry / "cwd").readlink()).startswith(str(directory)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret in this process's environment, which no task may see."""
    marker = f"marker-{os.getpid()}"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", marker)
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == marker
