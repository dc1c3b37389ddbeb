"""Pacing per (business number, user) pair (OU6).

Meta allows about one message every 6 s to the same user, with short bursts borrowed from
later; going over answers 131056. A token bucket models exactly that: `burst` messages at once,
then one per `interval`. The bucket is computed from the times of the pair's recent sends, so
it needs no state of its own and holds across processes and restarts.

A 131056 that still happens slows the pair down: Meta suggests waiting 4^n seconds after the
n-th refusal in a row; we use that, capped, and never count it as a failed attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class PairPacing:
    burst: int = 8
    interval: timedelta = timedelta(seconds=6)
    max_slowdown: timedelta = timedelta(minutes=10)

    @property
    def lookback(self) -> timedelta:
        """How far back the sends that still matter go."""
        return self.interval * self.burst

    def next_send_at(self, recent_sends: Sequence[datetime], now: datetime) -> datetime:
        """When the next message to this pair may go (`now` or later)."""
        if self.interval <= timedelta(0):
            return now
        tokens = float(self.burst)
        last: datetime | None = None
        for sent in sorted(recent_sends):
            if last is not None:
                tokens = min(float(self.burst), tokens + (sent - last) / self.interval)
            tokens -= 1.0
            last = sent
        if last is None:
            return now
        tokens = min(float(self.burst), tokens + (now - last) / self.interval)
        if tokens >= 1.0:
            return now
        return now + self.interval * (1.0 - tokens)

    def slowdown(self, throttles: int, retry_after: float | None = None) -> timedelta:
        """The wait after the `throttles`-th 131056 in a row (counting from 1)."""
        wait = min(self.max_slowdown, timedelta(seconds=4 ** min(max(throttles, 1), 8)))
        wait = max(wait, self.interval)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait
