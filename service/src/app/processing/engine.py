"""The /process pipeline: decode, compile, validate, evaluate, encode. No HTTP in here."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from app.processing.errors import (
    NestingTooDeepError,
    ResultNotRepresentableError,
    ResultTooLargeError,
)
from app.processing.expressions import ExpressionCache
from app.processing.jsonvalues import (
    JSONValue,
    UnrepresentableNumberError,
    ValueTooDeepError,
    ValueTooLargeError,
    bounded_size,
    pointer,
    unrepresentable_number_at,
)
from app.processing.limits import Limits
from app.processing.request import ProcessRequest, decode
from app.processing.schemas import SchemaCache


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """The outcome of one request: the result value and its compact JSON encoding."""

    result: JSONValue
    encoded: bytes


class Processor:
    """Applies /process requests within `limits`; holds the expression and schema caches.

    Safe to share: the caches are functools.lru_cache (thread-safe) and evaluation state is
    created per call.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.expressions = ExpressionCache(limits)
        self.schemas = SchemaCache(limits)

    def decode(self, body: bytes) -> ProcessRequest:
        """See `app.processing.request.decode`."""
        return decode(body, self.limits)

    def process(self, request: ProcessRequest) -> ProcessResult:
        """Compile the expression, validate `data` against `schema` (when given), evaluate.

        The expression is compiled first so a syntax error is reported whatever the data.
        Raises a `ProcessingError` subclass for every refusal.
        """
        compiled = self.expressions.get(request.expression)
        if request.schema is not None:
            self.schemas.validate(request.schema, request.data)
        result = compiled.evaluate(request.data, self.limits)
        return ProcessResult(result=result, encoded=self._encode(result))

    def _encode(self, result: JSONValue) -> bytes:
        limit = self.limits.max_result_bytes
        # Walk before encoding: a result may share sub-structures (see expressions.py), so its
        # JSON can be astronomically larger than its memory; the walk stops at the limit. It
        # also stops at inf and nan, which orjson would write as null (a wrong answer with a
        # 200), and at integers orjson cannot write.
        try:
            bounded_size(result, limit, self.limits.max_depth, exact_numbers=True)
        except ValueTooLargeError:
            raise self._too_large() from None
        except ValueTooDeepError:
            raise NestingTooDeepError(
                f"The result nests deeper than {self.limits.max_depth} levels.",
                max_depth=self.limits.max_depth,
            ) from None
        except UnrepresentableNumberError:
            where = pointer(["result", *(unrepresentable_number_at(result) or [])])
            raise ResultNotRepresentableError(
                f"The result has a number JSON cannot carry at {where}: infinity or NaN (for "
                "example a sum that overflowed) or an integer beyond 64 bits (outside "
                "[-2**63, 2**64 - 1]).",
                pointer=where,
            ) from None
        try:
            encoded = orjson.dumps(result)
        except orjson.JSONEncodeError as error:
            raise ResultNotRepresentableError(
                f"The result cannot be written as JSON: {error}."
            ) from None
        if len(encoded) > limit:
            raise self._too_large()
        return encoded

    def _too_large(self) -> ResultTooLargeError:
        limit = self.limits.max_result_bytes
        return ResultTooLargeError(
            f"The result is larger than {limit} bytes as JSON; narrow the expression "
            "(filter, project fewer fields or slice).",
            max_bytes=limit,
        )
