"""OpenAPI and interactive docs: on in development, off by default in production."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

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
        # Swagger UI and ReDoc are served by the service itself: each page has a CSP that
        # allows this origin and nothing else (app.api.docs; rendered in Chromium by
        # integration/test_docs_browser.py).
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'none'; script-src 'self'")
        assert "http" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "http://" not in response.text
        assert "https://" not in response.text  # no CDN: the pages work offline


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


@pytest.mark.parametrize(
    ("asset", "media_type"),
    [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "javascript"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_the_docs_assets_are_served_by_the_service(
    make_client: Callable[..., TestClient], asset: str, media_type: str
) -> None:
    client = make_client(environment="development")
    response = client.get(f"/docs/assets/{asset}")
    assert response.status_code == 200
    assert media_type in response.headers["content-type"]
    assert len(response.content) > 500
    assert client.get(f"/docs/assets/{asset}x").status_code == 404


def test_the_docs_assets_are_not_served_in_production(client: TestClient) -> None:
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404


def test_the_swagger_page_csp_allows_its_inline_script_by_hash(
    make_client: Callable[..., TestClient],
) -> None:
    page = make_client(environment="development").get("/docs")
    script = page.text.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]


def test_the_vendored_assets_are_those_pinned() -> None:
    """Every file under app/docs_assets is the one `make docs-assets` took from the pinned npm
    tarball (its sha256 in SHA256SUMS, its package and version in docs-assets.toml)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "docs_assets.py"
    spec = importlib.util.spec_from_file_location("docs_assets", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.check() == []
