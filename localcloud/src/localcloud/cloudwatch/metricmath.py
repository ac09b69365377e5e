"""Metric math for alarms: the arithmetic subset, evaluated period by period.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html: an alarm
on ``Metrics`` (Terraform's ``metric_query`` blocks) alarms on the one query with
``ReturnData``, an expression over the other queries' ids. The platform's alarms use arithmetic
only (``desired - running`` in infra/modules/observability); this module evaluates ``+ - * /``,
unary minus, parentheses, numbers and query ids, per period: a period where an operand has no
datapoint has none either (as CloudWatch's arithmetic on time series does). Any function
(``SUM(...)``, ``FILL(...)``, ``IF(...)``) raises
:class:`~localcloud.cloudwatch.evaluation.Unsupported` naming it, so such an alarm is never
evaluated wrongly.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

from localcloud.cloudwatch.evaluation import Unsupported

_OPERATORS: dict[type[ast.AST], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def names(expression: str) -> set[str]:
    """The query ids ``expression`` uses; raises Unsupported outside the arithmetic subset."""
    tree = _parse(expression)
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _parse(expression: str) -> ast.Expression:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise Unsupported(f"metric math expression {expression!r} is not evaluated") from error
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func.id if isinstance(node.func, ast.Name) else "?"
            raise Unsupported(f"metric math function {function}() is not evaluated")
        if not isinstance(
            node,
            (
                ast.Expression,
                ast.BinOp,
                ast.UnaryOp,
                ast.USub,
                ast.UAdd,
                ast.Name,
                ast.Load,
                ast.Constant,
                *_OPERATORS,
            ),
        ) or (isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))):
            raise Unsupported(f"metric math expression {expression!r} is not evaluated")
    return tree


def evaluate(expression: str, values: Mapping[str, float | None]) -> float | None:
    """``expression`` with each id replaced by its value in one period; ``None`` when an operand
    has no datapoint in that period or a division by zero leaves none."""
    tree = _parse(expression)

    def walk(node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise Unsupported(f"metric math expression uses unknown id {node.id!r}")
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            if operand is None:
                return None
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div) and right == 0:
                return None
            return _OPERATORS[type(node.op)](left, right)
        raise Unsupported("metric math expression is not evaluated")  # pragma: no cover

    return walk(tree)
