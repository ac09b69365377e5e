"""The application factory: `create_app(settings)` builds the whole ASGI app.

Request path, outermost first: Health (GET|HEAD /health, answered there) -> Process (POST
/process, answered there) -> SecurityHeaders -> RequestContext (request id, access line,
last-resort 500) -> BodyLimit (413 before buffering) -> FastAPI's exception handling -> routers.
The routers document both hot paths in OpenAPI and answer them the same way when those layers
are absent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import logs, problems
from app.api import docs, health, process
from app.metrics import ProcessMetrics
from app.middleware.body_limit import BodyLimitMiddleware, BodyTooLarge
from app.middleware.context import RequestContextMiddleware
from app.middleware.health import HealthMiddleware
from app.middleware.process import ProcessMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.processing.engine import Processor
from app.processing.errors import ProcessingError
from app.processing.sandbox import Sandbox
from app.settings import Settings

log = logging.getLogger("app")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (read from the environment and `.env` when None)."""
    settings = settings if settings is not None else Settings()

    limits = settings.limits()
    access = logs.AccessLog()
    processor = Processor(
        limits,
        Sandbox(
            limits,
            workers=settings.sandbox_workers,
            schema_timeout=settings.schema_timeout_seconds,
            memory_bytes=settings.sandbox_memory_mb * 1024 * 1024,
        ),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Started here rather than on the first costly request: the workers import their
        # modules in the background meanwhile. Without a lifespan (a bare TestClient) they
        # start on first use.
        processor.sandbox.start()
        log.info(
            "service started",
            extra={
                "fields": {
                    "version": settings.version,
                    "commit": settings.commit,
                    "environment": settings.environment,
                    "docs": settings.docs,
                    "max_body_bytes": settings.max_body_bytes,
                }
            },
        )
        try:
            yield
        finally:
            processor.close()
            access.flush()
        log.info("service stopped", extra={"fields": {"version": settings.version}})

    app = FastAPI(
        title="aws-fastapi-service",
        summary="Validate and transform JSON with JMESPath and JSON Schema.",
        version=settings.version,
        # FastAPI's own docs pages load their scripts from a CDN: app.api.docs serves them.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        lifespan=lifespan,
        # The service's telemetry is its access line with CloudWatch EMF (app.metrics), and
        # only app.settings reads the environment. FastAPI's native OpenTelemetry would look
        # for global providers (and read OTEL_* variables) on every request: off, /health
        # takes 14% fewer instructions (docs/performance.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.processor = processor
    app.include_router(health.build_router(settings))
    app.include_router(process.router)
    if settings.docs:
        app.include_router(docs.build_router(app.title, "/openapi.json"))
        app.mount(docs.ASSETS_PATH, docs.assets(), name="docs-assets")

    app.add_exception_handler(ProcessingError, problems.processing_error_handler)
    app.add_exception_handler(problems.HTTPProblem, problems.http_problem_handler)
    app.add_exception_handler(StarletteHTTPException, problems.http_exception_handler)
    app.add_exception_handler(RequestValidationError, problems.request_validation_handler)
    app.add_exception_handler(BodyTooLarge, _body_too_large_handler)
    app.add_exception_handler(Exception, problems.unhandled_error_handler)

    # add_middleware wraps: the last one added is the outermost.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    metrics = (
        ProcessMetrics(namespace=settings.metrics_namespace, service=settings.service_name)
        if settings.metrics_enabled
        else None
    )
    app.add_middleware(RequestContextMiddleware, access=access, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        ProcessMiddleware, access=access, metrics=metrics, max_body_bytes=settings.max_body_bytes
    )
    app.add_middleware(HealthMiddleware, document=health.document(settings), access=access)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = problems.Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    return app


async def _body_too_large_handler(_: Request, error: Exception) -> Response:
    if not isinstance(error, BodyTooLarge):  # registered for this class only
        raise error
    return problems.raw_response(problems.body_too_large_body(error.max_bytes))
