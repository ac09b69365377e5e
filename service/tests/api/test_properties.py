"""Property tests: whatever a caller sends, the answer is never a 5xx."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from app.main import create_app
from app.settings import Settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Callers may use JMESPath's legacy `foo` literals; the library warns, the service answers.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated string literal syntax")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=40,
)

# Expression text drawn from JMESPath's own alphabet, so that parsing goes deep, not just
# "unexpected character" on the first byte.
_TOKENS = [
    *"abc@*.[]{}()?|&!=<>,:'`\"-0123 ",
    "length",
    "sort_by",
    "to_string",
    "[?",
    "||",
    "&&",
    "==",
    "`1`",
    "`[]`",
]
jmespath_text = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=30).map("".join)

names = st.sampled_from(["a", "b", "@", "*", "[0]", "[]", "[*]", "[-1]", "[::2]"])


def _grammar() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(inner, inner)
        return st.one_of(
            pair.map(lambda t: f"{t[0]}.{t[1]}"),
            pair.map(lambda t: f"[{t[0]}, {t[1]}]"),
            pair.map(lambda t: f"{{x: {t[0]}, y: {t[1]}}}"),
            pair.map(lambda t: f"{t[0]} | {t[1]}"),
            pair.map(lambda t: f"{t[0]}[?{t[1]} > `1`]"),
            pair.map(lambda t: f"{t[0]} == {t[1]}"),
            pair.map(lambda t: f"{t[0]} && {t[1]}"),
            pair.map(lambda t: f"join(',', {t[0]})"),
            pair.map(lambda t: f"sort_by({t[0]}, &{t[1]})"),
            pair.map(lambda t: f"max_by({t[0]}, &{t[1]})"),
            pair.map(lambda t: f"contains({t[0]}, {t[1]})"),
            pair.map(lambda t: f"merge({t[0]}, {t[1]})"),
            pair.map(lambda t: f"not_null({t[0]}, {t[1]})"),
            inner.map(lambda e: f"sum({e})"),
            inner.map(lambda e: f"avg({e})"),
            inner.map(lambda e: f"to_number({e})"),
            inner.map(lambda e: f"to_string({e})"),
            inner.map(lambda e: f"length({e})"),
            inner.map(lambda e: f"values({e})"),
            inner.map(lambda e: f"sort({e})"),
            inner.map(lambda e: f"map(&to_array(@), {e})"),
        )

    return st.recursive(names, extend, max_leaves=10)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def _assert_not_5xx(client: TestClient, body: bytes) -> None:
    response = client.post("/process", content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, (body[:300], response.text[:300])
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_values, expression=jmespath_text)
def test_arbitrary_json_and_expression_text(client: TestClient, data: Any, expression: str) -> None:
    _assert_not_5xx(client, orjson.dumps({"data": data, "expression": expression}))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_values, expression=_grammar())
def test_arbitrary_json_and_well_formed_expressions(
    client: TestClient, data: Any, expression: str
) -> None:
    _assert_not_5xx(client, orjson.dumps({"data": data, "expression": expression}))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | json_values.map(orjson.dumps))
def test_arbitrary_bodies(client: TestClient, body: bytes) -> None:
    _assert_not_5xx(client, body)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_values, schema=json_values)
def test_arbitrary_schemas(client: TestClient, data: Any, schema: Any) -> None:
    _assert_not_5xx(client, orjson.dumps({"data": data, "expression": "@", "schema": schema}))
