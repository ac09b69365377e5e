"""JSON Schema validation: pointers, no fetching, no catastrophic backtracking."""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator

import pytest
from app.processing.errors import (
    InvalidSchemaError,
    SchemaReferenceRefusedError,
    SchemaTooLargeError,
    SchemaValidationFailedError,
)
from app.processing.limits import Limits
from app.processing.schemas import SchemaCache

LIMITS = Limits()


def test_every_violation_is_reported_with_its_json_pointer() -> None:
    schema = {
        "type": "object",
        "required": ["id"],
        "properties": {
            "items": {"type": "array", "items": {"type": "integer", "maximum": 3}},
            "a/b~c": {"type": "string"},
        },
    }
    with pytest.raises(SchemaValidationFailedError) as caught:
        SchemaCache(LIMITS).validate(schema, {"items": [1, 5, "x"], "a/b~c": 1})
    errors = caught.value.extensions["errors"]
    assert {e["pointer"] for e in errors} == {
        "/data",
        "/data/items/1",
        "/data/items/2",
        "/data/a~1b~0c",
    }
    by_pointer = {e["pointer"]: e for e in errors}
    assert by_pointer["/data/items/1"]["schema_pointer"] == "/schema/properties/items/items/maximum"
    assert "required" in by_pointer["/data"]["detail"]
    assert caught.value.extensions["truncated"] is False


def test_valid_data_passes() -> None:
    SchemaCache(LIMITS).validate({"type": "array", "items": {"type": "number"}}, [1, 2.5])


def test_reported_violations_are_capped_and_marked_truncated() -> None:
    limits = Limits(max_reported_violations=5)
    with pytest.raises(SchemaValidationFailedError) as caught:
        SchemaCache(limits).validate({"items": {"type": "string"}}, list(range(50)))
    assert len(caught.value.extensions["errors"]) == 5
    assert caught.value.extensions["truncated"] is True
    assert "more than 5" in caught.value.detail


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = b'{"type": "string"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/schema+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def schema_server() -> Iterator[str]:
    """A real HTTP server holding a schema, to prove the service never asks it."""
    _CountingHandler.hits = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/schema.json"
    server.shutdown()
    server.server_close()


def test_remote_ref_is_refused_without_fetching(schema_server: str) -> None:
    with pytest.raises(SchemaReferenceRefusedError) as caught:
        SchemaCache(LIMITS).validate({"$ref": schema_server}, "x")
    assert caught.value.extensions["uri"] == schema_server
    assert _CountingHandler.hits == 0


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "file:///etc/passwd"},
        {"$id": "https://example.com/root.json", "$ref": "other.json"},
        {"properties": {"a": {"$ref": "https://example.com/a.json#/x"}}},
    ],
)
def test_file_and_relative_refs_are_refused(schema: dict[str, object]) -> None:
    with pytest.raises(SchemaReferenceRefusedError, match="never fetches"):
        SchemaCache(LIMITS).validate(schema, "x")


def test_local_refs_work() -> None:
    schema = {"$defs": {"name": {"type": "string"}}, "properties": {"n": {"$ref": "#/$defs/name"}}}
    with pytest.raises(SchemaValidationFailedError):
        SchemaCache(LIMITS).validate(schema, {"n": 1})


def test_catastrophic_backtracking_pattern_answers_in_linear_time() -> None:
    # ^(a+)+$ against "aaa...a!" takes exponential time in a backtracking engine (0.66 s at 24
    # characters in Python's re, doubling per character); the linear-time engine does not care.
    schema = {"type": "string", "pattern": "^(a+)+$"}
    # Control: the pattern really is catastrophic for a backtracking engine.
    started = time.perf_counter()
    assert re.match(schema["pattern"], "a" * 20 + "!") is None
    assert time.perf_counter() - started > 0.005
    cache = SchemaCache(LIMITS)
    started = time.perf_counter()
    with pytest.raises(SchemaValidationFailedError) as caught:
        cache.validate(schema, "a" * 50_000 + "!")
    cache.validate(schema, "a" * 50_000)
    assert time.perf_counter() - started < 0.5
    assert caught.value.extensions["errors"][0]["schema_pointer"] == "/schema/pattern"


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)b", "(?<!x)y"])
def test_backreferences_and_lookaround_are_refused_with_a_reason(pattern: str) -> None:
    with pytest.raises(InvalidSchemaError, match="linear-time engine") as caught:
        SchemaCache(LIMITS).validate({"pattern": pattern}, "a")
    assert caught.value.extensions["errors"][0]["pointer"] == "/schema/pattern"


def test_invalid_schema_points_into_the_schema() -> None:
    with pytest.raises(InvalidSchemaError) as caught:
        SchemaCache(LIMITS).validate({"properties": {"a": {"type": "nope"}}}, {})
    assert caught.value.extensions["errors"][0]["pointer"] == "/schema/properties/a/type"


def test_unknown_meta_schema_is_refused() -> None:
    with pytest.raises((InvalidSchemaError, SchemaReferenceRefusedError)):
        SchemaCache(LIMITS).validate({"$schema": "https://example.com/my-meta"}, 1)


def test_other_drafts_are_honoured() -> None:
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]}
    with pytest.raises(SchemaValidationFailedError):
        SchemaCache(LIMITS).validate(draft7, [1])


def test_schema_over_the_size_limit_is_refused() -> None:
    limits = Limits(max_schema_bytes=100)
    with pytest.raises(SchemaTooLargeError, match="limit is 100"):
        SchemaCache(limits).validate({"description": "x" * 200}, 1)


def test_equal_schemas_share_one_compiled_validator() -> None:
    cache = SchemaCache(LIMITS)
    assert cache.get({"type": "string", "minLength": 1}) is cache.get(
        {"minLength": 1, "type": "string"}
    )


def test_boolean_schemas() -> None:
    SchemaCache(LIMITS).validate(True, {"anything": 1})
    with pytest.raises(SchemaValidationFailedError):
        SchemaCache(LIMITS).validate(False, 1)
