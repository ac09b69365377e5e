"""RFC 9457 problem details: every error the service answers is `application/problem+json`.

https://www.rfc-editor.org/rfc/rfc9457

Members: `type` (a URI naming the problem; `about:blank` for plain HTTP errors such as 404),
`title`, `status`, `detail` (what went wrong in this request, safe to show), `request_id` (the
id in the access line and the `X-Request-ID` header) and, depending on the type, `errors` (a
list of `{pointer, detail[, schema_pointer]}`), `position`, `max_bytes`, ...

Problem types are tag URIs (RFC 4151), which RFC 9457 section 3.1.1 allows for types that are not
meant to be dereferenced: `tag:aws-fastapi-devsecops,2026:problem/<slug>`. docs/service.md lists
every slug.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.logs import request_id_var
from app.processing import errors as perr
from app.processing.jsonvalues import clip, pointer
from app.processing.limits import Limits

#: The cap on FastAPI's own validation errors (query and path parameters), the same as the
#: processing core's.
MAX_LISTED_ERRORS = Limits().max_reported_violations

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "tag:aws-fastapi-devsecops,2026:problem/"

#: No problem document is larger than this: an answer to a bad request must never amplify it
#: (a body of 60,000 unknown fields once got a 9.9 MB answer). The error lists are capped where
#: they are found (`Limits.max_reported_violations`); this is the last guard, for every problem.
MAX_PROBLEM_BYTES = 64 * 1024
#: Longest string member kept when a document must be shrunk to fit `MAX_PROBLEM_BYTES`.
_SHRUNK_STRING_CHARS = 1024

#: HTTP status of each processing error; everything not listed is a 422 (well-formed request
#: whose content cannot be processed: RFC 9110 section 15.5.21).
_STATUS: dict[type[perr.ProcessingError], int] = {
    perr.MalformedJSONError: 400,
    perr.ServiceBusyError: 503,
}


class Problem(BaseModel):
    """An RFC 9457 problem details object (extension members vary by `type`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[TYPE_PREFIX + "expression-syntax"])
    title: str = Field(examples=["The expression is not valid JMESPath"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["Unexpected rbracket token ']' at position 8."])
    request_id: str | None = Field(default=None, examples=["3f2a9c1d0b8e4f7a9c1d0b8e4f7a9c1d"])


#: OpenAPI `content` of a problem response (the schema is added to the components by `app.main`).
PROBLEM_CONTENT: dict[str, Any] = {
    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
}


class HTTPProblem(Exception):  # noqa: N818 - it is a problem, raised
    """An HTTP-level refusal (wrong media type, ...) rendered as a problem."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail


def problem_body(
    status: int,
    slug: str | None,
    title: str,
    detail: str,
    extensions: dict[str, Any] | None = None,
) -> bytes:
    """The encoded problem document (`slug` None means `about:blank`)."""
    document: dict[str, Any] = {
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id_var.get(),
    }
    if extensions:
        document.update(extensions)
    encoded = orjson.dumps(document)
    return encoded if len(encoded) <= MAX_PROBLEM_BYTES else _shrunk(document)


def _shrunk(document: dict[str, Any]) -> bytes:
    """`document` cut to fit `MAX_PROBLEM_BYTES`: long strings clipped, then the `errors` list
    halved until it fits (`truncated` set; `error_count` still tells how many there were)."""
    for name, value in document.items():
        if isinstance(value, str) and len(value) > _SHRUNK_STRING_CHARS:
            document[name] = value[: _SHRUNK_STRING_CHARS - 1] + "…"
    errors = document.get("errors")
    while True:
        encoded = orjson.dumps(document)
        if len(encoded) <= MAX_PROBLEM_BYTES:
            return encoded
        if isinstance(errors, list) and errors:
            errors = errors[: len(errors) // 2]
            document["errors"] = errors
            document["truncated"] = True
            continue
        # Nothing left to cut but members no code path makes this large: keep the core members.
        core = ("type", "title", "status", "detail", "request_id")
        return orjson.dumps({name: document[name] for name in core if name in document})


def problem_response(
    status: int,
    slug: str | None,
    title: str,
    detail: str,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A `Response` carrying a problem document."""
    return Response(
        problem_body(status, slug, title, detail, extensions),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


#: A whole answer as raw ASGI parts: status, headers (content-type and content-length
#: included), body. The pure-ASGI layers send these; `raw_response` wraps them for FastAPI.
RawAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _raw(status: int, body: bytes) -> RawAnswer:
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return status, headers, body


def raw_response(answer: RawAnswer) -> Response:
    """`answer` as a FastAPI `Response` (for the exception handlers)."""
    status, headers, body = answer
    return Response(
        body,
        status_code=status,
        headers={k.decode("latin-1"): v.decode("latin-1") for k, v in headers},
    )


def is_json_media_type(content_type: str) -> bool:
    """Whether a Content-Type header value declares JSON: `application/json` or
    `application/<anything>+json` (RFC 6839), parameters and case ignored."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def unsupported_media_type(content_type: str) -> HTTPProblem:
    """The 415 refusal of a body declared as `content_type` (empty: no header)."""
    shown = content_type or "none"
    return HTTPProblem(
        415,
        "unsupported-media-type",
        "Unsupported Media Type",
        f"The body must be sent as application/json (Content-Type was {shown[:100]}).",
    )


def http_problem_answer(problem: HTTPProblem) -> RawAnswer:
    """Status, headers and body of an `HTTPProblem`."""
    return _raw(
        problem.status, problem_body(problem.status, problem.slug, problem.title, problem.detail)
    )


def processing_error_answer(error: perr.ProcessingError) -> RawAnswer:
    """Status, headers and body of the problem for a processing error: 400 for malformed JSON,
    503 with `Retry-After` when busy, 422 for everything else; the error's extension members
    added to the document."""
    status = _STATUS.get(type(error), 422)
    body = problem_body(status, error.slug, error.title, error.detail, dict(error.extensions))
    status, headers, body = _raw(status, body)
    if isinstance(error, perr.ServiceBusyError):
        # https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
        headers.append((b"retry-after", str(error.retry_after_seconds).encode()))
    return status, headers, body


def internal_error_body(request_id: str) -> RawAnswer:
    """Status, headers and body of the generic 500 (it names no internals, only the request
    id to quote when reporting it)."""
    body = problem_body(
        500,
        None,
        "Internal Server Error",
        f"The request failed unexpectedly. It was logged with request id {request_id}.",
    )
    return _raw(500, body)


def body_too_large_body(max_bytes: int) -> RawAnswer:
    """Status, headers and body of the 413 refusal."""
    body = problem_body(
        413,
        "body-too-large",
        "The request body is too large",
        f"The request body is larger than {max_bytes} bytes.",
        {"max_bytes": max_bytes},
    )
    status, headers, content = _raw(413, body)
    # The body may still be on its way: tell the client this connection will not be reused.
    headers.append((b"connection", b"close"))
    return status, headers, content


async def processing_error_handler(request: Request, error: Exception) -> Response:
    """ProcessingError -> 400/422/503 problem with the error's extension members."""
    if not isinstance(error, perr.ProcessingError):  # registered for this class only
        raise error
    return raw_response(processing_error_answer(error))


async def http_problem_handler(request: Request, error: Exception) -> Response:
    """HTTPProblem -> its problem."""
    if not isinstance(error, HTTPProblem):  # registered for this class only
        raise error
    return raw_response(http_problem_answer(error))


async def http_exception_handler(request: Request, error: Exception) -> Response:
    """Starlette/FastAPI HTTPException (404, 405, ...) -> `about:blank` problem."""
    if not isinstance(error, StarletteHTTPException):  # registered for this class only
        raise error
    try:
        title = HTTPStatus(error.status_code).phrase
    except ValueError:
        title = "Error"
    detail = error.detail if isinstance(error.detail, str) else title
    path = clip(request.url.path, 200)
    if error.status_code == 404:
        detail = f"No endpoint at {path}. Endpoints: GET /health, POST /process."
    elif error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        detail = f"{clip(request.method, 20)} is not allowed on {path} (allowed: {allowed})."
    return problem_response(
        error.status_code, None, title, detail, headers=dict(error.headers or {})
    )


async def request_validation_handler(request: Request, error: Exception) -> Response:
    """FastAPI's own request validation (query/path parameters) -> invalid-request problem."""
    if not isinstance(error, RequestValidationError):  # registered for this class only
        raise error
    items = error.errors()
    violations = [
        perr.Violation(pointer=pointer(item["loc"]), detail=clip(str(item["msg"]), 300))
        for item in items[:MAX_LISTED_ERRORS]
    ]
    return problem_response(
        422,
        perr.InvalidRequestError.slug,
        perr.InvalidRequestError.title,
        "The request is not valid; see errors.",
        perr.error_members(violations, len(items)),
    )


async def unhandled_error_handler(request: Request, error: Exception) -> Response:
    """Last resort inside the app (the request-context middleware logs the exception)."""
    status, _, body = internal_error_body(request_id_var.get() or "unknown")
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)
