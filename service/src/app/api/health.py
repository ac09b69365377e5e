"""GET|HEAD /health: what the ALB target group checks (runbook 8.2).

Answered from memory: the document is encoded once when the app is created (`build_router`),
so the handler has no parameters, does no I/O and depends on nothing else; it only fails when
this process cannot serve at all.
"""

from __future__ import annotations

from typing import Literal

import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.settings import Settings


class Health(BaseModel):
    """The health document."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    commit: str = Field(examples=["9f3c2a1"])


def document(settings: Settings) -> bytes:
    """The encoded health document (also what `app.middleware.health` sends)."""
    return orjson.dumps(Health(version=settings.version, commit=settings.commit).model_dump())


def build_router(settings: Settings) -> APIRouter:
    """The /health router for one app: the document is encoded here, once. In the app,
    `app.middleware.health` answers first; this route documents it in OpenAPI."""
    encoded = document(settings)
    router = APIRouter(tags=["health"])

    @router.head("/health", operation_id="health_head", response_model=Health)
    @router.get(
        "/health",
        operation_id="health",
        response_model=Health,
        summary="Liveness for the load balancer",
        responses={
            200: {
                "content": {
                    "application/json": {
                        "example": {"status": "ok", "version": "0.1.0", "commit": "9f3c2a1"}
                    }
                }
            }
        },
    )
    async def health() -> Response:
        """200 `{"status": "ok", "version": ..., "commit": ...}`, from memory."""
        return Response(encoded, media_type="application/json")

    return router
