"""The /process request: its documented shape and the decoder that enforces it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

import orjson
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from app.processing.errors import (
    InvalidRequestError,
    MalformedJSONError,
    NestingTooDeepError,
    NumberOutOfRangeError,
    Violation,
)
from app.processing.jsonvalues import (
    JSONValue,
    clip,
    depth_validator,
    inexact_numbers,
    pointer,
    too_deep_at,
)
from app.processing.limits import Limits

REFERENCE_EXAMPLE: dict[str, object] = {
    "data": {
        "orders": [
            {"id": 1, "customer": "ada", "total": 42.5, "status": "paid"},
            {"id": 2, "customer": "bob", "total": 7.0, "status": "open"},
            {"id": 3, "customer": "eve", "total": 99.9, "status": "paid"},
        ]
    },
    "expression": "orders[?status == 'paid'].{id: id, total: total}",
    "schema": {
        "type": "object",
        "required": ["orders"],
        "properties": {
            "orders": {
                "type": "array",
                "items": {"type": "object", "required": ["id", "status"]},
            }
        },
    },
}


class ProcessRequestBody(BaseModel):
    """`POST /process` body. Unknown fields are refused."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [cast("JsonValue", REFERENCE_EXAMPLE)]},
    )

    data: Any = Field(description="Any JSON value: the document to validate and transform.")
    expression: str = Field(
        min_length=1,
        description="A JMESPath expression (https://jmespath.org/specification.html) applied "
        "to `data`.",
        examples=["orders[?status == 'paid'].{id: id, total: total}"],
    )
    schema_: dict[str, Any] | bool | None = Field(
        default=None,
        alias="schema",
        description="Optional JSON Schema (draft 2020-12 unless `$schema` names another draft) "
        "that `data` must satisfy before the expression is applied. `$ref` may only point "
        "inside the schema; `pattern` uses a linear-time regex dialect (no look-around or "
        "back-references).",
    )


_ALLOWED = frozenset(f.alias or name for name, f in ProcessRequestBody.model_fields.items())
_FIELDS = ", ".join(sorted(_ALLOWED))
_UNKNOWN_FIELD = f"unknown field; the allowed fields are {_FIELDS}"
#: How many violations the `detail` sentence names (all of them are in `errors`, up to the cap).
_NAMED_IN_DETAIL = 3


_depth_validator = functools.lru_cache(maxsize=4)(depth_validator)


@dataclass(frozen=True, slots=True)
class ProcessRequest:
    """A decoded, well-formed /process request."""

    data: JSONValue
    expression: str
    schema: JSONValue | None


def decode(body: bytes, limits: Limits) -> ProcessRequest:
    """Parse and check a /process request body.

    Raises MalformedJSONError (not JSON; with its position), NestingTooDeepError (`data` or `schema`
    nests deeper than `limits.max_depth`), InvalidRequestError (unknown, missing or mistyped
    fields; every one listed with its JSON pointer) or NumberOutOfRangeError (an integer orjson
    would have read as a float, losing digits, or a number beyond the double range; each with
    its pointer).
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        reason = str(error).split(":", 1)[0]
        if reason.startswith("Not enough memory"):
            # Not the caller's syntax: the parser could not allocate (in a sandbox worker, its
            # address-space limit; the worker ends and the parent answers request-too-complex).
            raise MemoryError(reason) from None
        if reason.startswith("depth limit"):
            raise NestingTooDeepError(
                f"The body nests deeper than {limits.max_depth} levels.",
                max_depth=limits.max_depth,
            ) from None
        if reason.startswith("number is infinity"):
            # Valid JSON (RFC 8259 sets no range) that no double holds: say which number.
            inexact, total = inexact_numbers(body, limits.max_reported_violations, known_long=True)
            if inexact:
                raise _out_of_range(inexact, total) from None
        raise MalformedJSONError(
            f"The body is not valid JSON: {reason} at position {error.pos}.",
            position=error.pos,
            line=error.lineno,
            column=error.colno,
        ) from None
    if not isinstance(document, dict):
        raise InvalidRequestError(
            "The body must be a JSON object with the fields data, expression and schema.",
            [Violation(pointer="", detail="must be a JSON object")],
        )
    # The body object itself is one level; `data` and `schema` get `max_depth` levels each.
    too_deep = too_deep_at(_depth_validator(limits.max_depth + 1), document)
    if too_deep is not None:
        where = pointer(too_deep)
        raise NestingTooDeepError(
            f"The body nests deeper than {limits.max_depth} levels at {where}.",
            max_depth=limits.max_depth,
            pointer=where,
        )
    # Unknown fields are counted here rather than by pydantic, which would build one error per
    # field (60,000 in a 700 KB body) before any could be capped.
    unknown = [key for key in document if key not in _ALLOWED]
    known = {key: value for key, value in document.items() if key in _ALLOWED}
    field_violations: list[Violation] = []
    try:
        parsed = ProcessRequestBody.model_validate(known)
    except ValidationError as error:
        field_violations = _violations(error)
    if field_violations or unknown:
        cap = limits.max_reported_violations
        shown = [Violation(pointer=pointer([key]), detail=_UNKNOWN_FIELD) for key in unknown[:cap]]
        listed = (field_violations + shown)[:cap]
        total = len(field_violations) + len(unknown)
        raise InvalidRequestError(_invalid_detail(listed, total), listed, total)
    inexact, total = inexact_numbers(body, limits.max_reported_violations)
    if inexact:
        raise _out_of_range(inexact, total)
    return ProcessRequest(data=parsed.data, expression=parsed.expression, schema=parsed.schema_)


def _invalid_detail(violations: list[Violation], total: int) -> str:
    named = "; ".join(f"{clip(v.pointer, 100)}: {v.detail}" for v in violations[:_NAMED_IN_DETAIL])
    more = f" (and {total - _NAMED_IN_DETAIL} more; see errors)" if total > _NAMED_IN_DETAIL else ""
    return f"The body is not a valid /process request: {named}{more}"


def _out_of_range(paths: list[list[str | int]], total: int) -> NumberOutOfRangeError:
    where = [pointer(path) for path in paths]
    more = f" and {total - 1} more place(s)" if total > 1 else ""
    return NumberOutOfRangeError(
        f"The body has a number that cannot be read exactly at {clip(where[0], 100)}{more}: an "
        "integer beyond 64 bits (outside [-2**63, 2**64 - 1]) would be read as a float, losing "
        "digits; a number beyond the double range (such as 1e400) cannot be read at all. Send "
        "it as a string, or as a float (1.5e22) if an approximation is what you mean.",
        [
            Violation(pointer=w, detail="number outside the exactly representable range")
            for w in where
        ],
        total,
    )


def _violations(error: ValidationError) -> list[Violation]:
    """One violation per field, in words a caller can act on."""
    seen: dict[str, Violation] = {}
    for item in error.errors(include_url=False, include_input=False):
        name = str(item["loc"][0]) if item["loc"] else ""
        where = pointer([name]) if name else ""
        if where in seen:
            continue
        kind = item["type"]
        if kind == "extra_forbidden":
            detail = f"unknown field; the allowed fields are {_FIELDS}"
        elif kind == "missing":
            detail = "required field is missing"
        elif name == "schema":
            detail = "must be a JSON object, a boolean or null"
        else:
            detail = clip(str(item["msg"]), 200)
        seen[where] = Violation(pointer=where, detail=detail)
    return list(seen.values())
