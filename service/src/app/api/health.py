"""GET|HEAD /health: what the ALB target group checks (runbook 8.2).

Answered from memory: the document is encoded once when the app is created, so the handler
does no I/O and depends on nothing else; it only fails when this process cannot serve at all.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.settings import Settings

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The health document."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    commit: str = Field(examples=["9f3c2a1"])


def health_document(settings: Settings) -> bytes:
    """The encoded body /health answers for these settings."""
    return orjson.dumps(Health(version=settings.version, commit=settings.commit).model_dump())


def get_health_document(request: Request) -> bytes:
    """The document encoded at app creation (see `app.main.create_app`)."""
    document: bytes = request.app.state.health_document
    return document


HealthDocument = Annotated[bytes, Depends(get_health_document)]


@router.head("/health", operation_id="health_head", response_model=Health, include_in_schema=True)
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
async def health(document: HealthDocument) -> Response:
    """200 `{"status": "ok", "version": ..., "commit": ...}`, from memory."""
    return Response(document, media_type="application/json")
