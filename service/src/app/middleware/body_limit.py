"""Refuse request bodies over the limit before they are buffered (413).

A declared `Content-Length` over the limit is refused at once, without reading a byte of the
body. A body of unknown length (chunked) is counted as the app reads it; the read that crosses
the limit raises `BodyTooLarge`, which the app's exception handler turns into the same 413
problem, so at most one chunk past the limit is ever held in memory.

Why not FastAPI's own `max_body_size` (Starlette's RequestBodyLimitMiddleware)? It sits outside
the app's user middleware and, when the app answers without reading a declared-too-large body,
replaces the answer with a text/plain 413: that response would carry no problem document, no
security headers and no access line. Refusing here, from the declared length, keeps every 413
a problem+json with a request id.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import body_too_large_body


class BodyTooLarge(Exception):  # noqa: N818 - named after the condition, like the HTTP status
    """The request body exceeds `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"request body over {max_bytes} bytes")
        self.max_bytes = max_bytes


class BodyLimitMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._refuse(send)
                return
            # The server frames the body by Content-Length: it cannot grow past the declaration.
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False
        limit = self.max_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        status, headers, body = body_too_large_body(self.max_bytes)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
