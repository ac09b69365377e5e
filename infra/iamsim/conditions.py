"""IAM condition operators, and the wildcard matching of actions, resources and ARNs.

Rules followed (IAM User Guide, "IAM JSON policy elements: Condition operators" and "Single-valued
vs. multivalued context keys"):
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

- Several values of one key are ORed; several keys and operators of a statement are ANDed.
- A key missing from the request fails a positive operator and satisfies a negated one
  (``StringNotEquals``, ``StringNotLike``, ``ArnNotEquals``, ``ArnNotLike``), unless the operator
  ends in ``IfExists`` (then the condition holds).
- ``ForAllValues:`` holds when every value of the key matches (vacuously when the key is missing
  or empty); ``ForAnyValue:`` when at least one does (never when it is missing).
- ``Null``: ``true`` holds when the key is missing, ``false`` when it is present.
- ``StringLike``/``ArnLike``/``ArnEquals`` take ``*`` and ``?``; ARN operators compare each of the
  six colon-separated parts separately, so a wildcard never spans a part.

Operators not listed here (Numeric*, Date*, IpAddress, BinaryEquals) raise PolicyError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from .policy import Condition, PolicyError

ContextValue = str | tuple[str, ...]
Context = Mapping[str, ContextValue]

_POSITIVE = {
    "StringEquals": "StringEquals",
    "StringEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringLike": "StringLike",
    "ArnEquals": "ArnLike",
    "ArnLike": "ArnLike",
    "Bool": "Bool",
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnLike",
    "ArnNotLike": "ArnLike",
}


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards only: ``*`` any run of characters, ``?`` one; everything else literal."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def action_match(pattern: str, action: str) -> bool:
    """Action names are case-insensitive (``s3:getobject`` is ``s3:GetObject``)."""
    return glob_match(pattern, action, ignore_case=True)


def arn_match(pattern: str, value: str) -> bool:
    """An ARN pattern against an ARN, part by part; ``*`` alone matches anything."""
    if pattern == "*":
        return True
    if not (pattern.startswith("arn:") and value.startswith("arn:")):
        return glob_match(pattern, value)
    wanted, got = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(got) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(wanted, got, strict=True))


def _compare(operator: str, pattern: str, value: str) -> bool:
    if operator == "StringEquals":
        return value == pattern
    if operator == "StringEqualsIgnoreCase":
        return value.lower() == pattern.lower()
    if operator == "Bool":
        return value.lower() == pattern.lower()
    if operator == "StringLike":
        return glob_match(pattern, value)
    return arn_match(pattern, value)  # ArnLike (and ArnEquals, which takes wildcards too)


def _values(raw: ContextValue) -> tuple[str, ...]:
    return raw if isinstance(raw, tuple) else (raw,)


def condition_holds(condition: Condition, context: Context) -> bool:
    """Whether ``condition`` holds for a request whose context keys are ``context`` (keys are
    compared case-insensitively, as IAM does)."""
    test = condition.test
    qualifier = ""
    if ":" in test:
        qualifier, test = test.split(":", 1)
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise PolicyError(f"condition qualifier {qualifier!r} is not supported")
    lowered = {k.lower(): v for k, v in context.items()}
    present = condition.variable.lower() in lowered
    raw = lowered.get(condition.variable.lower())
    values = _values(raw) if raw is not None else ()

    if test == "Null":
        if qualifier:
            raise PolicyError(f"{condition.test}: a qualifier on Null is not supported")
        wants_missing = {v.lower() for v in condition.values}
        if wants_missing not in ({"true"}, {"false"}):
            raise PolicyError(f"Null takes true or false, not {condition.values}")
        missing = not present or values == ()
        return missing == ("true" in wants_missing)

    if_exists = test.endswith("IfExists")
    test = test.removesuffix("IfExists")
    negated = test in _NEGATED
    operator = _NEGATED.get(test) or _POSITIVE.get(test)
    if operator is None:
        raise PolicyError(f"condition operator {condition.test} is not supported by iamsim")

    def matches(value: str) -> bool:
        hit = any(_compare(operator, p, value) for p in condition.values)
        return not hit if negated else hit

    if not present or (qualifier and values == ()):
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated
    if qualifier == "ForAllValues":
        return all(matches(v) for v in values)
    if qualifier == "ForAnyValue":
        return any(matches(v) for v in values)
    if len(values) != 1:
        raise PolicyError(
            f"{condition.test} on {condition.variable}, which this request gives several "
            "values: a multivalued key needs ForAllValues: or ForAnyValue:"
        )
    return matches(values[0])
