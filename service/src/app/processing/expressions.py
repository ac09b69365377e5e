"""JMESPath: parse and compile once (cached), evaluate with a bounded amount of work.

The parser and the built-in functions are the maintained `jmespath` library's (the one the AWS
CLI uses). Each parsed expression is checked (function names and arity, before any data is seen),
annotated with the size of every sub-expression and compiled into closures that charge a step
budget (`app.processing.evaluation`), because an expression is untrusted input and JMESPath can
ask for far more work than its size suggests. The reference workload uses 1,400 steps; past
`app.processing.engine.INLINE_STEPS` a request leaves the event loop for a sandbox worker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import jmespath
from jmespath import exceptions as jp_errors
from jmespath import functions as jp_functions

from app.processing.errors import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    ExpressionTooComplexError,
    ExpressionTooLargeError,
)
from app.processing.evaluation import Budget, Evaluator, Run, compile_tree
from app.processing.jsonvalues import JSONValue, clip
from app.processing.limits import Limits

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


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A parsed expression, the size (in AST nodes) of each of its sub-expressions, and the
    closure that evaluates it."""

    source: str
    ast: Node
    costs: Mapping[int, int]
    evaluator: Evaluator

    def evaluate(self, data: JSONValue, limits: Limits) -> JSONValue:
        """Apply the expression to `data` within `limits.max_evaluation_steps`.

        Raises ExpressionEvaluationError (a type or arity error on this data),
        ExpressionTooComplexError (budget or recursion exhausted) or ResultTooLargeError.
        """
        run = Run(Budget(limits.max_evaluation_steps), self.costs, limits.max_result_bytes)
        try:
            return cast("JSONValue", self.evaluator(data, run))
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
            # comparison ones closed in app.processing.evaluation): the caller's data and
            # expression caused it, so it is their error, not a 500. Only the exception type is
            # shown: Python's message may quote the data.
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
        evaluator = compile_tree(ast, costs)
    except RecursionError:
        raise ExpressionTooComplexError("The expression nests too deeply to evaluate.") from None
    return CompiledExpression(source=source, ast=ast, costs=costs, evaluator=evaluator)


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
