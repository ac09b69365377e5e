"""A webhook receiver on 127.0.0.1 (test support): records what opsctl posts and answers as
told (a status, a delay, a redirect), in a thread of the test process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    """Where to post (with a path that stands for a webhook's secret)."""
    status: int = 200
    delay: float = 0.0
    redirect_to: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


@contextmanager
def receiver(path: str = "/services/T000/B000/not-a-real-secret") -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            target = box[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            target.headers.append(dict(self.headers))
            target.received.append(json.loads(body or b"{}"))
            if target.delay:
                time.sleep(target.delay)
            if target.redirect_to:
                self.send_response(307)
                self.send_header("Location", target.redirect_to)
                self.end_headers()
                return
            try:
                self.send_response(target.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the client gave up waiting (the slow-webhook test)
                return

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Receiver(f"http://127.0.0.1:{server.server_port}{path}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
