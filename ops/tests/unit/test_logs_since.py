"""--since parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opsctl.commands.logs import parse_since
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
