"""The reference /process workload: 100 records of 10 fields, filter then project."""

from __future__ import annotations

import random
from typing import Any

EXPRESSION = "records[?active && score > `50`].{id: id, name: name, score: score, country: country}"

#: The same request with a schema (informative row: the naive baseline validates with the
#: pure-Python `jsonschema` package and recompiles the schema on every request).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["records"],
    "properties": {
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "active", "score"],
                "properties": {
                    "id": {"type": "integer", "minimum": 0},
                    "name": {"type": "string", "maxLength": 64},
                    "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
                    "active": {"type": "boolean"},
                    "score": {"type": "integer", "minimum": 0, "maximum": 100},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def records(count: int = 100, seed: int = 2026) -> list[dict[str, Any]]:
    """`count` deterministic records of 10 fields each."""
    rng = random.Random(seed)  # noqa: S311 - test data, not cryptography
    return [
        {
            "id": i,
            "name": f"user-{i:04d}",
            "email": f"user{i}@example.com",
            "active": i % 3 != 0,
            "score": rng.randint(0, 100),
            "tags": rng.sample(["red", "green", "blue", "amber", "violet"], k=2),
            "country": rng.choice(["DE", "FR", "IE", "US", "JP"]),
            "created": f"2026-01-{1 + i % 28:02d}T12:00:00Z",
            "plan": rng.choice(["free", "team", "enterprise"]),
            "balance": round(rng.uniform(0, 1000), 2),
        }
        for i in range(count)
    ]


def request(with_schema: bool = False) -> dict[str, Any]:
    """The reference request body."""
    body: dict[str, Any] = {"data": {"records": records()}, "expression": EXPRESSION}
    if with_schema:
        body["schema"] = SCHEMA
    return body
