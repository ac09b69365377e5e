"""The floor of `make bench`: a raw ASGI app on the same server as the fair baseline.

No framework, no middleware, no access line: GET /health answered with the same document in two
`send`s. What is left is the server's own cost per request (uvicorn on uvloop + httptools, as
`fastapi run` starts it), which nothing built on it can beat.
"""

BODY = b'{"status":"ok","version":"0.1.0","commit":"unknown"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):  # noqa: ANN001, ANN201 - the bare ASGI signature
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
