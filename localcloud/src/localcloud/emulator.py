"""The emulated AWS: moto as a real HTTP server on 127.0.0.1.

Code under test reaches it only over HTTP, through boto3's default chain
(``AWS_ENDPOINT_URL`` and dummy credentials), exactly as it reaches AWS in production.
Because the server runs in this process, a simulator in the same process can change
moto's backends directly: that is how AWS "does things by itself" here (the ECS simulator,
:mod:`localcloud.ecs`). What is emulated, what is simulated and what differs from AWS:
docs/emulator.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from localcloud import moto_fixes

REGION = "us-east-1"
"""The emulator's default region. us-east-1 also hosts the billing metrics (EstimatedCharges)."""

ACCOUNT_ID = "123456789012"
"""moto's default account id."""

MOTO_DUMMY_CREDENTIAL = "testing"
"""moto accepts any credentials; this fixed dummy (moto's documented one) keeps real ones out."""


@dataclass(frozen=True)
class Endpoint:
    """Where the running emulator answers, and how a client reaches it."""

    url: str
    region: str = REGION

    def client_env(self) -> dict[str, str]:
        """Environment for a subprocess (opsctl, aws CLI, terraform) that must talk to the emulator.

        Only standard variables of boto3's and the AWS provider's default chains: the code under
        test has no emulator-specific path.
        """
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": MOTO_DUMMY_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": MOTO_DUMMY_CREDENTIAL,
            "AWS_SESSION_TOKEN": MOTO_DUMMY_CREDENTIAL,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            # No shared config or credentials from the user's machine may leak into a test.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def subprocess_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` without any AWS_* variable of the caller's, plus :meth:`client_env`.

        A profile or real credentials on the developer's machine must never reach a test.
        """
        env = {key: value for key, value in base.items() if not key.startswith("AWS_")}
        env.update(self.client_env())
        return env

    def reset(self) -> None:
        """Empty every backend (moto's documented reset endpoint)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310 - loopback URL we built
        # Bandit B310 (urlopen accepts file:// too): the URL is http:// to the loopback emulator.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
            response.read()


@cache
def _session(region: str) -> boto3.session.Session:
    return boto3.session.Session(region_name=region)


@cache
def client(url: str, region: str, service: str) -> Any:  # noqa: ANN401 - any boto3 client
    """A boto3 client for the emulator at ``url``, cached: creating one loads its JSON model
    (~0.1 s)."""
    return _session(region).client(
        service,  # type: ignore[call-overload]
        endpoint_url=url,
        aws_access_key_id=MOTO_DUMMY_CREDENTIAL,
        aws_secret_access_key=MOTO_DUMMY_CREDENTIAL,
    )


class _OneRequestAtATime:
    """A WSGI wrapper that lets one request at a time into moto.

    moto's backends are plain dicts with no locking, and Terraform sends up to ten requests at
    once: two concurrent requests can race (a dict changed while another request iterates it),
    and a request that fails after it changed a backend is retried by the AWS SDK and then
    refused as a duplicate (seen in CI: ``FlowLogAlreadyExists`` from a single
    ``aws_flow_log``). The response is read inside the lock, so a handler's lazy body cannot
    race either.
    """

    def __init__(self, app: Any) -> None:  # noqa: ANN401 - a WSGI application
        self._app = app
        self._lock = threading.RLock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:  # noqa: ANN401
        with self._lock:
            body = self._app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


class _SerializedMotoServer(ThreadedMotoServer):
    """moto's threaded server with :class:`_OneRequestAtATime` around its application."""

    def _server_entry(self) -> None:
        app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class Emulator:
    """moto's server on 127.0.0.1, in a thread of this process."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        moto_fixes.install()
        self._host = host
        self._port = port
        self._server = _SerializedMotoServer(ip_address=host, port=port, verbose=False)
        self._endpoint: Endpoint | None = None

    @property
    def endpoint(self) -> Endpoint:
        if self._endpoint is None:
            raise RuntimeError("the emulator is not running: call start() first")
        return self._endpoint

    def start(self) -> Endpoint:
        """Serve; raises ``OSError`` when the port is taken.

        moto's threaded server binds inside its thread and would wait forever for a port it
        cannot get, so the port is tried here first.
        """
        if self._port:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self._host, self._port))
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint = Endpoint(url=f"http://{host}:{port}")
        return self._endpoint

    def stop(self) -> None:
        self._server.stop()
        self._endpoint = None

    def __enter__(self) -> Endpoint:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    emulator = Emulator(port=args.port)
    endpoint = emulator.start()
    print(json.dumps({"endpoint": endpoint.url, "region": endpoint.region}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
