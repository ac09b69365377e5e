"""POST /process over HTTP: results and every refusal as RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from app.problems import PROBLEM_MEDIA_TYPE, TYPE_PREFIX
from fastapi.testclient import TestClient

REFERENCE = {
    "data": {"orders": [{"id": 1, "status": "paid"}, {"id": 2, "status": "open"}]},
    "expression": "orders[?status == 'paid'].id",
    "schema": {"type": "object", "required": ["orders"]},
}


def problem(response: Any, status: int, slug: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == (TYPE_PREFIX + slug if slug else "about:blank")
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_filter_and_project(client: TestClient) -> None:
    response = client.post("/process", json=REFERENCE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"result": [1]}


def test_null_result(client: TestClient) -> None:
    assert client.post("/process", json={"data": {}, "expression": "nothing"}).json() == {
        "result": None
    }


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.x+json"],
)
def test_json_media_types_are_accepted(client: TestClient, content_type: str) -> None:
    body = orjson.dumps({"data": [1], "expression": "[0]"})
    response = client.post("/process", content=body, headers={"content-type": content_type})
    assert response.json() == {"result": 1}


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_other_media_types_get_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/process", content=b'{"data":1,"expression":"@"}', headers=headers)
    body = problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


@pytest.mark.parametrize(
    ("body", "status", "slug", "member"),
    [
        (b'{"data": 1, "expression": "@"', 400, "malformed-json", "position"),
        (b'{"data": 1, "expression": "@", "extra": true}', 422, "invalid-request", "errors"),
        (b'{"data": 1}', 422, "invalid-request", "errors"),
        (b"[]", 422, "invalid-request", "errors"),
        (b'{"data": 1, "expression": "a[?"}', 422, "expression-syntax", "position"),
        (b'{"data": 1, "expression": "frobnicate(@)"}', 422, "expression-evaluation", "function"),
        (b'{"data": "x", "expression": "abs(@)"}', 422, "expression-evaluation", "function"),
        (b'{"data": [1, 2], "expression": "@[::0]"}', 422, "expression-evaluation", "detail"),
        (
            b'{"data": [1e308, 1e308], "expression": "sum(@)"}',
            422,
            "result-not-representable",
            "pointer",
        ),
        (
            b'{"data": 1, "expression": "`{\\"a\\": 1e400}`"}',
            422,
            "result-not-representable",
            "pointer",
        ),
        (
            b'{"data": {"id": 12345678901234567890123}, "expression": "id"}',
            422,
            "number-out-of-range",
            "errors",
        ),
        (
            b'{"data": 1, "expression": "@", "schema": {"type": "nope"}}',
            422,
            "invalid-schema",
            "errors",
        ),
        (
            b'{"data": 1, "expression": "@", "schema": {"$ref": "https://example.com/s.json"}}',
            422,
            "schema-reference-refused",
            "uri",
        ),
        (
            b'{"data": 1, "expression": "@", "schema": {"type": "string"}}',
            422,
            "schema-validation",
            "errors",
        ),
        (
            b'{"data": 1, "expression": "@", "schema": {"pattern": "(a)\\\\1"}}',
            422,
            "invalid-schema",
            "errors",
        ),
    ],
)
def test_bad_input_gets_a_problem(
    client: TestClient, body: bytes, status: int, slug: str, member: str
) -> None:
    response = client.post("/process", content=body, headers={"content-type": "application/json"})
    assert member in problem(response, status, slug)


def test_ordering_a_number_against_a_string_is_null_not_an_error(client: TestClient) -> None:
    body = {"data": [1, "a", 3], "expression": "@[?@ > `1`]"}
    assert client.post("/process", json=body).json() == {"result": [3]}


def test_schema_violations_list_pointers(client: TestClient) -> None:
    body = {
        "data": {"orders": [{"id": 1}, {"id": "two"}]},
        "expression": "@",
        "schema": {
            "properties": {"orders": {"items": {"properties": {"id": {"type": "integer"}}}}}
        },
    }
    errors = problem(client.post("/process", json=body), 422, "schema-validation")["errors"]
    assert errors == [
        {
            "pointer": "/data/orders/1/id",
            "detail": '"two" is not of type "integer"',
            "schema_pointer": "/schema/properties/orders/items/properties/id/type",
        }
    ]


def test_limits_come_from_settings(make_client: Callable[..., TestClient]) -> None:
    client = make_client(
        max_expression_chars=5, max_schema_bytes=20, max_result_bytes=20, max_depth=2
    )
    problem(
        client.post("/process", json={"data": 1, "expression": "abcdef"}),
        422,
        "expression-too-large",
    )
    problem(
        client.post(
            "/process", json={"data": 1, "expression": "@", "schema": {"description": "x" * 30}}
        ),
        422,
        "schema-too-large",
    )
    problem(
        client.post("/process", json={"data": "x" * 30, "expression": "@"}), 422, "result-too-large"
    )
    body = problem(
        client.post("/process", json={"data": [[[1]]], "expression": "@"}), 422, "nesting-too-deep"
    )
    assert body["pointer"] == "/data/0/0"


def test_expensive_expression_is_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_evaluation_steps=1000)
    body = {"data": list(range(500)), "expression": "[*].[@, @, @]"}
    problem(client.post("/process", json=body), 422, "expression-too-complex")


def test_body_over_the_limit_is_refused_from_its_content_length(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_body_bytes=1024)
    body = orjson.dumps({"data": "x" * 2000, "expression": "@"})
    response = client.post("/process", content=body, headers={"content-type": "application/json"})
    assert problem(response, 413, "body-too-large")["max_bytes"] == 1024
    assert response.headers["connection"] == "close"


def test_streamed_body_over_the_limit_is_refused_while_streaming(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_body_bytes=1024)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(100):
            yield b" " * 512

    response = client.post(
        "/process", content=chunks(), headers={"content-type": "application/json"}
    )
    problem(response, 413, "body-too-large")


def test_streamed_body_under_the_limit_is_processed(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"data": [1, 2],'
        yield b' "expression": "[1]"}'

    response = client.post(
        "/process", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.json() == {"result": 2}


def test_unknown_path_and_wrong_method_are_problems(client: TestClient) -> None:
    problem(client.get("/nope"), 404, None)
    body = problem(client.get("/process"), 405, None)
    assert "POST" in body["detail"]
    assert client.get("/process").headers["allow"] == "POST"


class _Broken:
    """Stands in for the processor to provoke an unexpected failure (test-only wiring)."""

    async def handle(self, body: bytes) -> object:
        raise RuntimeError("database password is hunter2")


def test_unexpected_error_is_a_generic_500_logged_with_the_request_id(
    client: TestClient, log_lines: list[str]
) -> None:
    client.app.state.processor = _Broken()  # type: ignore[attr-defined]
    response = client.post(
        "/process", json={"data": 1, "expression": "@"}, headers={"X-Request-ID": "r-500"}
    )
    body = problem(response, 500, None)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "r-500" in body["detail"]
    errors = [orjson.loads(line) for line in log_lines if '"logger":"app.errors"' in line]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "r-500"
    assert errors[0]["error_type"] == "RuntimeError"
    access = [orjson.loads(line) for line in log_lines if '"logger":"app.access"' in line]
    assert access[0]["status"] == 500
    assert access[0]["ProcessServerErrors"] == 1


def test_cached_expression_and_schema_give_the_same_answers(client: TestClient) -> None:
    first = client.post("/process", json=REFERENCE).json()
    second = client.post("/process", json=REFERENCE).json()
    assert first == second == {"result": [1]}


def _fan_out(levels: int) -> dict[str, Any]:
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "integer"}
    return {"$ref": "#/$defs/d0", "$defs": defs}


def test_a_schema_too_costly_to_check_is_refused_at_its_deadline(
    make_client: Callable[..., TestClient], log_lines: list[str]
) -> None:
    client = make_client(schema_timeout_seconds=0.3)
    body = {"data": 0, "expression": "@", "schema": _fan_out(40)}  # 2**40 paths: hours
    response = client.post("/process", json=body, headers={"X-Request-ID": "fan-out"})
    assert problem(response, 422, "schema-too-complex")["timeout_seconds"] == 0.3
    stopped = [orjson.loads(x) for x in log_lines if '"sandbox worker stopped"' in x]
    assert [(line["request_id"], line["phase"]) for line in stopped] == [("fan-out", "validating")]
    assert client.post("/process", json=REFERENCE).json() == {"result": [1]}


def test_no_free_worker_is_a_503_with_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.processing import sandbox

    monkeypatch.setattr(sandbox, "QUEUE_SECONDS", -1.0)  # every wait is too long
    response = client.post("/process", json=REFERENCE)
    assert problem(response, 503, "busy")["retry_after_seconds"] == 1
    assert response.headers["retry-after"] == "1"
