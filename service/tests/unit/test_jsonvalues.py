"""JSON helpers (app.processing.jsonvalues)."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from app.processing.jsonvalues import (
    UnrepresentableNumberError,
    ValueTooDeepError,
    ValueTooLargeError,
    bounded_size,
    clip,
    depth_validator,
    inexact_numbers,
    pointer,
    too_deep_at,
)
from hypothesis import given
from hypothesis import strategies as st


def test_pointer_escapes_per_rfc_6901() -> None:
    assert pointer([]) == ""
    assert pointer(["a/b", "m~n", 0, ""]) == "/a~1b/m~0n/0/"


def test_clip_marks_what_it_cut() -> None:
    assert clip("abc", 5) == "abc"
    assert clip("abcdef", 4) == "abc…"


@pytest.mark.parametrize(
    ("value", "depth"), [(1, 0), ({}, 1), ([[]], 2), ({"a": [1, {"b": {}}]}, 4)]
)
def test_depth_counts_containers(value: object, depth: int) -> None:
    assert too_deep_at(depth_validator(depth), value) is None
    if depth:
        assert too_deep_at(depth_validator(depth - 1), value) is not None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(json_values)
def test_bounded_size_is_close_to_the_real_size(value: object) -> None:
    real = len(orjson.dumps(value))
    estimate = bounded_size(value, 10**9, 200)
    # Numbers are counted as 5 bytes and strings by characters: the estimate is for limits,
    # not accounting, but must stay within a small factor of the truth.
    assert estimate >= real / 8
    assert estimate <= real * 3 + 8


def _documented_size(value: object) -> int:
    """bounded_size's estimate as its docstring states it, written recursively."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, list):
        return 2 + sum(1 + _documented_size(v) for v in value)
    if isinstance(value, dict):
        return 2 + sum(len(k) + 4 + _documented_size(v) for k, v in value.items())
    return 5


@given(json_values, st.integers(0, 400))
def test_bounded_size_is_the_documented_estimate_and_stops_only_past_the_limit(
    value: object, limit: int
) -> None:
    size = _documented_size(value)
    if size <= limit:
        assert bounded_size(value, limit, 200) == size
    else:
        with pytest.raises(ValueTooLargeError):
            bounded_size(value, limit, 200)


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"), 2**64, -(2**63) - 1])
@pytest.mark.parametrize(
    "place", [lambda v: v, lambda v: [1, v], lambda v: {"a": [{"b": "x", "c": v}]}]
)
def test_bounded_size_finds_every_number_json_cannot_carry(
    bad: float, place: Callable[[object], object]
) -> None:
    value = place(bad)
    assert bounded_size(value, 10_000, 10) > 0  # counted like any number without the check
    with pytest.raises(UnrepresentableNumberError):
        bounded_size(value, 10_000, 10, exact_numbers=True)
    assert bounded_size(place(2**64 - 1), 10_000, 10, exact_numbers=True) > 0
    assert bounded_size(place(-(2**63)), 10_000, 10, exact_numbers=True) > 0


def test_bounded_size_stops_at_the_limit_on_shared_structures() -> None:
    value: object = "x" * 10
    for _ in range(100):
        value = [value, value]  # 2**100 leaves as JSON, 100 lists in memory
    with pytest.raises(ValueTooLargeError):
        bounded_size(value, 1_000_000, 200)
    with pytest.raises(ValueTooDeepError):
        bounded_size(value, 10**30, 50)


def test_inexact_numbers_counts_all_and_lists_the_first_in_document_order() -> None:
    body = b'{"a": [1, 123456789012345678901, {"b": 1e400}], "c": 99999999999999999999}'
    assert inexact_numbers(body, 2) == ([["a", 1], ["a", 2, "b"]], 3)
    assert inexact_numbers(body, 10) == ([["a", 1], ["a", 2, "b"], ["c"]], 3)
    assert inexact_numbers(b"123456789012345678901", 10) == ([[]], 1)
    assert inexact_numbers(b'{"a": 12345678901234567890}', 10) == ([], 0)  # fits in u64
