"""``--since`` values (``logs``): a duration before now or an ISO 8601 time.

Kept apart from the command so the CLI validates the option before anything talks to AWS
(this module imports no boto3).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from opsctl.errors import UsageError

_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_EXPECTED = "expected a duration like 30s, 10m, 2h, 1d, 1w or an ISO 8601 time"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""CloudWatch Logs counts time in milliseconds since the epoch: nothing is older."""


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``10m``, ``2h``, ``1d``... before now, or an ISO 8601 time (UTC when no zone).

    UsageError (exit 2) names the option for anything else: an unknown form, a time before
    1970 or one too far back to compute, a time in the future.
    """
    now = now or datetime.now(UTC)
    text = value.strip()
    match = _DURATION.match(text)
    try:
        if match:
            start = now - timedelta(**{_UNITS[match["unit"]]: int(match["n"])})
        else:
            parsed = datetime.fromisoformat(text)
            start = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError as error:
        raise UsageError(f"--since {value!r}: {_EXPECTED}") from error
    except OverflowError as error:  # timedelta(days=99999999999), or now minus it
        raise UsageError(f"--since {value!r}: too far back (logs start in 1970)") from error
    if start < EPOCH:
        raise UsageError(f"--since {value!r}: before 1970, when CloudWatch Logs time starts")
    if start > now + timedelta(minutes=1):
        raise UsageError(f"--since {value!r}: in the future ({start.isoformat()})")
    return start
