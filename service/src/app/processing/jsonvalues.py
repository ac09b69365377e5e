"""Helpers over parsed JSON values: RFC 6901 pointers, nesting depth, bounded size."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import jsonschema_rs

#: A value as orjson parses it. Kept as `object` at the boundaries: JMESPath results are JSON too.
JSONValue: TypeAlias = object


def pointer(tokens: Iterable[str | int]) -> str:
    """The RFC 6901 JSON pointer for a path (`~` and `/` escaped): https://www.rfc-editor.org/rfc/rfc6901"""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def depth_validator(max_depth: int) -> jsonschema_rs.Validator:
    """A validator accepting exactly the JSON values nested at most `max_depth` containers deep.

    The limit is written as a chain of `max_depth` local definitions (level n's items and
    property values must satisfy level n+1; the last level admits scalars only) so that the
    walk runs in jsonschema-rs's Rust core: about 3x faster than the same walk in Python on
    the reference payload, and the first violation comes with its path.
    Depth counts containers: `1` has depth 0, `{}` depth 1, `{"a": [1]}` depth 2.
    """
    defs: dict[str, object] = {
        f"level{n}": {
            "items": {"$ref": f"#/$defs/level{n + 1}"},
            "additionalProperties": {"$ref": f"#/$defs/level{n + 1}"},
        }
        for n in range(max_depth)
    }
    defs[f"level{max_depth}"] = {"type": ["string", "number", "boolean", "null"]}
    # Only local $defs: offline=True makes "never fetches" a guarantee, as for client schemas.
    return jsonschema_rs.Draft202012Validator(
        {"$ref": "#/$defs/level0", "$defs": defs}, offline=True
    )


def too_deep_at(validator: jsonschema_rs.Validator, value: JSONValue) -> list[str | int] | None:
    """The path to the first container nested too deep for `validator` (see `depth_validator`),
    or None when `value` is within the limit."""
    if validator.is_valid(value):
        return None
    for error in validator.iter_errors(value):
        return list(error.instance_path)
    return []  # pragma: no cover - is_valid and iter_errors always agree


class ValueTooLargeError(Exception):
    """Raised by `bounded_size` as soon as the running total passes the limit."""


class ValueTooDeepError(Exception):
    """Raised by `bounded_size` when the value nests deeper than the depth limit."""


def bounded_size(value: JSONValue, limit: int, max_depth: int) -> int:
    """An estimate (within a few bytes per scalar) of `value`'s compact JSON size.

    Stops with `ValueTooLargeError` as soon as the estimate passes `limit`, so its cost is bounded
    by `limit` even for values that share sub-structures many times over (a JMESPath result such as
    `[@, @] | [@, @] | ...` is small in memory but exponentially large as JSON).
    """
    total = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, level = pop()
        kind = type(node)
        if kind is str:
            total += len(node) + 2  # type: ignore[arg-type]
        elif kind is dict:
            level += 1
            if level > max_depth:
                raise ValueTooDeepError
            total += 2
            for key, child in node.items():  # type: ignore[attr-defined]
                total += len(key) + 4
                push((child, level))
        elif kind is list:
            level += 1
            if level > max_depth:
                raise ValueTooDeepError
            total += 2 + len(node)  # type: ignore[arg-type]
            for child in node:  # type: ignore[attr-defined]
                push((child, level))
        else:
            total += 5
        if total > limit:
            raise ValueTooLargeError
    return total
