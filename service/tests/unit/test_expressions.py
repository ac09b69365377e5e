"""JMESPath compilation and bounded evaluation (app.processing.expressions)."""

from __future__ import annotations

import time
from typing import Any

import jmespath
import pytest
from app.processing.errors import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    ExpressionTooComplexError,
    ExpressionTooLargeError,
    ResultTooLargeError,
)
from app.processing.expressions import ExpressionCache
from app.processing.limits import Limits
from hypothesis import given
from hypothesis import strategies as st

LIMITS = Limits()


def evaluate(expression: str, data: Any, limits: Limits = LIMITS) -> Any:
    return ExpressionCache(limits).get(expression).evaluate(data, limits)


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("a.[", 3),  # ends early
        ("foo[?bar ==]", 11),
        ("a ~ b", 2),  # lexer: unknown character
        ("a.'b", 2),  # lexer: unterminated raw string
        ("[1, 2", 2),  # `[1` is an index: the comma is the unexpected token
    ],
)
def test_syntax_errors_report_the_position(expression: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        ExpressionCache(LIMITS).get(expression)
    assert caught.value.extensions["position"] == position
    assert f"position {position}" in caught.value.detail


def test_unknown_function_is_refused_before_any_data_is_seen() -> None:
    with pytest.raises(ExpressionEvaluationError, match=r"Unknown function nope\(\)"):
        ExpressionCache(LIMITS).get("items[*].nope(@)")


def test_wrong_arity_is_refused_at_compile_time() -> None:
    with pytest.raises(ExpressionEvaluationError, match=r"length\(\) takes 1 argument"):
        ExpressionCache(LIMITS).get("length(a, b)")


def test_type_error_names_the_function_and_types_but_not_the_data() -> None:
    secret = "s3cr3t-value-that-must-not-echo"  # pragma: allowlist secret - a marker string
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate("sort(@)", [1, secret])
    assert "sort()" in caught.value.detail
    assert secret not in caught.value.detail


def test_expression_longer_than_the_limit_is_refused() -> None:
    limits = Limits(max_expression_chars=10)
    with pytest.raises(ExpressionTooLargeError, match="11 characters; the limit is 10"):
        ExpressionCache(limits).get("a" * 11)


def test_deeply_nested_expression_is_refused_not_crashed() -> None:
    with pytest.raises(ExpressionTooComplexError):
        ExpressionCache(Limits(max_expression_chars=10_000)).get("(" * 2000 + "a" + ")" * 2000)


def test_compiled_expressions_are_cached() -> None:
    cache = ExpressionCache(LIMITS)
    assert cache.get("a.b") is cache.get("a.b")


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ("records[?active].id", {"records": [{"id": 1, "active": True}, {"id": 2}]}, [1]),
        ("[?@ > `1`]", [1, 2, 3], [2, 3]),
        ("*.x", {"a": {"x": 1}, "b": {"x": 2}}, [1, 2]),
        ("a[].b[]", {"a": [{"b": [1, 2]}, {"b": [3]}]}, [1, 2, 3]),
        ("a[1:3]", {"a": [0, 1, 2, 3]}, [1, 2]),
        ("sort_by(a, &k)[].k", {"a": [{"k": 2}, {"k": 1}]}, [1, 2]),
        ("map(&to_string(@), a)", {"a": [1, [2]]}, ["1", "[2]"]),
        ("join(',', a)", {"a": ["x", "y"]}, "x,y"),
        ("contains(a, `[1]`)", {"a": [[1], 2]}, True),
        ("a == b", {"a": {"x": [1]}, "b": {"x": [1]}}, True),
        ("[?@]", [0, "", [], {}, None, False, 1], [0, 1]),  # JMESPath truthiness: 0 is true
        ("missing", {"a": 1}, None),
    ],
)
def test_evaluation_matches_jmespath(expression: str, data: Any, expected: Any) -> None:
    assert evaluate(expression, data) == expected
    assert jmespath.search(expression, data) == expected


def test_variadic_arguments_are_type_checked() -> None:
    # jmespath itself checks only merge()'s first argument and then fails inside dict.update.
    with pytest.raises(ExpressionEvaluationError, match=r"merge\(\)"):
        evaluate("merge(`{}`, a)", [])


def test_doubling_pipes_are_stopped_by_the_step_budget_quickly() -> None:
    # 60 doublings: 2**60 references in the result; flattening it would never finish.
    expression = "[@, @]" + " | [@, @]" * 60 + " | [][][][][][][][][][][][][][][][][][][][][][][]"
    started = time.perf_counter()
    with pytest.raises(ExpressionTooComplexError, match="steps"):
        evaluate(expression, 1)
    assert time.perf_counter() - started < 5


def test_to_string_of_an_exponential_value_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(ResultTooLargeError, match=r"to_string\(\)"):
        evaluate("to_string([@, @]" + " | [@, @]" * 60 + ")", "x")
    assert time.perf_counter() - started < 5


def test_equality_of_exponential_values_is_refused_quickly() -> None:
    side = "([@, @]" + " | [@, @]" * 60 + ")"
    started = time.perf_counter()
    with pytest.raises(ExpressionTooComplexError):
        evaluate(f"{side} == {side}", 1)
    assert time.perf_counter() - started < 5


def test_join_building_a_huge_string_is_refused() -> None:
    limits = Limits(max_result_bytes=1000)
    with pytest.raises(ResultTooLargeError, match=r"join\(\)"):
        evaluate(
            "join(to_string(@), [to_string(@), to_string(@), to_string(@)])", "x" * 400, limits
        )


def test_nested_projections_over_shared_lists_run_out_of_steps() -> None:
    limits = Limits(max_evaluation_steps=10_000)
    data = list(range(100))
    with pytest.raises(ExpressionTooComplexError):
        evaluate(
            "[@, @, @, @, @, @, @, @, @, @] | [@, @, @, @, @, @, @, @, @, @] | [*][*][*].a",
            data,
            limits,
        )


def test_the_reference_workload_fits_the_default_budget_with_room_to_spare() -> None:
    records = [{"id": i, "active": i % 2 == 0, "score": i} for i in range(100)]
    tight = Limits(max_evaluation_steps=2_000)
    result = evaluate(
        "records[?active && score > `50`].{id: id, score: score}", {"records": records}, tight
    )
    assert len(result) == 24


# Property: on arbitrary data and expressions built from the grammar, the bounded interpreter
# answers exactly what the stock jmespath interpreter answers (or refuses with our own error).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["a", "b", "", "x y"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3)
    ),
    max_leaves=20,
)
names = st.sampled_from(["a", "b", "c", "@"])
functions = st.sampled_from(
    ["length", "keys", "values", "sort", "to_string", "to_array", "type", "reverse"]
)


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, names).map(lambda t: f"{t[0]}.{t[1]}" if t[1] != "@" else t[0]),
            inner.map(lambda e: f"{e}[*]"),
            inner.map(lambda e: f"{e}[]"),
            inner.map(lambda e: f"{e}[0]"),
            inner.map(lambda e: f"{e}[::-1]"),
            st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
            st.tuples(inner, inner).map(lambda t: f"{{k: {t[0]}, m: {t[1]}}}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]} | {t[1]}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]} || {t[1]}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]} == {t[1]}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[?{t[1]}]"),
            st.tuples(functions, inner).map(lambda t: f"{t[0]}({t[1]})"),
            inner.map(lambda e: f"!{e}"),
        )

    return st.recursive(names, extend, max_leaves=8)


@given(data=json_values, expression=_expressions())
def test_bounded_interpreter_agrees_with_jmespath(data: Any, expression: str) -> None:
    try:
        expected: Any = jmespath.search(expression, data)
        failed: type[Exception] | None = None
    except jmespath.exceptions.JMESPathError as error:
        expected, failed = None, type(error)
    try:
        got = evaluate(expression, data)
    except ExpressionEvaluationError:
        assert failed is not None, f"{expression!r} failed here but not in jmespath"
        return
    except (ExpressionTooComplexError, ResultTooLargeError):
        return  # the budget is ours alone
    assert failed is None, f"{expression!r} succeeded here but jmespath raised {failed}"
    assert got == expected


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        # JMESPath: an ordering comparison of anything but two numbers is null, so the filter
        # drops the element (jmespath also orders two strings; kept: callers rely on it).
        ("[?@ > `1`]", [1, "a", 3, None, True, [2], {"a": 2}], [3]),
        ("[?@ < 'b']", ["a", 1, "c"], ["a"]),
        ("a < b", {"a": "x", "b": 1}, None),
        ("a >= b", {"a": 1, "b": "x"}, None),
        ("a <= b", {"a": 2, "b": 2.5}, True),
        ("a > b", {"a": True, "b": False}, None),
    ],
)
def test_ordering_of_values_that_are_not_both_numbers_is_null(
    expression: str, data: Any, expected: Any
) -> None:
    # https://jmespath.org/specification.html#comparison-operators
    assert evaluate(expression, data) == expected


def test_a_slice_step_of_zero_is_an_invalid_value_error_not_a_function_error() -> None:
    # The specification makes step 0 an invalid-value error:
    # https://jmespath.org/specification.html#slices
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate("@[::0]", [1, 2])
    assert "step" in caught.value.detail
    assert "0" in caught.value.detail
    assert "function" not in caught.value.detail
    # Like every slice, it is null on anything but an array.
    assert evaluate("a[::0]", {"a": "text"}) is None
