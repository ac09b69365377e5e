"""`app-serve`: the production server command (what `make serve` and the container image run).

Reads every setting through `app.settings.Settings` (environment, then `.env`). Invalid settings
end the process before it listens, with exit code 2 and one JSON log line naming each bad
variable. Otherwise it serves with uvicorn on uvloop + httptools (chosen by measurement: ADR
0005), keep-alive above the ALB idle timeout, and on SIGTERM (what ECS sends to stop a task):
stops accepting connections, closes idle ones, lets in-flight requests finish for up to
`APP_GRACEFUL_SHUTDOWN_SECONDS`, then exits 0.

`app-serve --reload` is the development mode behind `make run` (restarts on code changes).
"""

from __future__ import annotations

import argparse
import gc
import logging
import logging.config
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
import uvicorn
from pydantic import ValidationError

from app.logs import logging_config
from app.main import create_app
from app.settings import Settings

#: Exit code for invalid settings (uvicorn itself exits 3 when the app fails to start and 1
#: when it cannot bind the port).
EXIT_BAD_SETTINGS = 2

log = logging.getLogger("app.server")


def _settings_error_line(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        name = str(item["loc"][0]) if item["loc"] else "?"
        # HOST and PORT are read through their validation aliases, so pydantic reports them
        # by that alias ("PORT"); every other field is reported by name and read as APP_<NAME>.
        variable = name.upper() if name.lower() in {"host", "port"} else f"APP_{name.upper()}"
        # A check across several settings (the task's memory) has no single location.
        problems.append(f"{variable}: {item['msg']}" if item["loc"] else str(item["msg"]))
    return orjson.dumps(
        {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "ERROR",
            "logger": "app.server",
            "message": "invalid settings, not starting: " + "; ".join(problems),
            "errors": problems,
        }
    ).decode()


def _keep_running(signum: int, frame: FrameType | None) -> None:
    """Installed before uvicorn runs: uvicorn re-raises the stop signal with the previous
    handler once its graceful shutdown is done; with Python's default that would kill the
    process (exit 143 for SIGTERM) instead of returning, and ECS would record a failure."""


def server_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options `app-serve` runs with (shared by every mode)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "log_config": logging_config(settings.log_level),
        "access_log": False,  # our middleware writes the access line (with request id)
        "proxy_headers": False,  # nothing here uses the client address
        "server_header": False,
        # Above the ALB idle timeout, so the ALB always closes first: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `app-serve` console script."""
    parser = argparse.ArgumentParser(prog="app-serve", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reload", action="store_true", help="development: restart when the code changes"
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(_settings_error_line(error), flush=True)  # logging is not set up yet
        sys.exit(EXIT_BAD_SETTINGS)

    logging.config.dictConfig(logging_config(settings.log_level))
    signal.signal(signal.SIGTERM, _keep_running)
    signal.signal(signal.SIGINT, _keep_running)
    common = server_options(settings)
    if args.reload:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            reload=True,
            reload_dirs=[str(Path(__file__).parent)],
            **common,
        )
    elif settings.workers > 1:
        # Each worker process builds its app from the same environment.
        uvicorn.run("app.main:create_app", factory=True, workers=settings.workers, **common)
    else:
        app = create_app(settings)
        # Everything allocated so far (modules, the app, caches) lives as long as the process:
        # keep it out of the cyclic collector's full passes, which otherwise walk it all and
        # show up as latency spikes. https://docs.python.org/3/library/gc.html#gc.freeze
        gc.freeze()
        uvicorn.run(app, **common)
    log.info("server exited", extra={"fields": {"port": settings.port}})


if __name__ == "__main__":  # pragma: no cover
    main()
