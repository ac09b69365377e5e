"""The /process pipeline (app.processing.engine): order of checks and the result limits."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from app.processing.engine import Processor
from app.processing.errors import (
    ExpressionSyntaxError,
    NestingTooDeepError,
    ResultNotRepresentableError,
    ResultTooLargeError,
    SchemaValidationFailedError,
)
from app.processing.limits import Limits
from app.processing.sandbox import Sandbox


def make_processor(limits: Limits) -> Processor:
    sandbox = Sandbox(limits, workers=1, schema_timeout=10, memory_bytes=256 * 1024 * 1024)
    return Processor(limits, sandbox)


def run(body: dict[str, object], limits: Limits | None = None) -> bytes:
    processor = make_processor(limits or Limits())
    try:
        return asyncio.run(processor.handle(orjson.dumps(body)))
    finally:
        processor.close()


def test_the_result_is_the_compact_json_of_the_expression_value() -> None:
    body = {
        "data": {"orders": [{"id": 1, "ok": True}, {"id": 2, "ok": False}]},
        "expression": "orders[?ok].id",
    }
    assert run(body) == b"[1]"


def test_schema_is_checked_before_the_expression_is_applied() -> None:
    body = {
        "data": {"a": "x"},
        "expression": "a",
        "schema": {"properties": {"a": {"type": "integer"}}},
    }
    with pytest.raises(SchemaValidationFailedError):
        run(body)


def test_an_expression_syntax_error_wins_over_invalid_data() -> None:
    body = {"data": "x", "expression": "a[", "schema": {"type": "integer"}}
    with pytest.raises(ExpressionSyntaxError):
        run(body)


def test_result_over_the_size_limit_is_refused() -> None:
    limits = Limits(max_result_bytes=1000)
    assert len(run({"data": ["x" * 100] * 8, "expression": "@"}, limits)) < 1000
    with pytest.raises(ResultTooLargeError, match="larger than 1000 bytes"):
        run({"data": ["x" * 100] * 20, "expression": "@"}, limits)


def test_a_small_value_with_an_exponential_json_form_is_refused_without_encoding_it() -> None:
    # 2**40 copies of the data once written out: the size walk stops at the limit.
    expression = "[@, @]" + " | [@, @]" * 39
    with pytest.raises((ResultTooLargeError, NestingTooDeepError)):
        run({"data": "x", "expression": expression})


def test_result_deeper_than_the_limit_is_refused() -> None:
    limits = Limits(max_depth=4)
    with pytest.raises(NestingTooDeepError, match="result nests deeper than 4"):
        run({"data": 1, "expression": "[[[[[@]]]]]"}, limits)


def test_an_integer_beyond_64_bits_is_not_representable() -> None:
    big = 2**62
    with pytest.raises(ResultNotRepresentableError, match="64 bits"):
        run({"data": [big, big, big, big], "expression": "sum(@)"})


@pytest.mark.parametrize(
    ("data", "expression", "where"),
    [
        # orjson writes inf and nan as null: the caller would get a wrong answer with a 200.
        ([1e308, 1e308], "sum(@)", "/result"),
        ([1e308, -1e308, 1e308, 1e308], "{total: avg(@)}", "/result/total"),
        (None, '`{"a": 1e400}`', "/result/a"),
        ({}, "[`1`, `NaN`]", "/result/1"),
        ([2**63, 2**63, 2**63], "[`0`, sum(@)]", "/result/1"),
        (None, "`123456789012345678901234567890`", "/result"),
    ],
)
def test_a_number_json_cannot_carry_is_refused_with_its_pointer(
    data: object, expression: str, where: str
) -> None:
    with pytest.raises(ResultNotRepresentableError) as caught:
        run({"data": data, "expression": expression})
    assert caught.value.extensions["pointer"] == where
    assert where in caught.value.detail


def test_large_finite_numbers_are_results_like_any_other() -> None:
    values = [1e308, 2**64 - 1, -(2**63)]
    assert orjson.loads(run({"data": values, "expression": "@"})) == values


def test_small_requests_without_a_schema_stay_on_the_event_loop() -> None:
    processor = make_processor(Limits())
    try:
        body = orjson.dumps({"data": {"a": [1, 2, 3]}, "expression": "a[?@ > `1`]"})
        assert asyncio.run(processor.handle(body)) == b"[2,3]"
        assert processor.sandbox.worker_pids() == []  # no worker was ever started
    finally:
        processor.close()


@pytest.mark.parametrize(
    "body",
    [
        # Over the inline step budget (about 30,000 steps): run again with the full one.
        {"data": list(range(10_000)), "expression": "[*].[@, @] | length(@)"},
        # Over the inline result size (about 120 KB).
        {"data": list(range(10_000)), "expression": "[*].[@, @]"},
        # A body over 32 KiB.
        {"data": ["x" * 100] * 400, "expression": "length(@)"},
        # A schema.
        {"data": 1, "expression": "@", "schema": {"type": "integer"}},
    ],
)
def test_costly_requests_run_in_the_sandbox_with_the_full_limits(body: dict[str, object]) -> None:
    processor = make_processor(Limits())
    try:
        expected = processor.core.apply(
            processor.core.compile(str(body["expression"])), body["data"], processor.limits
        )
        assert asyncio.run(processor.handle(orjson.dumps(body))) == expected
        assert len(processor.sandbox.worker_pids()) == 1
    finally:
        processor.close()
