"""The naive baseline: what most templates ship (one file, sync handlers, default JSON).

Run by `make bench` with plain `uvicorn` (no uvloop, no httptools) from a throwaway virtual
environment holding only `pip install fastapi uvicorn jmespath jsonschema`. Deliberately naive,
never deliberately slow: it does the same work as the service (same libraries for JMESPath;
the pure-Python `jsonschema` for schemas), without caching, orjson or limits.
"""

from typing import Any

import jmespath
import jsonschema
from fastapi import FastAPI
from pydantic import BaseModel, Field

app = FastAPI()


class ProcessRequest(BaseModel):
    data: Any
    expression: str
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": "0.1.0", "commit": "unknown"}


@app.post("/process")
def process(request: ProcessRequest) -> dict[str, Any]:
    if request.schema_ is not None:
        jsonschema.validate(request.data, request.schema_)
    return {"result": jmespath.search(request.expression, request.data)}
