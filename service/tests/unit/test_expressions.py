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
from hypothesis import example, given, settings
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


@pytest.mark.parametrize(
    ("expression", "data", "steps"),
    [
        # One step per element a projection visits, times the nodes evaluated on it.
        ("[*].a", [{"a": i} for i in range(10)], 10),
        ("[?a > `1`].b", [{"a": i, "b": i} for i in range(10)], 40),
        ("[?a && b].{a: a, b: b}", [{"a": i % 2 == 0, "b": i} for i in range(10)], 80),
        ("*.a", {k: {"a": 1} for k in "vwxyz"}, 5),
        # A flatten touches every element it merges, a slice every element of its input.
        ("[]", [[1, 2], [3], 4], 9),
        ("[1:3]", list(range(10)), 13),
        # Functions: their arguments' sizes; an &expression once per element.
        ("length(@)", list(range(10)), 11),
        ("map(&a, @)", [{"a": i} for i in range(10)], 21),
        ("sort_by(@, &a)[].a", [{"a": i} for i in range(10, 0, -1)], 42),
        # Walks: the JSON size of what `==` or to_string() has to walk, 16 bytes a step.
        ("a == b", {"a": [1, 2, 3], "b": [1, 2, 3]}, 4),
        ("to_string(@)", [{"key": "x" * 40}] * 4, 18),
    ],
)
def test_each_kind_of_work_costs_its_documented_steps(
    expression: str, data: Any, steps: int
) -> None:
    # The budget is exact at its boundary: `steps` is enough, one fewer is refused.
    evaluate(expression, data, Limits(max_evaluation_steps=steps))
    with pytest.raises(ExpressionTooComplexError, match=f"more than {steps - 1} steps"):
        evaluate(expression, data, Limits(max_evaluation_steps=steps - 1))


# Property: on arbitrary data and expressions built from the grammar, evaluation answers exactly
# what the library's own interpreter answers with the documented deviations (below), or refuses
# with the same kind of error, or runs out of our budget.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.floats(-3, 3, allow_nan=False)
    | st.sampled_from(["a", "b", "", "x y"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3)
    ),
    max_leaves=20,
)
#: Documents worth querying: an object or an array at the top.
documents = st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values, min_size=1) | st.lists(
    json_values, min_size=1, max_size=4
)
names = st.sampled_from(["a", "b", "c", "@"])
literals = st.sampled_from(["`1`", "`2.5`", "'b'", '`"a"`', "`null`", "`true`", "`[1]`", "`{}`"])
functions = st.sampled_from(
    ["length", "keys", "values", "sort", "to_string", "to_array", "type", "reverse", "not_null"]
)
comparators = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
exprefs = st.sampled_from(["sort_by", "max_by", "min_by"])


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(inner, inner)
        return st.one_of(
            st.tuples(inner, names).map(lambda t: f"{t[0]}.{t[1]}" if t[1] != "@" else t[0]),
            inner.map(lambda e: f"{e}[*]"),
            inner.map(lambda e: f"{e}.*"),
            inner.map(lambda e: f"{e}[]"),
            inner.map(lambda e: f"{e}[0]"),
            inner.map(lambda e: f"{e}[-1]"),
            st.tuples(inner, st.sampled_from(["::-1", "1:", ":-1", "::2", "::0"])).map(
                lambda t: f"{t[0]}[{t[1]}]"
            ),
            pair.map(lambda t: f"[{t[0]}, {t[1]}]"),
            pair.map(lambda t: f"{{k: {t[0]}, m: {t[1]}}}"),
            st.tuples(inner, names, names).map(lambda t: f"{t[0]}.{{k: {t[1]}, m: {t[2]}}}"),
            pair.map(lambda t: f"{t[0]} | {t[1]}"),
            pair.map(lambda t: f"{t[0]} || {t[1]}"),
            pair.map(lambda t: f"{t[0]} && {t[1]}"),
            st.tuples(inner, comparators, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, comparators, literals).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(literals, comparators, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            pair.map(lambda t: f"{t[0]}[?{t[1]}]"),
            st.tuples(inner, inner, comparators, literals).map(
                lambda t: f"{t[0]}[?{t[1]} {t[2]} {t[3]}]"
            ),
            st.tuples(functions, inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(exprefs, inner, inner).map(lambda t: f"{t[0]}({t[1]}, &{t[2]})"),
            pair.map(lambda t: f"map(&{t[0]}, {t[1]})"),
            pair.map(lambda t: f"merge({t[0]}, {t[1]})"),
            pair.map(lambda t: f"contains({t[0]}, {t[1]})"),
            inner.map(lambda e: f"!{e}"),
        )

    # At least one operator at the top: a bare name or literal tells little.
    return extend(st.recursive(names | literals, extend, max_leaves=6))


def _orderable(left: object, right: object) -> bool:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    both_numbers = isinstance(left, numbers) and isinstance(right, numbers)
    return both_numbers or (isinstance(left, str) and isinstance(right, str))


class _Library(jmespath.visitor.TreeInterpreter):
    """The library's interpreter with the service's documented deviations (docs/service.md),
    written the plainest way: an ordering of anything but two numbers or two strings is null;
    a slice step of 0 is an error."""

    def visit_comparator(self, node: Any, value: Any) -> Any:
        if node["value"] in ("eq", "ne"):
            return super().visit_comparator(node, value)
        left = self.visit(node["children"][0], value)
        right = self.visit(node["children"][1], value)
        if not _orderable(left, right):
            return None
        return self.COMPARATOR_FUNC[node["value"]](left, right)

    def visit_slice(self, node: Any, value: Any) -> Any:
        if isinstance(value, list) and node["children"][2] == 0:
            raise ValueError("slice step cannot be 0")
        return super().visit_slice(node, value)

    def visit_function_expression(self, node: Any, value: Any) -> Any:
        # Not a deviation of ours but a gap of the library: it type-checks only the first
        # argument of a variadic function, so merge(`{}`, `[]`) is {} there; the JMESPath
        # specification (and the service) require an object for every argument of merge.
        if node["value"] == "merge":
            for child in node["children"]:
                if not isinstance(self.visit(child, value), dict):
                    raise ValueError("merge() takes objects only")
        return super().visit_function_expression(node, value)


#: Documents for the table below: every JSON type where the expressions look, numbers 0 and 1
#: next to booleans, empty strings and containers, nesting.
DOCUMENTS: list[Any] = [
    {"a": 0, "b": 1, "c": [0, 1, 2, "x", True, None, 2.5, False, "", [], {}]},
    {
        "a": [
            {"a": 1, "b": "x"},
            {"a": 0, "b": ""},
            {"a": True, "b": None},
            {"a": -1.5, "b": "y"},
            {"b": "z"},
            3,
            None,
            "s",
            [1, 2],
        ],
        "b": {"x": {"a": 1}, "y": {"a": False}, "z": 3},
        "c": "text",
    },
    [[1, 2], [3, [4, 5]], 6, [], {"a": 1}, None],
    [0, 1, True, False, None, "", "a", [], {}, 2.5, -1],
    {"a": {"a": {"a": {"a": "deep"}}}, "b": [{"c": [1, 2]}, {"c": [3]}, {"c": 4}], "c": {}},
    [
        {"id": i, "ok": i % 3 != 0, "n": (i * 37) % 10, "s": f"v{i % 4}", "t": ["x"] * (i % 3)}
        for i in range(9)
    ],
    "text",
    None,
    1,
]

#: Every node type, each specialised shape (fields-only hashes, comparisons with a literal of
#: each type on either side) and the functions, on the documents above.
EXPRESSIONS = [
    *("a", "b.x", "c[0]", "c[-1]", "c[20]", "a[0].b", "a[*].a", "a[*].b", "b.*", "b.*.a"),
    *("*.a", "[*]", "[]", "[][]", "a[].b", "[*].t[]", "c[1:3]", "c[::2]", "c[::-1]", "c[:-1]"),
    *("[::-1]", "[-2:]", "a[::0]", "@[::0]", "[*].id", "a.a.a.a", "b[*].c", "b[].c[]"),
    *("a[?a]", "a[?b]", "a[?a > `0`]", "a[?a >= `0`].b", "a[?b < 'y']", "a[?b == 'x']"),
    *("a[?a != `1`]", "a[?`1` == a]", "a[?`0` < a]", "a[?a > `null`]", "a[?a > `true`]"),
    *("a[?a == `true`]", "a[?a == `1`]", "c[?@ > `1`]", "c[?@]", "[?@ == `0`]", "[?!@]"),
    *("c[?@ < 'b']", "[?n > 'v']", "abs(@) > `null`", "abs(@) < `[1]`", "length(@) >= `true`"),
    *("[?ok && n > `4`].{id: id, n: n}", "[?ok || n < `2`].s", "[?s >= 'v2'].id"),
    *("[?n > id]", '[?t == `["x"]`].id', "[?'v1' == s].id", "[?`{}` == t]"),
    *("a[*].{x: a, y: b}", "a[*].{x: a, y: b, x: b}", "{x: a, y: b}", "{x: a, y: c[0]}"),
    *("a[*].[a, b]", "[a, b]", "c[*].{v: @}", "a[].{k: a}", "b.*.{k: a}", "[*].{k: id}"),
    *("a || b", "a && b", "!a", "!b", "!c", "a[?!a]", "a[?a || b]", "a[?a && b].b"),
    *("!`0`", "!`0.0`", "!`[]`", "!'x'", "a == b", "c[0] == `0`", "`1` == `true`"),
    *("c[4] == `1`", "a != `0`", "c[1] == `true`", "c[7] == `0`", "a < b", "c[0] < c[3]"),
    *("length(c)", "length(a)", "keys(b)", "values(b)", "sort(c[?type(@) == 'number'])"),
    *("max(c[?type(@) == 'number'])", "sum(c[?type(@) == 'number'])", "to_string(a)"),
    *("avg([*].n)", "to_number('1.5')", "type(@)", "reverse(c)", "not_null(x, a, b)"),
    *("contains(c, `1`)", "contains(c, `true`)", "join(', ', c[?type(@) == 'string'])"),
    *("starts_with(c, 'te')", 'merge(b, `{"w": 1}`)', "merge(`{}`, a)", "abs(a)"),
    *("sort_by([*], &n)[].id", "map(&n, @)", "max_by(@, &n).id", "min_by(@, &s).id"),
    *("sort_by(a, &a)", "map(&a, a)", "floor(`2.5`)", "ceil(c[6])", "to_array(a)"),
    *("a | length(@)", "a[*].a | [0]", "b.x.a | @", "&a", "[&a][0]", "length(&a)"),
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_evaluation_matches_the_library_with_its_documented_deviations(expression: str) -> None:
    for data in DOCUMENTS:
        _check_against_the_library(expression, data)


def _check_against_the_library(expression: str, data: Any) -> None:
    try:
        expected: Any = _Library().visit(jmespath.compile(expression).parsed, data)
        failed: type[Exception] | None = None
    except (jmespath.exceptions.JMESPathError, TypeError, ValueError) as error:
        expected, failed = None, type(error)
    try:
        got = evaluate(expression, data)
    except ExpressionEvaluationError:
        assert failed is not None, f"{expression!r} on {data!r} failed here only"
        return
    except (ExpressionTooComplexError, ResultTooLargeError):
        return  # the budget is ours alone
    assert failed is None, f"{expression!r} on {data!r} succeeded here; the library: {failed}"
    assert _same(got, expected), f"{expression!r} on {data!r}: {got!r} here, {expected!r}"


@settings(max_examples=1000)
@given(data=documents, expression=_expressions())
@example(data={"c": {}, "a": []}, expression="merge(c, a).*[*][*]")  # found by a CI run
def test_evaluation_agrees_with_the_library_and_its_documented_deviations(
    data: Any, expression: str
) -> None:
    _check_against_the_library(expression, data)


def _same(left: object, right: object) -> bool:
    """Equal with the same types all the way down (Python's `==` takes 1 for True)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, jmespath.visitor._Expression):
        return True  # an &expression as a value: the library's own class on both sides
    return left == right


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
