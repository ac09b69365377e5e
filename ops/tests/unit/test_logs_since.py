"""--since parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opsctl.commands.logs import parse_since, task_id
from opsctl.errors import UsageError

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_durations(text, delta):
    assert parse_since(text, NOW) == NOW - delta


def test_iso_times():
    assert parse_since("2026-01-01T10:00:00", NOW) == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_since("2026-01-01T10:00:00+02:00", NOW).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("text", ["yesterday", "10", "10 minutes", "-5m"])
def test_bad_values_name_the_option(text):
    with pytest.raises(UsageError, match="--since"):
        parse_since(text, NOW)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("99999999999d", "too far back"),
        ("999999w", "too far back"),
        ("1969-12-31T23:59:59Z", "before 1970"),
        ("2026-01-02T00:00:00Z", "in the future"),
        ("banana", "expected a duration"),
    ],
)
def test_out_of_range_values_are_usage_errors(text, why):
    with pytest.raises(UsageError, match=why):
        parse_since(text, NOW)


TASK = "0123456789abcdef" * 2  # an ECS task id: 32 hex digits


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (TASK, TASK),
        (f"arn:aws:ecs:us-east-1:123456789012:task/api-cluster/{TASK}", TASK),
        (
            "arn:aws:ecs:us-east-1:123456789012:task/7c7a4a11-5a1d-4e06-a87e-0ae0b0a6a1f2",
            "7c7a4a11-5a1d-4e06-a87e-0ae0b0a6a1f2",
        ),
    ],
)
def test_task_ids_and_arns(value, expected):
    assert task_id(value) == expected


@pytest.mark.parametrize(
    "value", ["bogus/../x", "../../etc", "ecs/app/abc", "0123456789ABCDEF", "", "a*"]
)
def test_anything_else_is_not_a_task(value):
    with pytest.raises(UsageError, match="--task"):
        task_id(value)
