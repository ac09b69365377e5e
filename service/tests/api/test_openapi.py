"""OpenAPI and interactive docs: on in development, off by default in production."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_are_off_in_production(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_are_on_in_development(make_client: Callable[..., TestClient], path: str) -> None:
    response = make_client(environment="development").get(path)
    assert response.status_code == 200
    if path != "/openapi.json":
        # Swagger UI and ReDoc load scripts from their CDN: no CSP on those two pages.
        assert "content-security-policy" not in response.headers


def test_docs_can_be_forced_on_in_production(make_client: Callable[..., TestClient]) -> None:
    assert make_client(docs_enabled=True).get("/openapi.json").status_code == 200


def test_openapi_describes_both_endpoints_with_examples(
    make_client: Callable[..., TestClient],
) -> None:
    spec = make_client(environment="development", version="1.2.3").get("/openapi.json").json()
    assert spec["info"]["version"] == "1.2.3"
    health = spec["paths"]["/health"]
    assert set(health) == {"get", "head"}
    assert (
        health["get"]["responses"]["200"]["content"]["application/json"]["example"]["status"]
        == "ok"
    )
    process = spec["paths"]["/process"]["post"]
    request = process["requestBody"]["content"]["application/json"]
    assert set(request["schema"]["properties"]) == {"data", "expression", "schema"}
    assert request["schema"]["additionalProperties"] is False
    assert {"filter-and-project", "aggregate"} <= set(request["examples"])
    assert process["responses"]["200"]["content"]["application/json"]["example"]["result"]
    problems = process["responses"]["422"]["content"]["application/problem+json"]
    assert problems["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert {"expression-syntax", "schema-validation", "invalid-request"} <= set(
        problems["examples"]
    )
    for status in ("400", "413", "415"):
        assert "application/problem+json" in process["responses"][status]["content"]
    assert "Problem" in spec["components"]["schemas"]


def test_the_documented_examples_really_work(make_client: Callable[..., TestClient]) -> None:
    client = make_client(environment="development")
    spec = client.get("/openapi.json").json()
    process = spec["paths"]["/process"]["post"]
    for name, example in process["requestBody"]["content"]["application/json"]["examples"].items():
        response = client.post("/process", json=example["value"])
        assert response.status_code == 200, (name, response.text)
    assert (
        client.post(
            "/process",
            json=process["requestBody"]["content"]["application/json"]["examples"][
                "filter-and-project"
            ]["value"],
        ).json()
        == process["responses"]["200"]["content"]["application/json"]["example"]
    )
