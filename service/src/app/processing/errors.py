"""The one error hierarchy of the processing core.

Every way a /process request can be refused is a subclass of `ProcessingError`. The core knows
nothing about HTTP: `app.problems` maps each class to a status code and an RFC 9457 problem type.
An error's `detail` is safe to show to the caller (it never echoes whole input values), and
`extensions` carries structured, machine-readable members (positions, JSON pointers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

#: Pointers longer than this are cut (and end with "…"): a key can be as long as the body, and
#: an error list must never echo the body back many times over.
MAX_POINTER_CHARS = 256


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Violation:
    """One located problem.

    `pointer` is an RFC 6901 JSON pointer into the request body (`/data/items/3/price`);
    `schema_pointer`, for schema violations, points at the failing keyword in the schema.
    """

    pointer: str
    detail: str
    schema_pointer: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The JSON form used in problem details' `errors` member (pointers over
        `MAX_POINTER_CHARS` cut, ending with "…")."""
        out = {"pointer": _clip(self.pointer, MAX_POINTER_CHARS), "detail": self.detail}
        if self.schema_pointer is not None:
            out["schema_pointer"] = _clip(self.schema_pointer, MAX_POINTER_CHARS)
        return out


def error_members(violations: Sequence[Violation], total: int | None) -> dict[str, object]:
    """The members every problem with an error list carries: `errors` (the listed `violations`,
    already capped by whoever found them), `error_count` (how many there were in all; None when
    the search stopped on a time or memory budget before it could count them) and `truncated`
    (true when `errors` is not all of them)."""
    return {
        "errors": [v.as_dict() for v in violations],
        "truncated": total is None or total > len(violations),
        "error_count": total,
    }


class ProcessingError(Exception):
    """Base class: the request was refused; `slug` names the problem type."""

    slug: ClassVar[str] = "processing-error"
    title: ClassVar[str] = "The request could not be processed"

    def __init__(self, detail: str, **extensions: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions: Mapping[str, object] = extensions


class MalformedJSONError(ProcessingError):
    """The body is not JSON (position given as a 0-based character offset)."""

    slug = "malformed-json"
    title = "The request body is not valid JSON"


class InvalidRequestError(ProcessingError):
    """The JSON is well formed but not a valid /process request (unknown or missing fields)."""

    slug = "invalid-request"
    title = "The request does not match the /process request format"

    def __init__(
        self, detail: str, violations: Sequence[Violation], total: int | None = None
    ) -> None:
        total = len(violations) if total is None else total
        super().__init__(detail, **error_members(violations, total))
        self.violations = tuple(violations)


class NumberOutOfRangeError(ProcessingError):
    """A number in the body cannot be read exactly: an integer outside [-2**63, 2**64 - 1] (it
    could only be read as a float, losing digits) or beyond the double range (`1e400`). Refused
    rather than silently changed; each is listed with its pointer."""

    slug = "number-out-of-range"
    title = "A number in the body cannot be read exactly"

    def __init__(
        self, detail: str, violations: Sequence[Violation], total: int | None = None
    ) -> None:
        total = len(violations) if total is None else total
        super().__init__(detail, **error_members(violations, total))
        self.violations = tuple(violations)


class NestingTooDeepError(ProcessingError):
    """A JSON value nests deeper than the configured limit."""

    slug = "nesting-too-deep"
    title = "The JSON nests too deeply"


class ExpressionTooLargeError(ProcessingError):
    """The JMESPath expression is longer than the configured limit."""

    slug = "expression-too-large"
    title = "The expression is too long"


class ExpressionSyntaxError(ProcessingError):
    """The JMESPath expression does not parse (`position` is a 0-based character offset)."""

    slug = "expression-syntax"
    title = "The expression is not valid JMESPath"


class ExpressionTooComplexError(ProcessingError):
    """The expression nests too deeply to compile or evaluate, or would cost too much work."""

    slug = "expression-too-complex"
    title = "The expression is too complex"


class ExpressionEvaluationError(ProcessingError):
    """The expression parsed but failed on this data (wrong argument type, arity, unknown
    function)."""

    slug = "expression-evaluation"
    title = "The expression failed on this data"


class SchemaTooLargeError(ProcessingError):
    """The JSON Schema is larger than the configured limit."""

    slug = "schema-too-large"
    title = "The schema is too large"


class InvalidSchemaError(ProcessingError):
    """The schema is not a valid JSON Schema, or uses a pattern the linear-time engine refuses."""

    slug = "invalid-schema"
    title = "The schema is not a valid JSON Schema"


class SchemaReferenceRefusedError(ProcessingError):
    """The schema `$ref`s a resource outside itself; the service never fetches anything."""

    slug = "schema-reference-refused"
    title = "The schema references an external resource"


class SchemaValidationFailedError(ProcessingError):
    """`data` does not satisfy `schema`; every violation is listed with its JSON pointer."""

    slug = "schema-validation"
    title = "The data does not match the schema"

    def __init__(self, detail: str, violations: Sequence[Violation], total: int | None) -> None:
        super().__init__(detail, **error_members(violations, total))
        self.violations = tuple(violations)


class RequestTooComplexError(ProcessingError):
    """Reading the body (parsing it, checking its shape) needed more memory than one request may
    use: a body whose values expand far beyond its size once parsed."""

    slug = "request-too-complex"
    title = "The request is too costly to read"


class SchemaTooComplexError(ProcessingError):
    """Validating `data` against `schema` ran out of the sandbox's time or memory budget (a schema
    whose `$ref`s fan out exponentially, or schema x data far beyond any real document)."""

    slug = "schema-too-complex"
    title = "The schema is too costly to check against this data"


class ServiceBusyError(ProcessingError):
    """Every schema sandbox worker stayed busy for the whole budget (or none could start): a
    server-side condition (503), worth retrying after `retry_after_seconds`."""

    slug = "busy"
    title = "The service is busy"
    retry_after_seconds: ClassVar[int] = 1

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retry_after_seconds=self.retry_after_seconds)


class ResultTooLargeError(ProcessingError):
    """The result (or a string built while evaluating) exceeds the result size limit."""

    slug = "result-too-large"
    title = "The result is too large"


class ResultNotRepresentableError(ProcessingError):
    """The result holds a number JSON cannot carry: infinity or NaN (`sum()` overflowing, a
    `1e400` literal) or an integer outside [-2**63, 2**64 - 1]. `pointer` locates it in the
    response that would have been sent (`/result/...`)."""

    slug = "result-not-representable"
    title = "The result cannot be represented as JSON"
