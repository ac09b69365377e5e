"""POST /process answered in the outer ASGI layer (app.middleware.process) exactly as the router
in app.api.process answers it: same status, headers, body and access line, for every kind of
answer. The router is what OpenAPI documents; the layer is what serves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from app.main import create_app
from app.middleware.process import ProcessMiddleware
from app.settings import Settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

JSON = {"content-type": "application/json"}


def _without_layer(app: FastAPI) -> FastAPI:
    """The same app answering /process through its router (before its stack is built)."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not ProcessMiddleware]
    return app


@pytest.fixture
def pair() -> Iterator[Callable[..., tuple[TestClient, TestClient]]]:
    """Two clients on apps made from the same settings: with the layer, and without it."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> tuple[TestClient, TestClient]:
        layered = TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)
        routed = TestClient(
            _without_layer(create_app(Settings(**overrides))), raise_server_exceptions=False
        )
        for client in (layered, routed):
            client.__enter__()
            clients.append(client)
        return layered, routed

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def _chunks(*parts: bytes) -> Callable[[], Iterator[bytes]]:
    def stream() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield from parts

    return stream


_SMALL = orjson.dumps({"data": {"a": [1, 2, 3]}, "expression": "a[1]"})

#: (name, request keyword arguments): every kind of answer /process gives.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("result", {"content": _SMALL, "headers": JSON}),
    ("null result", {"content": b'{"data": {}, "expression": "x"}', "headers": JSON}),
    (
        "filter, projection and functions",
        {
            "json": {
                "data": {
                    "r": [{"id": i, "s": i * 7 % 10, "t": ["x"] * (i % 3)} for i in range(20)]
                },
                "expression": "sort_by(r[?s > `4` && length(t) > `0`], &s)[].{id: id, s: s}",
            }
        },
    ),
    (
        "media type with parameters",
        {"content": _SMALL, "headers": {"content-type": "application/json; charset=utf-8"}},
    ),
    (
        "+json media type",
        {"content": _SMALL, "headers": {"content-type": "application/problem+json"}},
    ),
    ("no media type", {"content": _SMALL}),
    ("wrong media type", {"content": _SMALL, "headers": {"content-type": "text/plain"}}),
    ("malformed JSON", {"content": b'{"data": 1,', "headers": JSON}),
    ("empty body", {"content": b"", "headers": JSON}),
    ("unknown field", {"content": b'{"data": 1, "expression": "@", "x": 1}', "headers": JSON}),
    ("not an object", {"content": b"[1]", "headers": JSON}),
    ("syntax error", {"content": b'{"data": 1, "expression": "a[?"}', "headers": JSON}),
    ("type error", {"content": b'{"data": "x", "expression": "abs(@)"}', "headers": JSON}),
    ("slice step 0", {"content": b'{"data": [1], "expression": "@[::0]"}', "headers": JSON}),
    (
        "number out of range",
        {"content": b'{"data": 123456789012345678901, "expression": "@"}', "headers": JSON},
    ),
    ("schema violation", {"json": {"data": 1, "expression": "@", "schema": {"type": "string"}}}),
    (
        "schema and result",
        {"json": {"data": {"a": 1}, "expression": "a", "schema": {"type": "object"}}},
    ),
    (
        "too costly for the event loop",
        {"json": {"data": list(range(3000)), "expression": "[*].[@, @]"}},
    ),
    ("declared body over the limit", {"content": b"x" * 2048, "headers": JSON}),
    (
        "declared body over the limit, wrong media type",
        {"content": b"x" * 2048, "headers": {"content-type": "text/plain"}},
    ),
    (
        "streamed body",
        {"content": _chunks(b'{"data": [1, 2],', b' "expression": "[1]"}'), "headers": JSON},
    ),
    ("streamed body over the limit", {"content": _chunks(*[b" " * 512] * 10), "headers": JSON}),
    (
        "streamed body over the limit, wrong media type",
        {"content": _chunks(*[b" " * 512] * 10), "headers": {"content-type": "text/plain"}},
    ),
    ("query string", {"content": _SMALL, "headers": JSON, "params": {"q": "1"}}),
    (
        "two media types, the first not JSON",
        {
            "content": _SMALL,
            "headers": [("content-type", "text/plain"), ("content-type", "application/json")],
        },
    ),
]

#: Access-line members that differ between any two requests.
_TIMING = {"time", "duration_ms", "ProcessLatency", "_aws"}


def _answer(client: TestClient, case: dict[str, Any], request_id: str) -> tuple[Any, ...]:
    case = dict(case)
    if callable(case.get("content")):
        case["content"] = case["content"]()
    given = case.pop("headers", {})
    headers = [
        *(given.items() if isinstance(given, dict) else given),
        ("x-request-id", request_id),
        ("user-agent", "parity/1"),
    ]
    response = client.post("/process", headers=headers, **case)
    return (
        response.status_code,
        sorted((k.lower(), v) for k, v in response.headers.multi_items() if k.lower() != "date"),
        response.content,
    )


def _access(lines: list[str]) -> list[dict[str, Any]]:
    access = [orjson.loads(line) for line in lines if '"logger":"app.access"' in line]
    return [{k: v for k, v in line.items() if k not in _TIMING} for line in access]


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_the_layer_answers_as_the_router(
    pair: Callable[..., tuple[TestClient, TestClient]],
    log_lines: list[str],
    name: str,
    case: dict[str, Any],
) -> None:
    layered, routed = pair(max_body_bytes=1024 if "limit" in name else 1024 * 1024)
    first = _answer(layered, case, "parity-1")
    layered_lines = _access(log_lines)
    log_lines.clear()
    second = _answer(routed, case, "parity-1")
    assert first == second
    assert layered_lines == _access(log_lines)
    assert len(layered_lines) == 1


def test_the_layer_serves_post_process_and_passes_the_rest_on(
    pair: Callable[..., tuple[TestClient, TestClient]], monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[str] = []
    answer = ProcessMiddleware._answer

    async def counting(self: ProcessMiddleware, scope: Any, receive: Any) -> Any:
        served.append(scope["method"])
        return await answer(self, scope, receive)

    monkeypatch.setattr(ProcessMiddleware, "_answer", counting)
    layered, routed = pair()
    assert layered.post("/process", content=_SMALL, headers=JSON).json() == {"result": 2}
    assert routed.post("/process", content=_SMALL, headers=JSON).json() == {"result": 2}
    assert served == ["POST"]
    assert layered.get("/process").status_code == 405
    redirect = layered.post("/process/", content=_SMALL, headers=JSON, follow_redirects=False)
    assert redirect.status_code == 307  # FastAPI's redirect to the path without the slash
    assert served == ["POST"]


class _Broken:
    """Stands in for the processor to provoke an unexpected failure (test-only wiring)."""

    async def handle(self, body: bytes) -> object:
        raise RuntimeError("database password is hunter2")


def test_an_unexpected_error_is_the_same_logged_500_on_both_paths(
    pair: Callable[..., tuple[TestClient, TestClient]], log_lines: list[str]
) -> None:
    layered, routed = pair()
    answers = []
    for client in (layered, routed):
        client.app.state.processor = _Broken()  # type: ignore[attr-defined]
        answers.append(_answer(client, {"content": _SMALL, "headers": JSON}, "r-500"))
    assert answers[0] == answers[1]
    assert answers[0][0] == 500
    assert b"hunter2" not in answers[0][2]
    errors = [orjson.loads(line) for line in log_lines if '"logger":"app.errors"' in line]
    assert [(e["request_id"], e["error_type"]) for e in errors] == [("r-500", "RuntimeError")] * 2
    layered_line, routed_line = _access(log_lines)
    assert layered_line == routed_line
    assert layered_line["status"] == 500


def test_a_client_gone_before_its_body_arrived_ends_the_same_way_on_both_paths(
    log_lines: list[str],
) -> None:
    outcomes = []
    for app in (create_app(Settings()), _without_layer(create_app(Settings()))):
        sent: list[dict[str, Any]] = []
        messages = iter(
            [
                {"type": "http.request", "body": b'{"data":', "more_body": True},
                {"type": "http.disconnect"},
            ]
        )

        async def receive(messages: Iterator[dict[str, Any]] = messages) -> dict[str, Any]:
            return next(messages)

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/process",
            "raw_path": b"/process",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"x-request-id", b"gone")],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        asyncio.run(app(scope, receive, send))
        outcomes.append([m.get("status") for m in sent if m["type"] == "http.response.start"])
    assert outcomes == [[], []], "nothing is sent to a client that is gone"
    layered_line, routed_line = _access(log_lines)
    assert layered_line == routed_line
    # A hang-up is the client's doing: never a 5xx a client could use to page on-call.
    assert layered_line["status"] == 499
    assert layered_line["ProcessServerErrors"] == 0
    assert not [line for line in log_lines if '"logger":"app.errors"' in line]
