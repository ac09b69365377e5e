"""The /process steps, synchronous and in the calling process: decode, compile, validate,
evaluate, encode. `app.processing.engine` decides where they run (event loop or sandbox)."""

from __future__ import annotations

import orjson

from app.processing.errors import (
    NestingTooDeepError,
    ResultNotRepresentableError,
    ResultTooLargeError,
)
from app.processing.expressions import CompiledExpression, ExpressionCache
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


class Core:
    """The steps of one /process request within `limits`, with the expression and schema caches.

    Safe to share between threads: the caches are functools.lru_cache (thread-safe) and
    evaluation state is created per call.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.expressions = ExpressionCache(limits)
        self.schemas = SchemaCache(limits)

    def decode(self, body: bytes) -> ProcessRequest:
        """See `app.processing.request.decode`."""
        return decode(body, self.limits)

    def compile(self, expression: str) -> CompiledExpression:
        """See `app.processing.expressions.ExpressionCache.get`."""
        return self.expressions.get(expression)

    def apply(self, compiled: CompiledExpression, data: JSONValue, limits: Limits) -> bytes:
        """Evaluate within `limits` and encode: the compact JSON of the result.

        Raises ExpressionEvaluationError, ExpressionTooComplexError, ResultTooLargeError,
        NestingTooDeepError or ResultNotRepresentableError.
        """
        return encode(compiled.evaluate(data, limits), limits)


def encode(result: JSONValue, limits: Limits) -> bytes:
    """The compact JSON of `result`, within `limits.max_result_bytes` and `limits.max_depth`."""
    limit = limits.max_result_bytes
    # Walk before encoding: a result may share sub-structures (see expressions.py), so its JSON
    # can be astronomically larger than its memory; the walk stops at the limit. It also stops at
    # inf and nan, which orjson would write as null (a wrong answer with a 200), and at integers
    # orjson cannot write.
    try:
        bounded_size(result, limit, limits.max_depth, exact_numbers=True)
    except ValueTooLargeError:
        raise _too_large(limit) from None
    except ValueTooDeepError:
        raise NestingTooDeepError(
            f"The result nests deeper than {limits.max_depth} levels.",
            max_depth=limits.max_depth,
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
        raise _too_large(limit)
    return encoded


def _too_large(limit: int) -> ResultTooLargeError:
    return ResultTooLargeError(
        f"The result is larger than {limit} bytes as JSON; narrow the expression "
        "(filter, project fewer fields or slice).",
        max_bytes=limit,
    )
