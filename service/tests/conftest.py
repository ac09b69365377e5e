"""Shared fixtures for the service tests.

Layout: unit/ (the processing core and helpers; test_sandbox starts its worker processes), api/
(the ASGI app through Starlette's TestClient), integration/ (the real `app-serve` command as a
subprocess on a free port).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from app.main import create_app
from app.settings import Settings
from hypothesis import HealthCheck, settings

settings.register_profile(
    "service", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150
)
# HYPOTHESIS_PROFILE=thorough for a long hunt (not in CI).
settings.register_profile("thorough", parent=settings.get_profile("service"), max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "service"))

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

_TOOL_MARKERS = {
    "needs_wrk": "wrk",
    "needs_podman": "podman",
    "needs_terraform": "terraform",
    "needs_chromium": "chromium",
}


def pytest_configure(config: pytest.Config) -> None:
    # Starlette deprecates driving TestClient through httpx in favour of a fork; the behaviour
    # under test is the same either way.
    config.addinivalue_line("filterwarnings", "ignore:.*httpx.*starlette.testclient")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """needs_<tool> tests skip when the tool is missing, unless STRICT_TOOLS=1 (CI)."""
    strict = os.environ.get("STRICT_TOOLS") == "1"
    for item in items:
        for marker, tool in _TOOL_MARKERS.items():
            if item.get_closest_marker(marker) and shutil.which(tool) is None and not strict:
                item.add_marker(pytest.mark.skip(reason=f"{tool} is not installed"))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Tests never see the developer's APP_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("APP_") or name in {"HOST", "PORT"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient (lifespan run) for an app made from Settings(**overrides)."""
    from fastapi.testclient import TestClient  # after pytest_configure's warning filter

    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        client = TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client for the production-default app."""
    return make_client()


class LineCollector(logging.Handler):
    """Collects the JSON lines the app's formatter produces."""

    def __init__(self) -> None:
        super().__init__()
        from app.logs import JSONFormatter

        self.setFormatter(JSONFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class _AccessCollector:
    """Stands for stdout for `app.logs.AccessLog` (which writes without the logging module)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, data: bytes) -> int:
        self.lines.extend(data.decode().splitlines())
        return len(data)

    def flush(self) -> None:
        pass


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """JSON lines written to the app's loggers during the test (access, errors, lifecycle)."""
    import app.logs

    collector = LineCollector()
    monkeypatch.setattr(app.logs, "access_stream", lambda: _AccessCollector(collector.lines))
    loggers = [logging.getLogger(name) for name in ("app", "app.access", "app.errors")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(collector)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    yield collector.lines
    for lg, (level, propagate) in zip(loggers, saved, strict=True):
        lg.removeHandler(collector)
        lg.setLevel(level)
        lg.propagate = propagate
