"""The JMESPath compliance suite (jmespath_compliance/, see its README) against the service's
evaluator: every result equal, every expected error refused with the matching problem type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from app.processing.errors import ProcessingError
from app.processing.expressions import ExpressionCache
from app.processing.limits import Limits

SUITE = Path(__file__).parent / "jmespath_compliance"

#: The suite's error kinds and the problem type (slug) the service answers each with.
ERROR_SLUGS = {
    "syntax": "expression-syntax",
    "invalid-type": "expression-evaluation",
    "invalid-value": "expression-evaluation",
    "invalid-arity": "expression-evaluation",
    "unknown-function": "expression-evaluation",
}


def _cases() -> list[Any]:
    cases = []
    for path in sorted(SUITE.glob("*.json")):
        for group, suite in enumerate(json.loads(path.read_text())):
            for number, case in enumerate(suite["cases"]):
                case_id = f"{path.stem}-{group}-{number}"
                cases.append(pytest.param(suite["given"], case, id=case_id))
    return cases


CASES = _cases()


def _same(left: object, right: object) -> bool:
    """Equal with the same JSON types all the way down (Python's `==` takes 1 for True)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return left == right


def test_the_whole_suite_is_here() -> None:
    # 862 cases in 16 files: a file lost in a copy would silently pass less.
    assert len(CASES) == 862
    assert len(list(SUITE.glob("*.json"))) == 16


@pytest.mark.filterwarnings("ignore:deprecated string literal syntax")
@pytest.mark.parametrize(("given", "case"), CASES)
def test_compliance(given: Any, case: dict[str, Any]) -> None:
    limits = Limits()
    expression = case["expression"]
    if "error" in case:
        with pytest.raises(ProcessingError) as refused:
            ExpressionCache(limits).get(expression).evaluate(given, limits)
        assert refused.value.slug == ERROR_SLUGS[case["error"]]
        return
    result = ExpressionCache(limits).get(expression).evaluate(given, limits)
    assert _same(result, case["result"]), f"{expression!r}: {result!r}"
