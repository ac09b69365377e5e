"""Decoding a /process body (app.processing.request)."""

from __future__ import annotations

import orjson
import pytest
from app.processing.errors import (
    InvalidRequestError,
    MalformedJSONError,
    NestingTooDeepError,
    NumberOutOfRangeError,
)
from app.processing.limits import Limits
from app.processing.request import ProcessRequestBody, decode

LIMITS = Limits()


def test_a_valid_body_decodes() -> None:
    request = decode(b'{"data": {"a": 1}, "expression": "a", "schema": {"type": "object"}}', LIMITS)
    assert request.data == {"a": 1}
    assert request.expression == "a"
    assert request.schema == {"type": "object"}


def test_schema_is_optional_and_data_may_be_null() -> None:
    request = decode(b'{"data": null, "expression": "@"}', LIMITS)
    assert request.data is None
    assert request.schema is None


@pytest.mark.parametrize(
    ("body", "position"),
    [(b'{"data": 1,', 11), (b'{"data": NaN}', 9), (b"", 0), (b"\xff", 0), (b'{"a" 1}', 5)],
)
def test_malformed_json_reports_its_position(body: bytes, position: int) -> None:
    with pytest.raises(MalformedJSONError) as caught:
        decode(body, LIMITS)
    assert caught.value.extensions["position"] == position


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_the_body_must_be_an_object(body: bytes) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode(body, LIMITS)
    assert caught.value.extensions["errors"] == [{"pointer": "", "detail": "must be a JSON object"}]


def test_unknown_fields_are_refused_each_with_its_pointer() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode(b'{"data": 1, "expression": "@", "query": "x", "Schema": {}}', LIMITS)
    pointers = [e["pointer"] for e in caught.value.extensions["errors"]]
    assert pointers == ["/query", "/Schema"]
    assert "allowed fields are data, expression, schema" in caught.value.detail


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        (b'{"expression": "@"}', "/data", "required"),
        (b'{"data": 1}', "/expression", "required"),
        (b'{"data": 1, "expression": 5}', "/expression", "string"),
        (b'{"data": 1, "expression": ""}', "/expression", "at least 1"),
        (b'{"data": 1, "expression": "@", "schema": "x"}', "/schema", "object, a boolean or null"),
        (b'{"data": 1, "expression": "@", "schema": [1]}', "/schema", "object, a boolean or null"),
    ],
)
def test_missing_and_mistyped_fields(body: bytes, pointer: str, words: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode(body, LIMITS)
    (error,) = caught.value.extensions["errors"]
    assert error["pointer"] == pointer
    assert words in error["detail"]


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def test_data_at_the_depth_limit_is_accepted() -> None:
    limits = Limits(max_depth=5)
    decode(orjson.dumps({"data": _nested(5), "expression": "@"}), limits)


def test_data_deeper_than_the_limit_is_refused_with_a_pointer() -> None:
    limits = Limits(max_depth=5)
    with pytest.raises(NestingTooDeepError) as caught:
        decode(orjson.dumps({"data": {"a": _nested(5)}, "expression": "@"}), limits)
    assert caught.value.extensions["pointer"] == "/data/a/0/0/0/0"


def test_schema_deeper_than_the_limit_is_refused() -> None:
    limits = Limits(max_depth=3)
    schema = {"properties": {"a": {"properties": {"b": {}}}}}
    with pytest.raises(NestingTooDeepError) as caught:
        decode(orjson.dumps({"data": 1, "expression": "@", "schema": schema}), limits)
    assert caught.value.extensions["pointer"].startswith("/schema/properties/a")


def test_nesting_beyond_the_parser_limit_is_a_depth_error_not_a_crash() -> None:
    with pytest.raises(NestingTooDeepError):
        decode(b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b', "expression": "@"}', LIMITS)


def test_the_documented_shape_matches_the_decoder() -> None:
    properties = ProcessRequestBody.model_json_schema(by_alias=True)["properties"]
    assert set(properties) == {"data", "expression", "schema"}
    assert ProcessRequestBody.model_json_schema()["additionalProperties"] is False


@pytest.mark.parametrize(
    ("body", "where"),
    [
        # orjson reads integers outside [-2**63, 2**64 - 1] as floats: 1.2345678901234568e+22.
        (b'{"data": {"id": 12345678901234567890123}, "expression": "id"}', "/data/id"),
        (b'{"data": [0, 18446744073709551616], "expression": "@"}', "/data/1"),
        (b'{"data": [-9223372036854775809], "expression": "@"}', "/data/0"),
        (
            b'{"data": 1, "expression": "@", "schema": {"maximum": 99999999999999999999}}',
            "/schema/maximum",
        ),
        # Beyond the double range orjson refuses the number; still valid JSON: say where.
        (b'{"data": {"a/b": [1, ' + b"9" * 5000 + b']}, "expression": "@"}', "/data/a~1b/1"),
        (b'{"data": [1e400], "expression": "@"}', "/data/0"),
    ],
)
def test_an_integer_that_would_lose_digits_is_refused_with_its_pointer(
    body: bytes, where: str
) -> None:
    with pytest.raises(NumberOutOfRangeError) as caught:
        decode(body, LIMITS)
    assert caught.value.extensions["errors"][0]["pointer"] == where
    assert where in caught.value.detail


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [18446744073709551615, -9223372036854775808], "expression": "@"}',
        b'{"data": ["12345678901234567890123", "x 12345678901234567890123"], "expression": "@"}',
        b'{"data": [1.2345678901234567890123e22, 12345678901234567890.5], "expression": "@"}',
        b'{"data": {"12345678901234567890123": 1}, "expression": "@"}',
    ],
)
def test_64_bit_integers_floats_and_digits_in_strings_are_kept(body: bytes) -> None:
    assert decode(body, LIMITS).data == orjson.loads(body)["data"]


def test_60000_unknown_fields_are_counted_and_only_the_first_are_listed() -> None:
    document: dict[str, object] = {"data": 1, "expression": "@"}
    document.update({f"k{i:06d}": 0 for i in range(60_000)})
    with pytest.raises(InvalidRequestError) as caught:
        decode(orjson.dumps(document), LIMITS)
    members = caught.value.extensions
    assert members["error_count"] == 60_000
    assert members["truncated"] is True
    assert len(members["errors"]) == LIMITS.max_reported_violations  # type: ignore[arg-type]
    assert members["errors"][0] == {  # type: ignore[index]
        "pointer": "/k000000",
        "detail": "unknown field; the allowed fields are data, expression, schema",
    }
    assert len(caught.value.detail) < 500
    assert "and 59997 more" in caught.value.detail


def test_unknown_and_missing_fields_are_listed_together() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode(b'{"data": 1, "query": "x"}', LIMITS)
    listed = {e["pointer"] for e in caught.value.extensions["errors"]}  # type: ignore[attr-defined]
    assert listed == {"/expression", "/query"}
    assert caught.value.extensions["error_count"] == 2
    assert caught.value.extensions["truncated"] is False


def test_a_long_unknown_field_name_is_not_echoed_whole() -> None:
    name = "x" * 500_000
    with pytest.raises(InvalidRequestError) as caught:
        decode(orjson.dumps({"data": 1, "expression": "@", name: 1}), LIMITS)
    (error,) = caught.value.extensions["errors"]  # type: ignore[misc]
    assert len(error["pointer"]) == 256
    assert error["pointer"].endswith("…")
    assert len(caught.value.detail) < 500


def test_numbers_out_of_range_are_all_counted_and_the_first_listed() -> None:
    body = b'{"data": [' + b",".join([b"1e400", b"1", b"123456789012345678901"] * 1000) + b"]"
    body += b', "expression": "@"}'
    with pytest.raises(NumberOutOfRangeError) as caught:
        decode(body, LIMITS)
    members = caught.value.extensions
    assert members["error_count"] == 2000
    assert members["truncated"] is True
    pointers = [e["pointer"] for e in members["errors"]]  # type: ignore[attr-defined]
    assert pointers[:4] == ["/data/0", "/data/2", "/data/3", "/data/5"]
    assert len(pointers) == LIMITS.max_reported_violations
    assert "and 1999 more place(s)" in caught.value.detail
