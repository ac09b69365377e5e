"""Typed dependencies shared by the routers.

All are `async def` on purpose: FastAPI runs a sync dependency in its thread pool, which costs
more than the whole /health handler.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.problems import is_json_media_type, unsupported_media_type
from app.processing.engine import Processor


async def get_processor(request: Request) -> Processor:
    """The app's processor (caches, sandbox)."""
    processor: Processor = request.app.state.processor
    return processor


async def read_json_body(request: Request) -> bytes:
    """The raw request body, after checking it is declared as JSON (415 otherwise).

    The body is read here, not by FastAPI's model binding, so that the processing core parses
    it once with orjson and reports malformed JSON with its position.
    """
    content_type = request.headers.get("content-type", "")
    if not is_json_media_type(content_type):
        raise unsupported_media_type(content_type)
    return await request.body()


ProcessorDep = Annotated[Processor, Depends(get_processor)]
JSONBody = Annotated[bytes, Depends(read_json_body)]
