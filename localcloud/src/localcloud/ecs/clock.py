"""Simulated time: AWS's durations (health-check intervals, grace periods, deregistration
delays) scaled down so a test sees a whole rollout in seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SimClock:
    """Converts between simulated seconds and real seconds.

    ``time_scale`` is the number of real seconds one simulated second lasts: 1.0 runs at AWS's
    pace, 0.01 runs a 30 s health-check interval in 0.3 s. Timestamps shown through the API stay
    wall-clock time; only waiting is scaled.
    """

    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.time_scale <= 10:
            raise ValueError(f"time_scale must be in (0, 10], got {self.time_scale}")

    def now(self) -> float:
        """Simulated seconds on a monotonic clock (only differences are meaningful)."""
        return time.monotonic() / self.time_scale

    def real(self, simulated_seconds: float) -> float:
        """How many real seconds ``simulated_seconds`` last."""
        return simulated_seconds * self.time_scale
