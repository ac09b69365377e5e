"""JSON Schema: compile once (cached), never fetch, never backtrack.

Validation is jsonschema-rs (Rust core). Two defences are configured on every compile:

* **No fetching.** `$ref` to a URL or a file would make the service a proxy for its callers
  (SSRF) and its latency depend on someone else's server. jsonschema-rs fetches unknown
  references by default, so every compile gets a retriever that refuses every URI and records
  it; a schema that needs one is refused with `SchemaReferenceRefusedError`. References inside
  the schema (`#/$defs/...`) and the standard meta-schemas (bundled in the library) keep working.
* **No catastrophic backtracking.** `pattern` and `patternProperties` are compiled by the Rust
  `regex` crate (`RegexOptions`), whose matching time is linear in the input by construction,
  instead of the default `fancy-regex`, which runs patterns with look-around or back-references
  on a backtracking VM bounded only by a step limit. `^(a+)+$` against a long run of `a`s
  followed by `!` is refused in well under a millisecond for 50,000 characters. The price:
  look-around and back-references are not supported, and a schema using them is refused as
  invalid with a message that says why. See
  https://docs.rs/regex/latest/regex/#untrusted-input and ADR 0005.

What neither defence bounds is the time and memory of validation itself (`$ref`s that fan out,
eager violation listing): the service runs this module only in sandbox worker processes, under
a deadline (`app.processing.sandbox`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import jsonschema_rs
import orjson

from app.processing.errors import (
    InvalidSchemaError,
    SchemaReferenceRefusedError,
    SchemaTooLargeError,
    SchemaValidationFailedError,
    Violation,
    error_members,
)
from app.processing.jsonvalues import JSONValue, clip, pointer
from app.processing.limits import Limits

#: Compiled size limits for one regular expression (the regex crate's own limits are 10 MiB and
#: 2 MiB): a 64 KiB schema must not be able to make a worker allocate hundreds of MiB.
_REGEX_SIZE_LIMIT = 1024 * 1024
_REGEX_DFA_SIZE_LIMIT = 1024 * 1024


@dataclass
class _RefusingRetriever:
    """A jsonschema-rs retriever that refuses every URI and remembers which were asked for."""

    asked: list[str] = field(default_factory=list)

    def __call__(self, uri: str) -> dict[str, object]:
        self.asked.append(uri)
        msg = f"fetching {uri} is disabled"
        raise ValueError(msg)


def _compile(canonical: bytes) -> jsonschema_rs.Validator:
    schema = orjson.loads(canonical)
    retriever = _RefusingRetriever()
    try:
        return jsonschema_rs.validator_for(
            schema,
            retriever=retriever,
            pattern_options=jsonschema_rs.RegexOptions(
                size_limit=_REGEX_SIZE_LIMIT, dfa_size_limit=_REGEX_DFA_SIZE_LIMIT
            ),
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as error:
        if retriever.asked:
            uri = retriever.asked[0]
            raise SchemaReferenceRefusedError(
                f"The schema references {clip(uri, 200)!r}; this service never fetches schemas. "
                "Inline the referenced schema under $defs and use a local $ref such as "
                "'#/$defs/name'.",
                uri=clip(uri, 200),
            ) from None
        raise _invalid_schema(error) from None


def _invalid_schema(error: Exception) -> InvalidSchemaError:
    if isinstance(error, jsonschema_rs.ValidationError):
        where = pointer(["schema", *error.instance_path])
        message = error.message
        if 'is not a "regex"' in message:
            message += (
                " (patterns are matched by a linear-time engine: look-around and "
                "back-references are not supported)"
            )
        detail = clip(message, 300)
        return InvalidSchemaError(
            f"The schema is invalid at {clip(where, 100) or '/'}: {detail}",
            **error_members([Violation(pointer=where, detail=detail)], 1),
        )
    return InvalidSchemaError(f"The schema is invalid: {clip(str(error), 300)}")


def canonical_schema(schema: JSONValue, limits: Limits) -> bytes:
    """`schema` as compact JSON with sorted keys: the same schema with its keys in another order
    shares one cache entry. Raises SchemaTooLargeError over `limits.max_schema_bytes`."""
    canonical = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    if len(canonical) > limits.max_schema_bytes:
        raise SchemaTooLargeError(
            f"The schema is {len(canonical)} bytes as compact JSON; the limit is "
            f"{limits.max_schema_bytes}.",
            max_bytes=limits.max_schema_bytes,
        )
    return canonical


def _violation(error: jsonschema_rs.ValidationError, limits: Limits) -> Violation:
    return Violation(
        pointer=pointer(["data", *error.instance_path]),
        detail=clip(error.message, limits.max_detail_chars),
        schema_pointer=pointer(["schema", *error.schema_path]),
    )


def first_violation(
    validator: jsonschema_rs.Validator, data: JSONValue, limits: Limits
) -> Violation | None:
    """The first violation jsonschema-rs meets, or None: it stops there, so this costs no more
    than `is_valid`."""
    try:
        validator.validate(data)
    except jsonschema_rs.ValidationError as error:
        return _violation(error, limits)
    return None


def all_violations(
    validator: jsonschema_rs.Validator, data: JSONValue, limits: Limits
) -> tuple[list[Violation], int]:
    """The first `limits.max_reported_violations` violations, and how many there are in all.

    Not lazy: jsonschema-rs lists every error before any can be read, so the cost grows with
    the number of violations, not with the cap. Its structured output (`evaluate().errors()`,
    plain dicts) is about 4x cheaper than `iter_errors` (exception objects): measured for
    `[0] * 100000` against `{"items": {"type": "string"}}`, 0.8 s and 75 MiB against 4.3 s to
    the first error and 125 MiB. Run it where a deadline and a memory limit can stop it
    (`app.processing.sandbox`).
    """
    errors = validator.evaluate(data).errors()
    shown = [
        Violation(
            pointer="/data" + error["instanceLocation"],
            detail=clip(error["error"], limits.max_detail_chars),
            schema_pointer="/schema" + error["schemaLocation"],
        )
        for error in errors[: limits.max_reported_violations]
    ]
    return shown, len(errors)


def violations_error(
    validator: jsonschema_rs.Validator, data: JSONValue, limits: Limits
) -> SchemaValidationFailedError:
    """The error listing the violations of `data`, known to be invalid (see `all_violations`
    for what listing them costs)."""
    violations, total = all_violations(validator, data, limits)
    return validation_failed(violations, total)


def validation_failed(
    violations: list[Violation], total: int | None, *, cut_short: str | None = None
) -> SchemaValidationFailedError:
    """The error listing `violations` out of `total` (None: not counted). `cut_short` says why
    listing them stopped early ("took longer than 1 s"), so only the first is known."""
    if cut_short is not None:
        detail = (
            f"The data violates the schema; listing every violation {cut_short}, so only the "
            "first is shown; see errors."
        )
    elif total is not None and total > len(violations):
        detail = (
            f"The data violates the schema in {total} places, more than {len(violations)}: "
            "the first ones are listed in errors."
        )
    else:
        detail = f"The data violates the schema in {len(violations)} place(s); see errors."
    return SchemaValidationFailedError(detail, violations, total)


@dataclass(frozen=True, slots=True)
class SchemaCache:
    """Compiled validators by canonical schema text (LRU); invalid schemas are not cached.

    Runs jsonschema-rs in the calling process: the service uses it inside its sandbox workers
    (`app.processing.sandbox_worker`), where a deadline bounds the time any call may take.
    """

    limits: Limits
    _compile: Callable[[bytes], jsonschema_rs.Validator] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cached = functools.lru_cache(maxsize=self.limits.schema_cache_size)(_compile)
        object.__setattr__(self, "_compile", cached)

    def get(self, schema: JSONValue) -> jsonschema_rs.Validator:
        """The validator for `schema` (an object or a boolean).

        Raises SchemaTooLargeError, InvalidSchemaError or SchemaReferenceRefusedError.
        """
        return self._compile(canonical_schema(schema, self.limits))

    def validate(self, schema: JSONValue, data: JSONValue) -> None:
        """Check `data` against `schema`; raises SchemaValidationFailedError listing the first
        `limits.max_reported_violations` violations and their count."""
        validator = self.get(schema)
        if not validator.is_valid(data):  # the common case, and it stops at the first violation
            raise violations_error(validator, data, self.limits)
