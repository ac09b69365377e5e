"""The HEALTHCHECK probe, against real HTTP servers on loopback."""

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest


@pytest.fixture
def server_answering() -> Iterator[Callable[[int], int]]:
    servers = []

    def start(status: int) -> int:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status if self.path == "/health" else 404)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, "http://127.0.0.1:8000/health"),
        ({"HOST": "0.0.0.0", "PORT": "9000"}, "http://127.0.0.1:9000/health"),
        ({"HOST": "::"}, "http://127.0.0.1:8000/health"),
        ({"HOST": "10.0.1.5", "PORT": "8080"}, "http://10.0.1.5:8080/health"),
        ({"HOST": "fd00::5"}, "http://[fd00::5]:8000/health"),
        ({"PORT": " "}, "http://127.0.0.1:8000/health"),
    ],
)
def test_probes_where_the_server_listens(healthcheck: ModuleType, environ, url) -> None:
    assert healthcheck.health_url(environ) == url


def test_healthy_when_health_answers_200(healthcheck: ModuleType, server_answering) -> None:
    port = server_answering(200)
    assert healthcheck.probe(f"http://127.0.0.1:{port}/health") == 0


def test_unhealthy_when_health_answers_503(
    healthcheck: ModuleType, server_answering, capsys
) -> None:
    port = server_answering(503)
    assert healthcheck.probe(f"http://127.0.0.1:{port}/health") == 1
    assert "503" in capsys.readouterr().err


def test_unhealthy_when_nothing_listens(healthcheck: ModuleType, capsys) -> None:
    assert healthcheck.probe(f"http://127.0.0.1:{closed_port()}/health", timeout=1.0) == 1
    assert "failed" in capsys.readouterr().err
