"""Container HEALTHCHECK probe: exit 0 when the service's GET /health answers 200, else 1.

Run by the image's HEALTHCHECK (`docker run`, compose, `podman healthcheck run`); the slim base
has no curl, so the probe is the standard library. It asks the server where it listens: PORT
(default 8000) on HOST, or on 127.0.0.1 when HOST is a wildcard address. ECS ignores the image's
HEALTHCHECK unless the task definition enables one; the ALB probes /health itself (runbook 8.2).
"""

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 2.0
# Addresses that mean "every interface": probe loopback instead.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 (compared, never bound)  # nosec B104


def health_url(environ: dict[str, str]) -> str:
    """The /health URL of the server configured by HOST and PORT in ``environ``."""
    host = environ.get("HOST", "127.0.0.1").strip()
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = environ.get("PORT", "8000").strip() or "8000"
    return f"http://{host}:{port}/health"


def probe(url: str, timeout: float = TIMEOUT_SECONDS) -> int:
    """0 if ``url`` answers 200 within ``timeout`` seconds, else 1 (reason on stderr)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http only, built above)  # nosec B310
            if response.status == 200:
                return 0
            print(f"healthcheck: {url} answered {response.status}", file=sys.stderr)
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"healthcheck: {url} failed: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(probe(health_url(dict(os.environ))))
