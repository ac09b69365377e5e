"""Helpers over parsed JSON values: RFC 6901 pointers, nesting depth, bounded size, numbers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TypeAlias

import jsonschema_rs

#: A value as orjson parses it. Kept as `object` at the boundaries: JMESPath results are JSON too.
JSONValue: TypeAlias = object

#: The integers orjson reads and writes exactly (i64 and u64): https://github.com/ijl/orjson#int
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**64 - 1


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
    # `validate` stops at the first error; `iter_errors` builds every error before yielding one
    # (measured: 0.7 s for 8,000 too-deep chains in a 1 MiB body).
    try:
        validator.validate(value)
    except jsonschema_rs.ValidationError as error:
        return list(error.instance_path)
    return []  # pragma: no cover - is_valid and validate always agree


class _OutOfRange:
    """Stands for a number literal orjson cannot hold exactly."""


_OUT_OF_RANGE = _OutOfRange()

#: A run of 19 digits starting a number token: the shortest integer literal that can fall outside
#: the i64/u64 range. Only bodies that match are parsed a second time.
_LONG_INTEGER = re.compile(rb"(?:^|[\[:,\s])-?\d{19}")
#: Every digit to "0", so that `b"0" * 19 in ...` finds 19-digit runs at memchr speed first (the
#: regex alone costs about 40 ms on a 1 MiB body of small numbers; this about 1 ms).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


class _Literals:
    """`json.loads` hooks that stand each number literal orjson cannot hold exactly in for
    `_OUT_OF_RANGE`, counting them."""

    __slots__ = ("out_of_range",)

    def __init__(self) -> None:
        self.out_of_range = 0

    def parse_int(self, text: str) -> object:
        if len(text) < 19:
            return 0  # in range whatever its value; the value itself is not needed
        # Checked by length first: int() refuses strings over 4,300 digits (CVE-2020-10735).
        if len(text.lstrip("-")) > 20 or not MIN_INTEGER <= int(text) <= MAX_INTEGER:
            self.out_of_range += 1
            return _OUT_OF_RANGE
        return 0

    def parse_float(self, text: str) -> object:
        value = float(text)
        if value - value != 0.0:  # beyond the double range: inf
            self.out_of_range += 1
            return _OUT_OF_RANGE
        return 0.0


def inexact_numbers(
    body: bytes, limit: int, *, known_long: bool = False
) -> tuple[list[list[str | int]], int]:
    """The paths (at most `limit`) of the number literals in the JSON `body` that orjson cannot
    hold exactly, and how many there are in all: integers outside [-2**63, 2**64 - 1], which it
    reads as floats, dropping digits (`12345678901234567890123` becomes
    `1.2345678901234568e+22`), and numbers beyond the double range (`1e400`), which it refuses.

    Without `known_long`, a body with no 19-digit run costs one pass at memory speed (orjson
    parsed it, so it holds no such number); the others are parsed again by the standard library,
    which hands every literal over as text. A body that is not JSON gives ([], 0).
    """
    if not known_long and (
        _NINETEEN_DIGITS not in body.translate(_DIGITS_TO_ZERO) or not _LONG_INTEGER.search(body)
    ):
        return [], 0
    literals = _Literals()
    try:
        document = json.loads(body, parse_int=literals.parse_int, parse_float=literals.parse_float)
    except (ValueError, RecursionError):
        return [], 0
    total = literals.out_of_range
    return _paths_to_out_of_range(document, min(limit, total)), total


def _members(node: dict[str, object] | list[object]) -> Iterator[tuple[str | int, object]]:
    return iter(node.items()) if isinstance(node, dict) else enumerate(node)


def _paths_to_out_of_range(document: object, wanted: int) -> list[list[str | int]]:
    """The first `wanted` paths to `_OUT_OF_RANGE`, in document order. Walks with one iterator
    per open container, so a list of a million numbers costs no million paths."""
    if wanted <= 0:
        return []
    if document is _OUT_OF_RANGE:
        return [[]]
    if not isinstance(document, dict | list):
        return []
    found: list[list[str | int]] = []
    stack: list[tuple[Iterator[tuple[str | int, object]], list[str | int]]] = [
        (_members(document), [])
    ]
    while stack and len(found) < wanted:
        members, path = stack[-1]
        for key, child in members:
            if child is _OUT_OF_RANGE:
                found.append([*path, key])
                if len(found) >= wanted:
                    break
            elif isinstance(child, dict | list) and child:
                stack.append((_members(child), [*path, key]))
                break
        else:
            stack.pop()
    return found


class UnrepresentableNumberError(Exception):
    """Raised by `bounded_size(..., exact_numbers=True)` on a number JSON cannot carry."""


def unrepresentable_number_at(value: JSONValue) -> list[str | int] | None:
    """The path to the first number in `value` that JSON cannot carry exactly (inf, nan, or an
    integer outside orjson's i64/u64 range), or None."""
    stack: list[tuple[object, list[str | int]]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((child, [*path, key]) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, [*path, i]) for i, child in reversed(list(enumerate(node))))
        elif not _representable(node):
            return path
    return None


def _representable(node: object) -> bool:
    if type(node) is float:
        return node - node == 0.0  # false for inf and nan only
    if type(node) is int:
        return MIN_INTEGER <= node <= MAX_INTEGER
    return True


class ValueTooLargeError(Exception):
    """Raised by `bounded_size` as soon as the running total passes the limit."""


class ValueTooDeepError(Exception):
    """Raised by `bounded_size` when the value nests deeper than the depth limit."""


def bounded_size(
    value: JSONValue, limit: int, max_depth: int, *, exact_numbers: bool = False
) -> int:
    """An estimate (within a few bytes per scalar) of `value`'s compact JSON size.

    Stops with `ValueTooLargeError` as soon as the estimate passes `limit` (checked after each
    container's members), so its cost is bounded by `limit` even for values that share
    sub-structures many times over (a JMESPath result such as `[@, @] | [@, @] | ...` is small in
    memory but exponentially large as JSON). With `exact_numbers`, also stops with
    `UnrepresentableNumberError` at a number JSON cannot carry (see `unrepresentable_number_at`,
    which finds where). Each estimate counts a string as its length + 2, any other scalar as 5,
    a container as 2 plus, per member, 1 (an array) or its key's length + 4 (an object).
    """
    kind = type(value)
    if kind is not dict and kind is not list:
        total = len(value) + 2 if kind is str else 5  # type: ignore[arg-type]
        if exact_numbers and not _representable(value):
            raise UnrepresentableNumberError
        if total > limit:
            raise ValueTooLargeError
        return total
    total = 0
    # Scalars are counted where they are met; only containers wait on the stack (the walk costs
    # one loop step per member, about half of what stacking every member cost on the /process
    # reference result).
    stack: list[tuple[object, int]] = [(value, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, level = pop()
        if level > max_depth:
            raise ValueTooDeepError
        deeper = level + 1
        children: Iterable[object]
        if type(node) is dict:
            total += 2
            for key in node:
                total += len(key) + 4
            children = node.values()
        else:
            total += 2 + len(node)  # type: ignore[arg-type]
            children = node  # type: ignore[assignment]
        for child in children:
            kind = type(child)
            if kind is str:
                total += len(child) + 2  # type: ignore[arg-type]
            elif kind is dict or kind is list:
                push((child, deeper))
            else:
                total += 5
                if exact_numbers:
                    if kind is int:
                        if not MIN_INTEGER <= child <= MAX_INTEGER:  # type: ignore[operator]
                            raise UnrepresentableNumberError
                    elif kind is float and child - child != 0.0:  # type: ignore[operator]
                        raise UnrepresentableNumberError  # inf or nan
        if total > limit:
            raise ValueTooLargeError
    return total
