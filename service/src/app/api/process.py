"""POST /process: validate a JSON document against an optional schema, then transform it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.deps import JSONBody, ProcessorDep
from app.problems import PROBLEM_CONTENT, PROBLEM_MEDIA_TYPE, TYPE_PREFIX
from app.processing.request import REFERENCE_EXAMPLE, ProcessRequestBody

router = APIRouter(tags=["process"])


class ProcessResponse(BaseModel):
    """The expression's result."""

    result: Any = Field(description="Any JSON value (null when the expression selects nothing).")


def _problem_example(slug: str, status: int, title: str, detail: str, **more: Any) -> Any:  # noqa: ANN401
    return {
        "value": {
            "type": TYPE_PREFIX + slug,
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": "3f2a9c1d0b8e4f7a9c1d0b8e4f7a9c1d",
            **more,
        }
    }


_REQUEST_EXAMPLES = {
    "filter-and-project": {
        "summary": "Validate, filter and project",
        "value": REFERENCE_EXAMPLE,
    },
    "aggregate": {
        "summary": "No schema; aggregate with functions",
        "value": {
            "data": {"orders": [{"total": 42.5}, {"total": 7.0}, {"total": 99.9}]},
            "expression": "{count: length(orders), biggest: max(orders[].total)}",
        },
    },
}

_PROBLEMS = {
    PROBLEM_MEDIA_TYPE: {
        **PROBLEM_CONTENT[PROBLEM_MEDIA_TYPE],
        "examples": {
            "expression-syntax": _problem_example(
                "expression-syntax",
                422,
                "The expression is not valid JMESPath",
                "Unexpected rbracket token ']' at position 8.",
                position=8,
                token="]",  # noqa: S106  # nosec B106 - a JMESPath token, not a credential
            ),
            "schema-validation": _problem_example(
                "schema-validation",
                422,
                "The data does not match the schema",
                "The data violates the schema in 1 place(s); see errors.",
                errors=[
                    {
                        "pointer": "/data/orders/1",
                        "detail": '"status" is a required property',
                        "schema_pointer": "/schema/properties/orders/items/required",
                    }
                ],
                truncated=False,
            ),
            "invalid-request": _problem_example(
                "invalid-request",
                422,
                "The request does not match the /process request format",
                "The body is not a valid /process request: /query: unknown field; the "
                "allowed fields are data, expression, schema",
                errors=[
                    {
                        "pointer": "/query",
                        "detail": "unknown field; the allowed fields are data, expression, schema",
                    }
                ],
            ),
        },
    }
}


@router.post(
    "/process",
    summary="Validate and transform a JSON document",
    response_model=None,
    responses={
        200: {
            "model": ProcessResponse,
            "content": {
                "application/json": {
                    "example": {"result": [{"id": 1, "total": 42.5}, {"id": 3, "total": 99.9}]}
                }
            },
        },
        400: {"description": "The body is not JSON.", "content": PROBLEM_CONTENT},
        413: {"description": "The body is over the size limit.", "content": PROBLEM_CONTENT},
        415: {
            "description": "The body is not declared as application/json.",
            "content": PROBLEM_CONTENT,
        },
        422: {
            "description": "Unknown or missing fields, an invalid expression or schema, data "
            "that violates the schema, nesting or sizes over the limits, a schema too costly "
            "to check against this data.",
            "content": _PROBLEMS,
        },
        503: {
            "description": "No sandbox worker became free in time (see the Retry-After header).",
            "content": PROBLEM_CONTENT,
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": ProcessRequestBody.model_json_schema(by_alias=True),
                    "examples": _REQUEST_EXAMPLES,
                }
            },
        }
    },
)
async def process(body: JSONBody, processor: ProcessorDep) -> Response:
    """Apply `expression` (JMESPath) to `data`, after validating `data` against `schema`.

    Small requests run on the event loop; large or costly ones, and every schema, in sandbox
    worker processes, so that no request holds the loop (and /health) for long
    (app.processing.engine).
    """
    encoded = await processor.handle(body)
    return Response(b'{"result":' + encoded + b"}", media_type="application/json")
