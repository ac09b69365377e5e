"""The limits the core enforces on every request (built from `app.settings.Settings`)."""

from __future__ import annotations

from dataclasses import dataclass

#: orjson refuses to write containers nested deeper than this (its documented recursion limit),
#: so no depth limit may exceed it: https://github.com/ijl/orjson#serialize
ORJSON_MAX_DEPTH = 254


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds for one /process request.

    `max_depth` bounds the nesting of the whole request body (so of `data` and `schema`) and of
    the result. `max_evaluation_steps` bounds the work of one JMESPath evaluation (see
    `app.processing.expressions`), so no expression can hold a worker for long.
    """

    max_expression_chars: int = 2048
    max_schema_bytes: int = 64 * 1024
    max_result_bytes: int = 1024 * 1024
    max_depth: int = 64
    max_evaluation_steps: int = 2_000_000
    max_reported_violations: int = 100
    max_detail_chars: int = 300
    expression_cache_size: int = 512
    schema_cache_size: int = 64

    def __post_init__(self) -> None:
        if not 1 <= self.max_depth <= ORJSON_MAX_DEPTH:
            msg = f"max_depth must be between 1 and {ORJSON_MAX_DEPTH}"
            raise ValueError(msg)
