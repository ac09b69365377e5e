"""Problem documents (app.problems): every one within MAX_PROBLEM_BYTES."""

from __future__ import annotations

import orjson
from app.problems import MAX_PROBLEM_BYTES, problem_body
from app.processing.errors import Violation, error_members


def test_a_small_problem_is_written_as_given() -> None:
    members = error_members([Violation("/a", "bad")], 1)
    document = orjson.loads(problem_body(422, "x", "X", "detail", members))
    assert document["errors"] == [{"pointer": "/a", "detail": "bad"}]
    assert document["truncated"] is False
    assert document["error_count"] == 1


def test_an_oversized_error_list_is_cut_to_fit_and_says_so() -> None:
    violations = [Violation("/data/" + "k" * 250, "d" * 300, "/schema/" + "s" * 250)] * 100
    body = problem_body(422, "x", "X", "detail", error_members(violations, 100))
    assert len(body) <= MAX_PROBLEM_BYTES
    document = orjson.loads(body)
    assert 0 < len(document["errors"]) < 100
    assert document["truncated"] is True
    assert document["error_count"] == 100


def test_long_strings_are_clipped_when_the_document_is_too_large() -> None:
    body = problem_body(422, "x", "X", "d" * 200_000, {"token": "t" * 200_000})
    assert len(body) <= MAX_PROBLEM_BYTES
    document = orjson.loads(body)
    assert len(document["detail"]) == 1024
    assert document["detail"].endswith("…")
    assert document["status"] == 422
