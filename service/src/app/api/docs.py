"""The interactive API docs, served whole by the service: no CDN, no internet.

FastAPI's default `/docs` and `/redoc` pages load Swagger UI and ReDoc from a CDN, so they render
blank where the service has no internet access (a private subnet without NAT, a laptop offline)
and they cannot carry a strict Content-Security-Policy. Here the pages are FastAPI's own
(`get_swagger_ui_html`, `get_redoc_html`) pointed at copies served from `/docs/assets/`: the
npm packages `swagger-ui-dist` and `redoc`, pinned with their integrity hashes in
`service/docs-assets.toml` and refreshed by `make docs-assets`, which checks them.

Each page gets a CSP that allows exactly what it needs (measured in headless Chromium with
the CSP on and no violation reported, `service/tests/integration/test_docs_browser.py`):
scripts and styles from this origin, the page's own inline script or style by its hash, the
OpenAPI document from this origin; for Swagger UI, its inline SVG icons (`data:` images);
for ReDoc, the `<style>` elements it injects at run time (styled-components, which cannot
carry a hash: `style-src 'unsafe-inline'`) and its search worker, which it starts from a
`blob:` URL. Everything else stays at `default-src 'none'`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

#: The vendored files (written by `make docs-assets`; SHA256SUMS lists their hashes).
ASSETS_DIR = Path(__file__).resolve().parent.parent / "docs_assets"
ASSETS_PATH = "/docs/assets"

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def _hashes(html: str, element: str) -> str:
    """The CSP source list of the inline `<element>` blocks of `html`, by SHA-256."""
    sources = []
    for name, text in _INLINE.findall(html):
        if name == element:
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return " ".join(sources)


def _csp(*directives: str) -> str:
    return "; ".join(
        (
            "default-src 'none'",
            *directives,
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def _page(response: HTMLResponse, csp: str) -> Response:
    body = bytes(response.body)
    return HTMLResponse(body, headers={"Content-Security-Policy": csp})


def build_router(title: str, openapi_url: str) -> APIRouter:
    """GET /docs (Swagger UI) and /redoc (ReDoc) for the OpenAPI document at `openapi_url`,
    and the assets they load. The pages are rendered once, here."""
    router = APIRouter(include_in_schema=False)
    favicon = f"{ASSETS_PATH}/favicon-32x32.png"
    swagger = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=favicon,
        oauth2_redirect_url=None,  # the API has no OAuth2 flow to authorize
    )
    swagger_html = bytes(swagger.body).decode()
    swagger_csp = _csp(
        f"script-src 'self' {_hashes(swagger_html, 'script')}",
        "style-src 'self'",
        "img-src 'self' data:",
    )
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{title} - ReDoc",
        redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=favicon,
        with_google_fonts=False,  # no third-party fonts: the page stays offline
    )
    redoc_csp = _csp(
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src blob:",
    )

    @router.get("/docs")
    async def swagger_ui() -> Response:
        return _page(swagger, swagger_csp)

    @router.get("/redoc")
    async def redoc_ui() -> Response:
        return _page(redoc, redoc_csp)

    return router


def assets() -> StaticFiles:
    """The ASGI app serving the vendored files under `ASSETS_PATH`."""
    return StaticFiles(directory=ASSETS_DIR)
