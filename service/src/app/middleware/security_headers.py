"""Security headers on every response.

* `X-Content-Type-Options: nosniff`: browsers must not guess a type other than the declared one.
* `Cache-Control: no-store`: API answers (results of caller data) are never cached by browsers
  or proxies.
* `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`, `X-Frame-Options:
  DENY`, `Referrer-Policy: no-referrer`: a JSON API has nothing to load, embed or refer. The
  interactive docs pages (development only by default) set their own, exact
  policy (`app.api.docs`), which is left as it is.
See https://cheatsheetseries.owasp.org/cheatsheets/REST_Security_Cheat_Sheet.html#security-headers
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
#: Every response's security headers (also sent by `app.middleware.health`).
HEADERS = (*_COMMON, _CSP)


class SecurityHeadersMiddleware:
    """See the module docstring. Headers the app already set are left as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
