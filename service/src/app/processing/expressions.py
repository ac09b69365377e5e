"""JMESPath: compile once (cached), evaluate with a bounded amount of work.

The parser and interpreter are the maintained `jmespath` library (the one the AWS CLI uses). We
only add accounting around it, because an expression is untrusted input and JMESPath can ask for
far more work than its size suggests:

* `[@, @] | [@, @] | [@, @] | ...` doubles the result at every pipe: 120 pipes fit in 1 KiB and
  describe a value 2**120 times the input. Nothing is copied (the lists share references), so
  memory stays small until something walks the value: a `to_string()`, an `==`, a flatten `[]`,
  a nested projection or the final JSON encoding would then never finish.
* `to_string(to_string(...))` doubles every escaping backslash per level.

So `BoundedInterpreter` charges a step budget for everything whose cost is not O(1): every
element a projection or an `&expression` function visits (times the size of the sub-expression
evaluated for it), every element a flatten, slice or function touches, and the size of any value
an `==`, `contains()` or `to_string()` has to walk (measured with `bounded_size`, which stops at
the limit). When the budget runs out, evaluation stops with `ExpressionTooComplexError`. With the
default 2,000,000 steps the worst case measured on one core is well under a second (see
docs/service.md); the reference workload uses about 1,000.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import jmespath
from jmespath import exceptions as jp_errors
from jmespath import functions as jp_functions
from jmespath import visitor as jp_visitor

from app.processing.errors import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    ExpressionTooComplexError,
    ExpressionTooLargeError,
    ResultTooLargeError,
)
from app.processing.jsonvalues import (
    JSONValue,
    ValueTooDeepError,
    ValueTooLargeError,
    bounded_size,
    clip,
)
from app.processing.limits import ORJSON_MAX_DEPTH, Limits

if TYPE_CHECKING:
    # jmespath's AST: dicts with "type", "children" and "value" (see jmespath/parser.py).
    from jmespath.visitor import _TreeNode as Node

#: The JSON names of the Python types jmespath reports in its type errors.
_JSON_TYPE_NAMES = {
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
    "NoneType": "null",
}

#: Functions whose `&expression` argument is evaluated once per array element.
_EXPREF_FUNCTIONS = frozenset({"map", "sort_by", "min_by", "max_by"})

#: Comparator node values that are not orderings.
_EQUALITY_OPERATORS = frozenset({"eq", "ne"})

#: One step stands for about one AST node evaluated on one value; byte-level work done in C
#: (string joins, JSON encoding) is charged one step per this many bytes.
_BYTES_PER_STEP = 16


class _Budget:
    """The steps one evaluation may still take."""

    __slots__ = ("limit", "remaining")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    def charge(self, steps: int) -> None:
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


class _BoundedFunctions(jp_functions.Functions):
    """jmespath's built-in functions, charged to the budget before they run."""

    def __init__(self, budget: _Budget, costs: Mapping[int, int], max_string: int) -> None:
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
        if not isinstance(value, (list, dict)):
            return
        try:
            size = bounded_size(value, self._max_string, ORJSON_MAX_DEPTH)
        except ValueTooLargeError:
            raise ResultTooLargeError(
                f"{what} would walk a value larger than {self._max_string} bytes as JSON.",
                max_bytes=self._max_string,
            ) from None
        except ValueTooDeepError:
            raise ExpressionTooComplexError(
                f"{what} would walk a value nested too deeply."
            ) from None
        self._budget.charge(size // _BYTES_PER_STEP)


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


def _is_true(value: object) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; everything else (0 too) is true.
    https://jmespath.org/specification.html#or-expressions"""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


class BoundedInterpreter(jp_visitor.TreeInterpreter):
    """jmespath's TreeInterpreter, charging a `_Budget` for every non-constant piece of work.

    The overridden visitors keep the library's semantics (jmespath/visitor.py, 1.1.0): they only
    add a charge before the loop the library would run.
    """

    def __init__(self, budget: _Budget, costs: Mapping[int, int], max_string: int) -> None:
        super().__init__(
            jp_visitor.Options(custom_functions=_BoundedFunctions(budget, costs, max_string))
        )
        self._budget = budget
        self._costs = costs
        self._max_string = max_string
        comparators = dict(jp_visitor.TreeInterpreter.COMPARATOR_FUNC)
        equals = comparators["eq"]
        differs = comparators["ne"]

        def eq(left: object, right: object) -> bool:
            self._charge_compare(left, right)
            return bool(equals(left, right))

        def ne(left: object, right: object) -> bool:
            self._charge_compare(left, right)
            return bool(differs(left, right))

        comparators["eq"] = eq
        comparators["ne"] = ne
        # visit_comparator looks the function up on self: an instance attribute is the one
        # place to hook `==` without re-implementing the comparator visitor.
        self.COMPARATOR_FUNC = comparators  # type: ignore[misc]

    def visit(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        """Dispatch on the node type through a class-level table.

        Same behaviour as jmespath's `Visitor.visit` (a per-instance cache of bound methods,
        called with *args/**kwargs); the table and the fixed signature make evaluation about
        1.8x faster on the reference workload (measured: docs/service.md). Every caller in
        jmespath passes exactly one value.
        """
        method = _DISPATCH.get(node["type"])
        if method is None:
            raise NotImplementedError(node["type"])
        return method(self, node, value)

    def _charge_compare(self, left: object, right: object) -> None:
        for side in (left, right):
            if isinstance(side, (list, dict)):
                try:
                    size = bounded_size(side, self._max_string, ORJSON_MAX_DEPTH)
                except (ValueTooLargeError, ValueTooDeepError):
                    raise ExpressionTooComplexError(
                        "A comparison would walk a value too large or too deeply nested."
                    ) from None
                self._budget.charge(size // _BYTES_PER_STEP + 1)

    def _charge_each(self, elements: int, *nodes: Node) -> None:
        per_element = 0
        for node in nodes:
            per_element += self._costs.get(id(node), 1)
        self._budget.charge(elements * per_element)

    def visit_projection(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        right = node["children"][1]
        self._charge_each(len(base), right)
        collected = []
        for element in base:
            current = self.visit(right, element)
            if current is not None:
                collected.append(current)
        return collected

    def visit_value_projection(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        base = self.visit(node["children"][0], value)
        if not isinstance(base, dict):
            return None
        right = node["children"][1]
        self._charge_each(len(base), right)
        collected = []
        for element in base.values():
            current = self.visit(right, element)
            if current is not None:
                collected.append(current)
        return collected

    def visit_filter_projection(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        _, right, condition = node["children"]
        self._charge_each(len(base), right, condition)
        collected = []
        for element in base:
            if _is_true(self.visit(condition, element)):
                current = self.visit(right, element)
                if current is not None:
                    collected.append(current)
        return collected

    def visit_flatten(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        self._budget.charge(sum(len(e) if isinstance(e, list) else 1 for e in base) + 1)
        merged: list[object] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    def visit_comparator(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        """`==`/`!=` as the library does; `<`, `<=`, `>`, `>=` only between two numbers or two
        strings, null otherwise.

        The specification makes an ordering comparison of anything but numbers null
        (https://jmespath.org/specification.html#comparison-operators); jmespath 1.1 also orders
        two strings (kept: callers rely on it) but checks each side on its own, so a number
        against a string reached Python's `<` and raised TypeError.
        """
        operator = node["value"]
        left = self.visit(node["children"][0], value)
        right = self.visit(node["children"][1], value)
        if operator not in _EQUALITY_OPERATORS and not _orderable(left, right):
            return None
        return self.COMPARATOR_FUNC[operator](left, right)

    def visit_slice(self, node: Node, value: Any) -> Any:  # noqa: ANN401
        if not isinstance(value, list):
            return None
        step: object = node["children"][2]  # a slice node's children: start, stop, step
        if step == 0:
            # https://jmespath.org/specification.html#slices: "If the given step is 0, an
            # invalid-value error MUST be raised" (the library lets Python's slice() raise).
            raise ExpressionEvaluationError(
                "A slice step cannot be 0 (JMESPath's invalid-value error): use a positive step "
                "to go forward or a negative one to go backward, e.g. [::1] or [::-1]."
            )
        self._budget.charge(len(value) + 1)
        return super().visit_slice(node, value)


#: visit_<type> of BoundedInterpreter (its own or inherited), by node type.
_DISPATCH: dict[str, Callable[[BoundedInterpreter, Node, Any], Any]] = {
    name.removeprefix("visit_"): getattr(BoundedInterpreter, name)
    for name in dir(BoundedInterpreter)
    if name.startswith("visit_")
}


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A parsed expression plus the size (in AST nodes) of each of its sub-expressions."""

    source: str
    ast: Node
    costs: Mapping[int, int]

    def evaluate(self, data: JSONValue, limits: Limits) -> JSONValue:
        """Apply the expression to `data` within `limits.max_evaluation_steps`.

        Raises ExpressionEvaluationError (a type or arity error on this data),
        ExpressionTooComplexError (budget or recursion exhausted) or ResultTooLargeError.
        """
        interpreter = BoundedInterpreter(
            _Budget(limits.max_evaluation_steps), self.costs, limits.max_result_bytes
        )
        try:
            return cast("JSONValue", interpreter.visit(self.ast, data))
        except jp_errors.JMESPathTypeError as error:
            expected = " or ".join(str(t) for t in error.expected_types)
            actual = _JSON_TYPE_NAMES.get(str(error.actual_type), str(error.actual_type))
            raise ExpressionEvaluationError(
                f"In function {error.function_name}(): expected {expected}, received {actual}.",
                function=str(error.function_name),
            ) from None
        except jp_errors.JMESPathError as error:
            raise ExpressionEvaluationError(clip(str(error), 300)) from None
        except RecursionError:
            raise ExpressionTooComplexError(
                "The expression nests too deeply to evaluate on this data."
            ) from None
        except (TypeError, ValueError, ArithmeticError) as error:
            # The library met a value its own checks let through (a gap like the variadic and
            # comparison ones closed above): the caller's data and expression caused it, so it
            # is their error, not a 500. Only the exception type is shown: Python's message may
            # quote the data.
            raise ExpressionEvaluationError(
                "The expression could not be evaluated on this data "
                f"({type(error).__name__} in the JMESPath library)."
            ) from None


def _annotate(ast: Node) -> dict[int, int]:
    """Node count of every sub-tree (by node identity); checks function names and arity."""
    costs: dict[int, int] = {}
    table = jp_functions.Functions.FUNCTION_TABLE

    def walk(node: Node) -> int:
        count = 1
        for child in node.get("children", ()):
            if isinstance(child, dict):
                count += walk(child)
        if node.get("type") == "function_expression":
            _check_call(node, table)
        costs[id(node)] = count
        return count

    walk(ast)
    return costs


def _check_call(node: Node, table: Mapping[str, Mapping[str, Any]]) -> None:
    name = str(node["value"])
    spec = table.get(name)
    if spec is None:
        raise ExpressionEvaluationError(
            f"Unknown function {name}(). JMESPath functions: {', '.join(sorted(table))}.",
            function=name,
        )
    signature = spec["signature"]
    given = len(node["children"])
    variadic = bool(signature) and bool(signature[-1].get("variadic"))
    if (variadic and given < len(signature)) or (not variadic and given != len(signature)):
        expected = f"at least {len(signature)}" if variadic else str(len(signature))
        raise ExpressionEvaluationError(
            f"Function {name}() takes {expected} argument(s), {given} given.", function=name
        )


def _compile(source: str) -> CompiledExpression:
    try:
        parsed = jmespath.compile(source)
    except jp_errors.LexerError as error:
        raise ExpressionSyntaxError(
            f"{error.message} at position {error.lexer_position}.",
            position=error.lexer_position,
            token=clip(str(error.lexer_value), 40),
        ) from None
    except jp_errors.IncompleteExpressionError:
        raise ExpressionSyntaxError(
            f"The expression ends early (position {len(source)}).", position=len(source)
        ) from None
    except jp_errors.ParseError as error:
        token = clip(str(error.token_value), 40)
        raise ExpressionSyntaxError(
            f"Unexpected {error.token_type.lower()} token {token!r} at position "
            f"{error.lex_position}.",
            position=error.lex_position,
            token=token,
        ) from None
    except jp_errors.JMESPathError as error:  # EmptyExpressionError
        raise ExpressionSyntaxError(clip(str(error), 200), position=0) from None
    except RecursionError:
        raise ExpressionTooComplexError("The expression nests too deeply to parse.") from None
    ast = parsed.parsed
    try:
        costs = _annotate(ast)
    except RecursionError:
        raise ExpressionTooComplexError("The expression nests too deeply to evaluate.") from None
    return CompiledExpression(source=source, ast=ast, costs=costs)


class ExpressionCache:
    """Compiled expressions by source text (LRU); syntax errors are not cached."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._compile: Callable[[str], CompiledExpression] = functools.lru_cache(
            maxsize=limits.expression_cache_size
        )(_compile)

    def get(self, source: str) -> CompiledExpression:
        """The compiled form of `source`.

        Raises ExpressionTooLargeError, ExpressionSyntaxError or ExpressionTooComplexError.
        """
        if len(source) > self._limits.max_expression_chars:
            raise ExpressionTooLargeError(
                f"The expression has {len(source)} characters; the limit is "
                f"{self._limits.max_expression_chars}.",
                max_chars=self._limits.max_expression_chars,
            )
        return self._compile(source)
