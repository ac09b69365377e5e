"""POST /process answered in an outer ASGI layer, next to /health.

Through the whole stack (security headers, request context, body limit, FastAPI's exception
middlewares, routing, dependency injection, the endpoint, a `Response`) a reference request
spent about a third of its time outside the processing core (docs/performance.md). Here the
same answer is built directly: the body limit, the media-type check, the processing core
(`app.processing.engine.Processor`, the app's `state.processor`) and one `send` of each
message. What the caller sees is what the router in `app.api.process` answers (it still
documents the endpoint in OpenAPI and answers when this layer is absent; a test compares the
two on every kind of answer):

* 413 `body-too-large` from a declared `Content-Length` over the limit before anything else,
  or while a body of unknown length streams (as `app.middleware.body_limit`);
* 415 `unsupported-media-type` unless the body is declared as JSON (as `app.api.deps`);
* the result `{"result": ...}`, or the problem of the `ProcessingError` the core raised;
* anything else: the generic 500 problem, logged once with its traceback and the request id
  (as `app.middleware.context`);
* on every answer: the security headers, `X-Request-ID`, and one access line with the
  CloudWatch EMF members of `app.metrics`.

Other methods on /process (405) and every other path go on to the app.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from app.logs import AccessLog, request_id_var, trace_id_var
from app.metrics import PROCESS_PATH, ProcessMetrics
from app.middleware.body_limit import BodyTooLarge
from app.middleware.context import CLIENT_CLOSED_REQUEST, error_log, identify
from app.middleware.security_headers import HEADERS
from app.problems import (
    HTTPProblem,
    RawAnswer,
    body_too_large_body,
    http_problem_answer,
    internal_error_body,
    is_json_media_type,
    processing_error_answer,
    unsupported_media_type,
)
from app.processing.engine import Processor
from app.processing.errors import ProcessingError

_JSON_HEADER = (b"content-type", b"application/json")


class ProcessMiddleware:
    """Answers POST /process (see the module docstring); everything else goes to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        access: AccessLog,
        metrics: ProcessMetrics | None,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.access = access
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PROCESS_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        request_id, trace_id, user_agent = identify(scope)
        # Read by the problem documents and by any log line written while answering.
        request_token = request_id_var.set(request_id)
        trace_token = trace_id_var.set(trace_id)
        id_header = (b"x-request-id", request_id.encode("ascii"))
        status = 0
        sent = 0
        started = False
        try:
            try:
                status, headers, body = await self._answer(scope, receive)
            except ProcessingError as error:
                status, headers, body = processing_error_answer(error)
            except HTTPProblem as problem:
                status, headers, body = http_problem_answer(problem)
            except BodyTooLarge:
                status, headers, body = body_too_large_body(self.max_body_bytes)
            headers.extend(HEADERS)
            headers.append(id_header)
            started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            sent = len(body)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
        except Exception:
            error_log.exception(
                "unhandled error while serving %s %s", scope["method"], scope["path"]
            )
            status = 500
            if not started:
                _, headers, body = internal_error_body(request_id)
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [*headers, *HEADERS, id_header],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                sent = len(body)
        finally:
            duration_ms = round((time.perf_counter() - started_at) * 1000, 3)
            fields: dict[str, Any] = {
                "method": "POST",
                "path": PROCESS_PATH,
                "status": status,
                "duration_ms": duration_ms,
                "response_bytes": sent,
                "user_agent": user_agent,
            }
            if self.metrics is not None:
                emf = self.metrics.fields(PROCESS_PATH, status, duration_ms)
                if emf is not None:
                    fields.update(emf)
            self.access.write(request_id, trace_id, fields)
            request_id_var.reset(request_token)
            trace_id_var.reset(trace_token)

    async def _answer(self, scope: Scope, receive: Receive) -> RawAnswer:
        """The 200 answer; raises BodyTooLarge, HTTPProblem (415) or a ProcessingError."""
        declared: bytes | None = None
        content_type: bytes | None = None
        for name, value in scope["headers"]:
            # The first of each, as app.middleware.body_limit and Starlette's Headers.get read.
            if name == b"content-length":
                if declared is None:
                    declared = value
            elif name == b"content-type" and content_type is None:
                content_type = value
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge(self.max_body_bytes)
        media_type = content_type.decode("latin-1") if content_type is not None else ""
        if not is_json_media_type(media_type):
            raise unsupported_media_type(media_type)
        body = await self._read_body(receive)
        processor: Processor = scope["app"].state.processor
        encoded = await processor.handle(body)
        answer = b'{"result":' + encoded + b"}"
        return 200, [_JSON_HEADER, (b"content-length", str(len(answer)).encode())], answer

    async def _read_body(self, receive: Receive) -> bytes:
        """The whole body; BodyTooLarge as soon as it passes the limit (a declared length the
        server enforces; a chunked body is counted here), ClientDisconnect as Starlette's
        `Request.body()` raises it."""
        chunks: list[bytes] = []
        received = 0
        limit = self.max_body_bytes
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "http.request":
                chunk: bytes = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge(limit)
                if not message.get("more_body", False):
                    if not chunks:
                        return chunk
                    chunks.append(chunk)
                    return b"".join(chunks)
                chunks.append(chunk)
            elif kind == "http.disconnect":
                raise ClientDisconnect
