# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
import logging
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import BaseModel

logger = logging.getLogger(__name__)
router = APIRouter()


class ProcessRequest(BaseModel):
    data: object
    expression: str


def get_settings() -> object:
    return object()


@router.post("/raw")
async def raw(request: Request) -> dict[str, int]:
    body = await request.body()
    # ruleid: service-no-request-body-logging
    logger.info("received %s", body)
    # ruleid: service-no-request-body-logging
    logger.debug("received", extra={"body": body.decode()})
    # ok: service-no-request-body-logging
    logger.info("received %d bytes", len(body))
    return {"size": len(body)}


@router.post("/json")
async def as_json(request: Request) -> dict[str, str]:
    document = await request.json()
    # ruleid: service-no-request-body-logging
    logging.warning("bad document: %s", document["expression"])
    # ok: service-no-request-body-logging
    logger.info("path %s", request.url.path)
    return {}


@router.post("/process")
async def process(
    payload: ProcessRequest,
    settings: Annotated[object, Depends(get_settings)],
    trace_id: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    # ruleid: service-no-request-body-logging
    logger.info("processing %s", payload)
    # ruleid: service-no-request-body-logging
    logger.error("expression was %s", payload.expression)
    # ok: service-no-request-body-logging
    logger.info("trace %s", trace_id)
    # ok: service-no-request-body-logging
    logger.info("settings %s", settings)
    return {}


@router.get("/health")
async def health(verbose: bool = False) -> dict[str, str]:
    # ok: service-no-request-body-logging
    logger.info("health verbose=%s", verbose)
    return {"status": "ok"}


@router.put("/items")
def put_item(item: Annotated[ProcessRequest, Body(embed=True)], limit: int = 10) -> None:
    # ruleid: service-no-request-body-logging
    print(item.data)
    # ok: service-no-request-body-logging
    print(limit)
