"""GET|HEAD /health and what every response carries (ids, security headers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient


def test_health_reports_ok_version_and_commit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(version="2.4.0", commit="9f3c2a1")
    response = client.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok", "version": "2.4.0", "commit": "9f3c2a1"}


def test_head_health_answers_without_a_body(client: TestClient) -> None:
    response = client.head("/health")
    assert response.status_code == 200
    assert response.content == b""


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (
        client.get("/health"),
        client.post("/process", json={"data": 1, "expression": "@"}),
        client.post("/process", content=b"{", headers={"content-type": "application/json"}),
        client.get("/missing"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers


def test_a_plausible_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "client-abc.123:x"})
    assert response.headers["x-request-id"] == "client-abc.123:x"


def test_a_request_id_is_made_when_missing_or_implausible(client: TestClient) -> None:
    made = client.get("/health").headers["x-request-id"]
    assert len(made) == 32
    assert int(made, 16) >= 0
    for bad in ("has spaces", "x" * 129, "semi;colon", "<script>"):
        echoed = client.get("/health", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert echoed != bad
        assert len(echoed) == 32


def test_one_access_line_per_request_with_ids_and_no_body(
    client: TestClient, log_lines: list[str]
) -> None:
    trace = "Root=1-67891233-abcdef012345678912345678;Sampled=1"
    client.post(
        "/process?token=should-not-be-logged",
        # pragma: allowlist nextline secret - a marker string, not a secret
        json={"data": {"secret": "body-must-not-be-logged"}, "expression": "secret"},
        headers={"X-Request-ID": "req-1", "X-Amzn-Trace-Id": trace, "User-Agent": "tests/1.0"},
    )
    access = [orjson.loads(line) for line in log_lines if '"logger":"app.access"' in line]
    assert len(access) == 1
    line = access[0]
    assert line["message"] == "request"
    assert line["request_id"] == "req-1"
    assert line["trace_id"] == trace
    assert (line["method"], line["path"], line["status"]) == ("POST", "/process", 200)
    assert line["response_bytes"] == len(b'{"result":"body-must-not-be-logged"}')
    assert line["user_agent"] == "tests/1.0"
    assert isinstance(line["duration_ms"], float)
    raw = "\n".join(log_lines)
    assert "body-must-not-be-logged" not in raw
    assert "should-not-be-logged" not in raw


def test_the_process_access_line_is_an_emf_record(
    make_client: Callable[..., TestClient], log_lines: list[str]
) -> None:
    client = make_client(service_name="orders-prod", metrics_namespace="Team/Api")
    client.post("/process", json={"data": 1, "expression": "a["})
    client.get("/health")
    lines = [orjson.loads(line) for line in log_lines if '"logger":"app.access"' in line]
    process, health = lines
    directive = process["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Team/Api"
    assert process["Service"] == "orders-prod"
    assert (process["ProcessRequests"], process["ProcessClientErrors"]) == (1, 1)
    assert process["ProcessLatency"] == process["duration_ms"]
    assert "_aws" not in health


def test_metrics_can_be_turned_off(
    make_client: Callable[..., TestClient], log_lines: list[str]
) -> None:
    make_client(metrics_enabled=False).post("/process", json={"data": 1, "expression": "@"})
    assert not any("_aws" in line for line in log_lines)


def test_lifecycle_lines(make_client: Callable[..., TestClient], log_lines: list[str]) -> None:
    make_client(version="3.0.0")
    started = [orjson.loads(line) for line in log_lines if "service started" in line]
    assert started[0]["version"] == "3.0.0"


def test_fastapi_opentelemetry_stays_off_with_a_global_provider(
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., TestClient]
) -> None:
    # The service's telemetry is the access line (with EMF); FastAPI's native OpenTelemetry is
    # off, so a tracer provider configured elsewhere in the process never sees a request.
    from opentelemetry import trace

    started: list[str] = []

    class _Tracer(trace.NoOpTracer):
        def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
            started.append(name)
            return super().start_span(name, *args, **kwargs)

        def start_as_current_span(self, name: str, *args: Any, **kwargs: Any) -> Any:
            started.append(name)
            return super().start_as_current_span(name, *args, **kwargs)

    class _Provider(trace.TracerProvider):  # a configured provider, not the API's no-op one
        def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
            return _Tracer()

    monkeypatch.setattr(trace, "get_tracer_provider", lambda: _Provider())
    client = make_client()
    assert client.get("/health").status_code == 200
    assert client.post("/process", json={"data": 1, "expression": "@"}).status_code == 200
    assert client.get("/missing").status_code == 404
    assert started == []
