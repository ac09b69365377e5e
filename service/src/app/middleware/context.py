"""Request id, ALB trace id, the access line and the last-resort error handler.

For every HTTP request this middleware:

* takes the caller's `X-Request-ID` when it is a plausible id (1-128 of `A-Za-z0-9._:-`), or
  makes one (32 hex digits), and echoes it in the `X-Request-ID` response header;
* records the ALB's `X-Amzn-Trace-Id`
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html);
* writes exactly one JSON access line when the response is done (`app.logs.AccessLog`):
  `message` "request", `request_id`, `trace_id`, `method`, `path`, `status`, `duration_ms`,
  `response_bytes`, `user_agent` (plus the CloudWatch EMF members for /process, see
  `app.metrics`). Bodies and query strings are never logged;
* turns any exception that escaped the app into a generic 500 problem (no internals) and logs
  it once, with its traceback and the request id; a client that hung up before its body arrived
  is not an error: its access line says 499 and nothing is sent.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import AccessLog, request_id_var, trace_id_var
from app.metrics import ProcessMetrics
from app.problems import internal_error_body

CLIENT_CLOSED_REQUEST = 499
"""The access line's status for a request whose client went away before its body arrived
(nginx's convention; the ALB logs the same case as 460). No answer can reach that client, and it
is not a server error: it must never count in ProcessServerErrors or page anyone through the
5xx alarms, which a client could otherwise trigger at will by hanging up mid-body."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TRACE_ID = re.compile(r"[A-Za-z0-9=;:._-]{1,256}")

error_log = logging.getLogger("app.errors")


def _accepted(raw: bytes | None, pattern: re.Pattern[str]) -> str | None:
    if raw is None:
        return None
    text = raw.decode("latin-1")
    return text if pattern.fullmatch(text) else None


def identify(scope: Scope) -> tuple[str, str | None, str | None]:
    """The request id (the caller's when plausible, else a new one), the ALB trace id and the
    user agent (cut to 256 characters) of an HTTP request."""
    raw_request_id = raw_trace_id = user_agent = None
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            raw_request_id = value
        elif name == b"x-amzn-trace-id":
            raw_trace_id = value
        elif name == b"user-agent":
            user_agent = value
    request_id = _accepted(raw_request_id, _REQUEST_ID) or secrets.token_hex(16)
    trace_id = _accepted(raw_trace_id, _TRACE_ID)
    agent = user_agent.decode("latin-1")[:256] if user_agent else None
    return request_id, trace_id, agent


class RequestContextMiddleware:
    """See the module docstring."""

    def __init__(
        self, app: ASGIApp, access: AccessLog, metrics: ProcessMetrics | None = None
    ) -> None:
        self.app = app
        self.access = access
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        request_id, trace_id, user_agent = identify(scope)
        request_token = request_id_var.set(request_id)
        trace_token = trace_id_var.set(trace_id)
        id_header = (b"x-request-id", request_id.encode("ascii"))
        state: dict[str, Any] = {"status": 0, "bytes": 0, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            if not state["started"]:
                state["status"] = CLIENT_CLOSED_REQUEST
        except Exception:
            error_log.exception(
                "unhandled error while serving %s %s", scope["method"], scope["path"]
            )
            if not state["started"]:
                status, headers, body = internal_error_body(request_id)
                await send_with_id(
                    {"type": "http.response.start", "status": status, "headers": headers}
                )
                await send_with_id({"type": "http.response.body", "body": body})
            else:
                state["status"] = 500
        finally:
            duration_ms = round((time.perf_counter() - started_at) * 1000, 3)
            path = scope["path"][:512]
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": path,
                "status": state["status"],
                "duration_ms": duration_ms,
                "response_bytes": 0 if scope["method"] == "HEAD" else state["bytes"],
                "user_agent": user_agent,
            }
            if self.metrics is not None:
                emf = self.metrics.fields(path, state["status"], duration_ms)
                if emf is not None:
                    fields.update(emf)
            self.access.write(request_id, trace_id, fields)
            request_id_var.reset(request_token)
            trace_id_var.reset(trace_token)
