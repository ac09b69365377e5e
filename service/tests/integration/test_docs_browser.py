"""/docs and /redoc in a real browser (Debian's headless Chromium), with no internet.

The service runs as `app-serve` in development mode; Chromium loads each page with its CSP and
prints the DOM after the page's scripts ran (`--dump-dom`) and every console message, among them
each CSP violation, on stderr. A page passes when it rendered the API (both operations) and the
only loads its CSP blocked were to other origins (ReDoc's footer logo from its CDN), never
something the page needs from the service.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from .test_server import Served, start

pytestmark = pytest.mark.needs_chromium

CHROMIUM = shutil.which("chromium") or "chromium"
# Flags that work as root, offline, with no first-run work (docs/service.md, "API docs").
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=8000",
]
_VIOLATION = re.compile(r'"([^"]*violates the following Content Security Policy[^"]*)"')
_BLOCKED_URL = re.compile(r"'(\w+:[^']*)'")


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start(tmp_path_factory.mktemp("docs"), APP_ENVIRONMENT="development")
    yield served
    served.stop()


def render(url: str) -> tuple[str, list[str]]:
    """The DOM after the scripts ran, and the CSP violations Chromium reported."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return done.stdout, _VIOLATION.findall(done.stderr)


def _external(violation: str, origin: str) -> bool:
    blocked = _BLOCKED_URL.search(violation)
    return blocked is not None and not blocked.group(1).startswith(origin)


def test_swagger_ui_renders_both_operations_offline(docs_server: Served) -> None:
    dom, violations = render(docs_server.url("/docs"))
    assert 'class="swagger-ui' in dom
    assert 'data-path="/health"' in dom
    assert 'data-path="/process"' in dom
    assert "Validate and transform a JSON document" in dom
    assert violations == []


def test_redoc_renders_both_operations_offline(docs_server: Served) -> None:
    dom, violations = render(docs_server.url("/redoc"))
    assert "Validate and transform a JSON document" in dom
    assert "Liveness for the load balancer" in dom
    origin = docs_server.url("")
    assert [v for v in violations if not _external(v, origin)] == []


def test_the_assets_came_from_the_service(docs_server: Served) -> None:
    render(docs_server.url("/docs"))
    paths = {line["path"] for line in docs_server.read_lines() if line["logger"] == "app.access"}
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= paths
