"""GET|HEAD /health answered in the outermost ASGI layer.

The ALB checks /health every few seconds per target, and it is the request a load test or an
overloaded task sees most. Through the whole stack (security headers, request context, body
limit, FastAPI's exception middlewares, routing, the endpoint) it cost about 3x what the server
itself costs per request; here it is one lookup of the path, a request id, two `send`s of
precomputed messages and the access line. What the caller sees is the same as from the router
in `app.api.health` (which still documents it in OpenAPI and answers when this layer is absent):
the same body, the security headers of `app.middleware.security_headers`, `X-Request-ID`, and
one access line with the same fields.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.logs import AccessLog
from app.middleware.context import identify
from app.middleware.security_headers import HEADERS


class HealthMiddleware:
    """Answers GET and HEAD /health with `document` (JSON); everything else goes to `app`."""

    def __init__(self, app: ASGIApp, document: bytes, access: AccessLog) -> None:
        self.app = app
        self.access = access
        self.document = document
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(document)).encode()),
            *HEADERS,
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/health"
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        request_id, trace_id, user_agent = identify(scope)
        head = scope["method"] == "HEAD"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*self.headers, (b"x-request-id", request_id.encode("ascii"))],
            }
        )
        await send({"type": "http.response.body", "body": b"" if head else self.document})
        self.access.write(
            request_id,
            trace_id,
            {
                "method": scope["method"],
                "path": "/health",
                "status": 200,
                "duration_ms": round((time.perf_counter() - started_at) * 1000, 3),
                "response_bytes": 0 if head else len(self.document),
                "user_agent": user_agent,
            },
        )
