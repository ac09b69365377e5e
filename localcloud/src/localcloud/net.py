"""Loopback networking shared by the simulated ALB, the task runtimes and ``localcloud``.

Everything the local cloud serves listens on 127.0.0.1 only: the emulator's API is open to every
local user, and nothing of it may be reachable from another machine.
"""

from __future__ import annotations

import socket
import threading
from http.server import ThreadingHTTPServer


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class QuietHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print clients hanging up (health checkers and
    proxies give up on slow answers by design)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        del request, client_address

    def serve_in_background(self, name: str, poll_interval: float) -> QuietHTTPServer:
        """Serve on a daemon thread named ``name`` until :meth:`close`; return ``self``."""
        threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        ).start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self.shutdown()
        self.server_close()
