"""A simulated ALB listener on 127.0.0.1: forwards requests to the healthy targets of the
target group its listener forwards to, as a :class:`Routing` (the ECS simulator) reports them.

It follows the load balancer's first listener's default action (forward or fixed-response;
any other action answers 503), answers as an ALB does when it cannot forward (503 with no
routable target, 502 when the connection fails, 504 when the target does not answer in time),
and records the ALB's metrics (RequestCount, HTTPCode_Target_nXX_Count, TargetResponseTime,
HTTPCode_ELB_5XX_Count and 502/503/504) in the emulated CloudWatch under AWS/ApplicationELB with
the LoadBalancer dimension, and the target group's with TargetGroup and LoadBalancer.
"""

from __future__ import annotations

import http.client
import itertools
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from moto.elbv2.models import elbv2_backends

from localcloud.alb.metrics import put_alb_metrics
from localcloud.net import QuietHTTPServer

IDLE_TIMEOUT_SECONDS = 60.0
"""The ALB's default idle timeout (simulated seconds)."""


class Routing(Protocol):
    """Where the ALB may send a request: the target health that the ECS simulator keeps."""

    def routable_addresses(self, group_arn: str) -> list[tuple[str, int]]:
        """Loopback addresses of the targets of ``group_arn`` a request may go to (healthy
        ones, or every unhealthy one when none is healthy: the ALB fails open)."""


_ELB_PAGES = {
    502: b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    503: b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
    504: b"<html><body><h1>504 Gateway Time-out</h1></body></html>",
}


class AlbFront:
    """One HTTP server per load balancer, started on first use.

    ``idle_timeout`` is how long (real seconds) a listener waits for a target's answer before
    it answers 504 itself.
    """

    def __init__(self, routing: Routing, idle_timeout: float) -> None:
        self.routing = routing
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._servers: dict[str, QuietHTTPServer] = {}
        self._round_robin = itertools.count()

    def url(self, load_balancer: str, port: int = 0) -> str:
        """The listener's URL, started on first use on ``port`` (0: a free port).

        Raises ``KeyError`` for an unknown load balancer and ``OSError`` when ``port`` is taken.
        """
        account, region, arn = self._locate(load_balancer)
        with self._lock:
            server = self._servers.get(arn)
            if server is None:
                server = QuietHTTPServer(
                    ("127.0.0.1", port), _handler(self, account, region, arn)
                ).serve_in_background(f"alb-{port or 'any'}", poll_interval=0.1)
                self._servers[arn] = server
            host, bound = server.server_address[:2]
        return f"http://{host!s}:{bound}"

    def served(self) -> dict[str, str]:
        """Load balancer ARN -> URL of every listener running."""
        with self._lock:
            return {
                arn: f"http://{server.server_address[0]!s}:{server.server_address[1]}"
                for arn, server in self._servers.items()
            }

    def close_missing(self) -> list[str]:
        """Stop the listeners of load balancers that no longer exist; return their ARNs."""
        existing = {arn for _, _, arn in self.load_balancers()}
        with self._lock:
            gone = [arn for arn in self._servers if arn not in existing]
            servers = [self._servers.pop(arn) for arn in gone]
        for server in servers:
            server.close()
        return gone

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()

    @staticmethod
    def load_balancers() -> list[tuple[str, str, str]]:
        """``(account, region, arn)`` of every application load balancer in the emulator."""
        found = []
        for account, regional in list(elbv2_backends.items()):
            for region, backend in list(regional.items()):
                for arn, balancer in list(backend.load_balancers.items()):
                    if getattr(balancer, "type", "application") == "application":
                        found.append((account, region, arn))
        return found

    @staticmethod
    def _locate(load_balancer: str) -> tuple[str, str, str]:
        for account, regional in list(elbv2_backends.items()):
            for region, backend in list(regional.items()):
                for arn, balancer in backend.load_balancers.items():
                    if load_balancer in (arn, balancer.name):
                        return account, region, arn
        raise KeyError(f"no load balancer {load_balancer!r} in the emulator")

    def next_index(self) -> int:
        return next(self._round_robin)


def _default_action(account: str, region: str, arn: str) -> dict[str, Any] | None:
    balancer = elbv2_backends[account][region].load_balancers.get(arn)
    if balancer is None or not balancer.listeners:
        return None
    listener = next(iter(balancer.listeners.values()))
    actions = listener.default_actions or []
    if not actions:
        return None
    data = getattr(actions[0], "data", None)
    return dict(data) if isinstance(data, dict) else None


def _target_group_of(action: dict[str, Any]) -> str | None:
    if action.get("TargetGroupArn"):
        return str(action["TargetGroupArn"])
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    return str(groups[0]["TargetGroupArn"]) if groups else None


def _group_dimension(group_arn: str | None) -> str | None:
    """``targetgroup/<name>/<id>``, the TargetGroup dimension's value (the ARN's suffix)."""
    return group_arn.rsplit(":", 1)[-1] if group_arn else None


def _handler(front: AlbFront, account: str, region: str, arn: str) -> type[BaseHTTPRequestHandler]:
    dimension = arn.split(":loadbalancer/", 1)[-1]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def do_PUT(self) -> None:
            self._forward()

        def do_DELETE(self) -> None:
            self._forward()

        def _send(self, status: int, body: bytes, content_type: str = "text/html") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server", "awselb/2.0")
            self.end_headers()
            self.wfile.write(body)

        def _elb_error(self, status: int) -> None:
            # The load balancer's own answers: published per load balancer only.
            put_alb_metrics(
                account,
                region,
                dimension,
                {"RequestCount": 1, "HTTPCode_ELB_5XX_Count": 1, f"HTTPCode_ELB_{status}_Count": 1},
            )
            self._send(status, _ELB_PAGES[status])

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            action = _default_action(account, region, arn)
            if action is None:
                self._elb_error(503)
                return
            kind = str(action.get("Type", "")).lower()
            if kind == "fixed-response":
                config = action.get("FixedResponseConfig") or {}
                status = int(config.get("StatusCode", 200))
                put_alb_metrics(account, region, dimension, {"RequestCount": 1})
                self._send(
                    status,
                    str(config.get("MessageBody", "")).encode(),
                    str(config.get("ContentType", "text/plain")),
                )
                return
            group = _target_group_of(action) if kind == "forward" else None
            addresses = front.routing.routable_addresses(group) if group else []
            if not addresses:
                self._elb_error(503)
                return
            host, port = addresses[front.next_index() % len(addresses)]
            connection = http.client.HTTPConnection(host, port, timeout=front.idle_timeout)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
            }
            headers["X-Forwarded-For"] = self.client_address[0]
            # The ALB's format: Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>.
            # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html
            headers["X-Amzn-Trace-Id"] = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
            started = time.monotonic()
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except TimeoutError:
                self._elb_error(504)
                return
            except OSError:
                self._elb_error(502)
                return
            finally:
                connection.close()
            klass = f"HTTPCode_Target_{response.status // 100}XX_Count"
            put_alb_metrics(
                account,
                region,
                dimension,
                {"RequestCount": 1, klass: 1},
                target_group_dimension=_group_dimension(group),
                response_time=time.monotonic() - started,
            )
            self._send(
                response.status, payload, response.getheader("Content-Type") or "application/json"
            )

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    return Handler
