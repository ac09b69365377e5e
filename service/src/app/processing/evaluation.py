"""JMESPath evaluation with a bounded amount of work: the AST compiled once into closures.

`compile_tree` turns the AST that `jmespath`'s parser produced into one Python closure per node,
each taking `(value, run)`. The closures do what jmespath's `TreeInterpreter` does for that node
(jmespath/visitor.py, 1.1.0; each says where it differs), and the built-in functions are the
library's own (`jmespath.functions.Functions`). Why closures rather than the library's visitor:
the visitor looks the node type up, then the method, then the children in the node's dict, for
every node on every value; a closure has all of that bound when the expression is compiled (and
compiled expressions are cached), so the reference workload takes a fifth of the library
interpreter's instructions and a third of the visitor this module replaced (`make
bench-instructions`, docs/performance.md). The results are the library's: the tests compare
the two on generated and hand-picked expressions, and run the JMESPath compliance suite.

An expression is untrusted input and JMESPath can ask for far more work than its size suggests:

* `[@, @] | [@, @] | [@, @] | ...` doubles the result at every pipe: 120 pipes fit in 1 KiB and
  describe a value 2**120 times the input. Nothing is copied (the lists share references), so
  memory stays small until something walks the value: a `to_string()`, an `==`, a flatten `[]`,
  a nested projection or the final JSON encoding would then never finish.
* `to_string(to_string(...))` doubles every escaping backslash per level.

So every evaluation charges a `Budget` for everything whose cost is not O(1): every element a
projection or an `&expression` function visits (times the size of the sub-expression evaluated
for it), every element a flatten, slice or function touches, and the size of any value an `==`,
`contains()` or `to_string()` has to walk (measured with `bounded_size`, which stops at the
limit). When the budget runs out, evaluation stops with `ExpressionTooComplexError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jmespath import exceptions as jp_errors
from jmespath import functions as jp_functions
from jmespath import visitor as jp_visitor

from app.processing.errors import (
    ExpressionEvaluationError,
    ExpressionTooComplexError,
    ResultTooLargeError,
)
from app.processing.jsonvalues import ValueTooDeepError, ValueTooLargeError, bounded_size
from app.processing.limits import ORJSON_MAX_DEPTH

if TYPE_CHECKING:
    # jmespath's AST: dicts with "type", "children" and "value" (see jmespath/parser.py).
    from jmespath.visitor import _TreeNode as Node

#: Functions whose `&expression` argument is evaluated once per array element.
_EXPREF_FUNCTIONS = frozenset({"map", "sort_by", "min_by", "max_by"})

#: One step stands for about one AST node evaluated on one value; byte-level work done in C
#: (string joins, JSON encoding) is charged one step per this many bytes.
_BYTES_PER_STEP = 16

#: jmespath's `==` (numbers 0 and 1 never equal booleans) and ordering functions.
_EQUALS: Callable[[object, object], bool] = jp_visitor.TreeInterpreter.COMPARATOR_FUNC["eq"]
_ORDERINGS: Mapping[str, Callable[[Any, Any], bool]] = {
    name: jp_visitor.TreeInterpreter.COMPARATOR_FUNC[name] for name in ("lt", "lte", "gt", "gte")
}


class Budget:
    """The steps one evaluation may still take."""

    __slots__ = ("limit", "remaining")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    def charge(self, steps: int) -> None:
        """Take `steps`; ExpressionTooComplexError once the budget is overdrawn."""
        self.remaining -= steps
        if self.remaining < 0:
            raise ExpressionTooComplexError(
                f"Evaluating the expression on this data needs more than {self.limit} steps "
                "(each element a projection, filter or function visits counts).",
                max_steps=self.limit,
            )


def _json_type(value: object) -> str:
    """The JMESPath type name of a value (for the variadic-argument check)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _physical_size(value: object) -> int:
    if isinstance(value, (list, dict)):
        return len(value)
    if isinstance(value, str):
        return len(value) // _BYTES_PER_STEP
    return 0


def _walk_steps(value: object, max_string: int, what: str) -> int:
    """Steps to charge for walking a container (its JSON size / `_BYTES_PER_STEP`); refuses one
    larger than `max_string` bytes or nested too deeply before walking all of it."""
    try:
        size = bounded_size(value, max_string, ORJSON_MAX_DEPTH)
    except ValueTooLargeError:
        raise ResultTooLargeError(
            f"{what} would walk a value larger than {max_string} bytes as JSON.",
            max_bytes=max_string,
        ) from None
    except ValueTooDeepError:
        raise ExpressionTooComplexError(f"{what} would walk a value nested too deeply.") from None
    return size // _BYTES_PER_STEP


class BoundedFunctions(jp_functions.Functions):
    """jmespath's built-in functions, charged to the budget before they run."""

    def __init__(self, budget: Budget, costs: Mapping[int, int], max_string: int) -> None:
        self._budget = budget
        self._costs = costs
        self._max_string = max_string

    def call_function(self, function_name: str, resolved_args: Iterable[Any]) -> Any:  # noqa: ANN401
        resolved_args = list(resolved_args)
        budget = self._budget
        steps = 1
        for arg in resolved_args:
            steps += _physical_size(arg)
        budget.charge(steps)
        if function_name in _EXPREF_FUNCTIONS and len(resolved_args) == 2:
            array, expref = (
                (resolved_args[1], resolved_args[0])
                if function_name == "map"
                else (resolved_args[0], resolved_args[1])
            )
            if isinstance(array, list) and isinstance(expref, jp_visitor._Expression):
                budget.charge(len(array) * self._costs.get(id(expref.expression), 1))
        elif function_name == "to_string" and resolved_args:
            self._charge_walk(resolved_args[0], "to_string()")
        elif function_name == "contains" and len(resolved_args) == 2:
            if isinstance(resolved_args[1], (list, dict)):
                self._charge_walk(resolved_args[0], "contains()")
                self._charge_walk(resolved_args[1], "contains()")
        elif function_name == "join" and len(resolved_args) == 2:
            separator, items = resolved_args
            if isinstance(separator, str) and isinstance(items, list):
                size = len(separator) * max(len(items) - 1, 0)
                size += sum(len(i) for i in items if isinstance(i, str))
                if size > self._max_string:
                    raise ResultTooLargeError(
                        f"join() would build a string of {size} characters; the limit is "
                        f"{self._max_string}.",
                        max_bytes=self._max_string,
                    )
                budget.charge(size // _BYTES_PER_STEP)
        spec = self.FUNCTION_TABLE.get(function_name)
        if spec is not None:
            signature = spec["signature"]
            if signature and signature[-1].get("variadic"):
                # jmespath type-checks only the declared arguments of a variadic function, so
                # merge({}, null) reached dict.update(None). Check the extra ones the same way.
                types = signature[-1]["types"]
                for extra in resolved_args[len(signature) :]:
                    if types and _json_type(extra) not in types:
                        raise jp_errors.JMESPathTypeError(
                            function_name, extra, _json_type(extra), types
                        )
        return super().call_function(function_name, resolved_args)

    def _charge_walk(self, value: object, what: str) -> None:
        if isinstance(value, (list, dict)):
            self._budget.charge(_walk_steps(value, self._max_string, what))


class Run:
    """The state of one evaluation: its budget, the functions charging it, the size limit of
    any value walked or string built."""

    __slots__ = ("budget", "functions", "max_string")

    def __init__(self, budget: Budget, costs: Mapping[int, int], max_string: int) -> None:
        self.budget = budget
        self.functions = BoundedFunctions(budget, costs, max_string)
        self.max_string = max_string

    def charge_compare(self, left: object, right: object) -> None:
        """Charge the walk `==` makes of container operands."""
        for side in (left, right):
            if isinstance(side, (list, dict)):
                try:
                    size = bounded_size(side, self.max_string, ORJSON_MAX_DEPTH)
                except (ValueTooLargeError, ValueTooDeepError):
                    raise ExpressionTooComplexError(
                        "A comparison would walk a value too large or too deeply nested."
                    ) from None
                self.budget.charge(size // _BYTES_PER_STEP + 1)


#: A compiled node: its value for the input value, within the run's budget.
Evaluator = Callable[[Any, Run], Any]


def _is_true(value: object) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; everything else (0 too) is true.
    https://jmespath.org/specification.html#or-expressions (the library's `_is_true`)."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def _orderable(left: object, right: object) -> bool:
    """Whether `<` and friends apply: two numbers (booleans are not numbers) or two strings."""
    if isinstance(left, str):
        return isinstance(right, str)
    return (
        isinstance(left, int | float)
        and not isinstance(left, bool)
        and isinstance(right, int | float)
        and not isinstance(right, bool)
    )


class _ExprefVisitor(jp_visitor.Visitor):
    """What an `&expression` argument carries to the library's functions: they evaluate it per
    element as `expref.visit(expref.expression, element)`, which calls `visit` here."""

    def __init__(self, evaluate: Evaluator, run: Run) -> None:
        super().__init__()
        self.evaluate = evaluate
        self.run = run

    def visit(self, node: Node, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        (value,) = args
        return self.evaluate(value, self.run)


def compile_tree(node: Node, costs: Mapping[int, int]) -> Evaluator:
    """The closure evaluating `node` (and its sub-tree); `costs` maps the identity of every node
    to the number of nodes in its sub-tree (what one element of a projection is charged).

    Raises ExpressionEvaluationError for a node type this module does not know (jmespath's
    parser produces none); RecursionError for a tree too deep to compile.
    """
    kind = node["type"]
    children: list[Any] = node.get("children", [])
    if kind == "field":
        return _field(node["value"])
    if kind in ("current", "identity"):
        return _current
    if kind == "literal":
        return _literal(node["value"])
    if kind in ("subexpression", "index_expression", "pipe"):
        return _chain([compile_tree(child, costs) for child in children])
    if kind == "index":
        return _index(node["value"])
    if kind == "key_val_pair":
        return compile_tree(children[0], costs)
    if kind == "multi_select_dict":
        if all(child["children"][0]["type"] == "field" for child in children):
            return _multi_select_fields(
                [(child["value"], child["children"][0]["value"]) for child in children]
            )
        return _multi_select_dict(
            [(child["value"], compile_tree(child, costs)) for child in children]
        )
    if kind == "multi_select_list":
        return _multi_select_list([compile_tree(child, costs) for child in children])
    if kind == "or_expression":
        return _or(compile_tree(children[0], costs), compile_tree(children[1], costs))
    if kind == "and_expression":
        return _and(compile_tree(children[0], costs), compile_tree(children[1], costs))
    if kind == "not_expression":
        return _not(compile_tree(children[0], costs))
    if kind == "comparator":
        left, right = compile_tree(children[0], costs), compile_tree(children[1], costs)
        operator = node["value"]
        if operator in ("eq", "ne"):
            return _equality(left, right, negate=operator == "ne")
        if children[1]["type"] == "literal":
            return _ordering_constant(left, children[1]["value"], _ORDERINGS[operator])
        return _ordering(left, right, _ORDERINGS[operator])
    if kind in ("projection", "value_projection"):
        base, each = children
        return _projection(
            compile_tree(base, costs),
            compile_tree(each, costs),
            costs.get(id(each), 1),
            over_values=kind == "value_projection",
        )
    if kind == "filter_projection":
        base, each, condition = children
        return _filter_projection(
            compile_tree(base, costs),
            compile_tree(each, costs),
            compile_tree(condition, costs),
            costs.get(id(each), 1) + costs.get(id(condition), 1),
        )
    if kind == "flatten":
        return _flatten(compile_tree(children[0], costs))
    if kind == "slice":
        return _slice(*children)
    if kind == "function_expression":
        return _function(node["value"], [compile_tree(child, costs) for child in children])
    if kind == "expref":
        return _expref(children[0], compile_tree(children[0], costs))
    raise ExpressionEvaluationError(f"Unsupported expression node {str(kind)[:40]!r}.")


# Each builder below returns the closure for one node type. "As the library" means the same
# result as the TreeInterpreter method of that name for every JSON value.


def _field(key: str) -> Evaluator:
    def field(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_field: only objects have members (the library asks `value.get`, which among
        # JSON values only objects have).
        return value.get(key) if isinstance(value, dict) else None

    return field


def _current(value: Any, run: Run) -> Any:  # noqa: ANN401
    return value


def _literal(constant: object) -> Evaluator:
    def literal(value: Any, run: Run) -> Any:  # noqa: ANN401
        return constant

    return literal


def _chain(steps: list[Evaluator]) -> Evaluator:
    # As visit_subexpression, visit_index_expression and visit_pipe: each step on the last.
    if len(steps) == 2:
        first, second = steps

        def pair(value: Any, run: Run) -> Any:  # noqa: ANN401
            return second(first(value, run), run)

        return pair

    def chain(value: Any, run: Run) -> Any:  # noqa: ANN401
        for step in steps:
            value = step(value, run)
        return value

    return chain


def _index(position: int) -> Evaluator:
    def index(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_index: arrays only (not strings); out of range is null.
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return index


def _multi_select_dict(pairs: list[tuple[str, Evaluator]]) -> Evaluator:
    def multi_select_dict(value: Any, run: Run) -> Any:  # noqa: ANN401
        if value is None:
            return None
        return {key: evaluate(value, run) for key, evaluate in pairs}

    return multi_select_dict


def _multi_select_fields(pairs: list[tuple[str, str]]) -> Evaluator:
    # A multi-select hash whose values are all plain fields (`{id: id, name: name}`, the
    # common projection): the fields read in one comprehension instead of one closure each.
    keys = [key for key, _ in pairs]

    def multi_select_fields(value: Any, run: Run) -> Any:  # noqa: ANN401
        if value is None:
            return None
        if isinstance(value, dict):
            get = value.get
            return {key: get(name) for key, name in pairs}
        return dict.fromkeys(keys)  # every field of a non-object is null

    return multi_select_fields


def _multi_select_list(items: list[Evaluator]) -> Evaluator:
    def multi_select_list(value: Any, run: Run) -> Any:  # noqa: ANN401
        if value is None:
            return None
        return [evaluate(value, run) for evaluate in items]

    return multi_select_list


def _or(left: Evaluator, right: Evaluator) -> Evaluator:
    def or_expression(value: Any, run: Run) -> Any:  # noqa: ANN401
        matched = left(value, run)
        return matched if matched is True or _is_true(matched) else right(value, run)

    return or_expression


def _and(left: Evaluator, right: Evaluator) -> Evaluator:
    def and_expression(value: Any, run: Run) -> Any:  # noqa: ANN401
        matched = left(value, run)
        return right(value, run) if matched is True or _is_true(matched) else matched

    return and_expression


def _not(operand: Evaluator) -> Evaluator:
    def not_expression(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_not_expression: !0 is false (0 is true in JMESPath), else Python's `not`.
        # The library tests `numbers.Number`; among JSON values and function results that is
        # int and float.
        result = operand(value, run)
        if not isinstance(result, bool) and isinstance(result, int | float) and result == 0:
            return False
        return not result

    return not_expression


def _equality(left: Evaluator, right: Evaluator, *, negate: bool) -> Evaluator:
    def equality(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As the library's eq/ne, after charging the walk of container operands.
        first, second = left(value, run), right(value, run)
        run.charge_compare(first, second)
        return bool(_EQUALS(first, second)) is not negate

    return equality


def _ordering(left: Evaluator, right: Evaluator, compare: Callable[[Any, Any], bool]) -> Evaluator:
    def ordering(value: Any, run: Run) -> Any:  # noqa: ANN401
        # The specification makes an ordering comparison of anything but numbers null
        # (https://jmespath.org/specification.html#comparison-operators); jmespath 1.1 also
        # orders two strings (kept: callers rely on it) but checks each side on its own, so a
        # number against a string reached Python's `<` and raised TypeError.
        first, second = left(value, run), right(value, run)
        if not _orderable(first, second):
            return None
        return compare(first, second)

    return ordering


def _ordering_constant(
    left: Evaluator, constant: object, compare: Callable[[Any, Any], bool]
) -> Evaluator:
    # `x > `50``: as `_ordering`, with the literal side's type known once.
    if isinstance(constant, str):

        def with_string(value: Any, run: Run) -> Any:  # noqa: ANN401
            first = left(value, run)
            return compare(first, constant) if isinstance(first, str) else None

        return with_string
    if isinstance(constant, int | float) and not isinstance(constant, bool):

        def with_number(value: Any, run: Run) -> Any:  # noqa: ANN401
            first = left(value, run)
            if isinstance(first, int | float) and not isinstance(first, bool):
                return compare(first, constant)
            return None

        return with_number

    def never(value: Any, run: Run) -> Any:  # noqa: ANN401
        left(value, run)  # evaluated all the same: it may charge the budget or fail
        return None

    return never


def _projection(
    base: Evaluator, each: Evaluator, per_element: int, *, over_values: bool
) -> Evaluator:
    def projection(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_projection (arrays) and visit_value_projection (objects' values); non-null
        # results collected.
        selected = base(value, run)
        if over_values:
            if not isinstance(selected, dict):
                return None
            elements: Iterable[Any] = selected.values()
        elif isinstance(selected, list):
            elements = selected
        else:
            return None
        run.budget.charge(len(selected) * per_element)
        collected = []
        for element in elements:
            current = each(element, run)
            if current is not None:
                collected.append(current)
        return collected

    return projection


def _filter_projection(
    base: Evaluator, each: Evaluator, condition: Evaluator, per_element: int
) -> Evaluator:
    def filter_projection(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_filter_projection.
        selected = base(value, run)
        if not isinstance(selected, list):
            return None
        run.budget.charge(len(selected) * per_element)
        collected = []
        for element in selected:
            keep = condition(element, run)
            if keep is True or (keep is not False and _is_true(keep)):
                current = each(element, run)
                if current is not None:
                    collected.append(current)
        return collected

    return filter_projection


def _flatten(base: Evaluator) -> Evaluator:
    def flatten(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_flatten: one level of arrays merged, other elements kept.
        selected = base(value, run)
        if not isinstance(selected, list):
            return None
        run.budget.charge(sum(len(e) if isinstance(e, list) else 1 for e in selected) + 1)
        merged: list[object] = []
        for element in selected:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return flatten


def _slice(start: int | None, stop: int | None, step: int | None) -> Evaluator:
    def slice_(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_slice: arrays only (null otherwise, checked before the step).
        if not isinstance(value, list):
            return None
        if step == 0:
            # https://jmespath.org/specification.html#slices: "If the given step is 0, an
            # invalid-value error MUST be raised" (the library lets Python's slice() raise).
            raise ExpressionEvaluationError(
                "A slice step cannot be 0 (JMESPath's invalid-value error): use a positive step "
                "to go forward or a negative one to go backward, e.g. [::1] or [::-1]."
            )
        run.budget.charge(len(value) + 1)
        return value[start:stop:step]

    return slice_


def _function(name: str, arguments: list[Evaluator]) -> Evaluator:
    def function_expression(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_function_expression: arguments first, then the (charging) function table.
        return run.functions.call_function(name, [argument(value, run) for argument in arguments])

    return function_expression


def _expref(node: Node, body: Evaluator) -> Evaluator:
    def expref(value: Any, run: Run) -> Any:  # noqa: ANN401
        # As visit_expref: the library's own `_Expression` (its functions type-check arguments
        # by that class name), evaluating the compiled body when a function visits it.
        # The stubs type `expression` as a string; the library stores the node there.
        return jp_visitor._Expression(node, _ExprefVisitor(body, run))  # type: ignore[arg-type]

    return expref
