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


_FIELDS = ", ".join(sorted(f.alias or name for name, f in ProcessRequestBody.model_fields.items()))


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
        if reason.startswith("depth limit"):
            raise NestingTooDeepError(
                f"The body nests deeper than {limits.max_depth} levels.",
                max_depth=limits.max_depth,
            ) from None
        if reason.startswith("number is infinity"):
            # Valid JSON (RFC 8259 sets no range) that no double holds: say which number.
            inexact = inexact_numbers(body, limits.max_reported_violations, known_long=True)
            if inexact:
                raise _out_of_range(inexact) from None
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
    try:
        parsed = ProcessRequestBody.model_validate(document)
    except ValidationError as error:
        violations = _violations(error)
        raise InvalidRequestError(
            "The body is not a valid /process request: "
            + "; ".join(f"{v.pointer}: {v.detail}" for v in violations),
            violations,
        ) from None
    inexact = inexact_numbers(body, limits.max_reported_violations)
    if inexact:
        raise _out_of_range(inexact)
    return ProcessRequest(data=parsed.data, expression=parsed.expression, schema=parsed.schema_)


def _out_of_range(paths: list[list[str | int]]) -> NumberOutOfRangeError:
    where = [pointer(path) for path in paths]
    more = f" and {len(where) - 1} more place(s)" if len(where) > 1 else ""
    return NumberOutOfRangeError(
        f"The body has a number that cannot be read exactly at {where[0]}{more}: an integer "
        "beyond 64 bits (outside [-2**63, 2**64 - 1]) would be read as a float, losing digits; "
        "a number beyond the double range (such as 1e400) cannot be read at all. Send it as a "
        "string, or as a float (1.5e22) if an approximation is what you mean.",
        [
            Violation(pointer=w, detail="number outside the exactly representable range")
            for w in where
        ],
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
