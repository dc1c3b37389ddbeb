"""Backoff for transient failures: exponential with full jitter, honouring `Retry-After`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class BackoffPolicy:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)

    def gives_up_after(self, attempt: int) -> bool:
        """`attempt` counts from 0: the first try is attempt 0."""
        return attempt + 1 >= self.max_attempts

    def delay(self, attempt: int, *, jitter: float, retry_after: float | None = None) -> timedelta:
        """Delay before the try after `attempt`; `jitter` in [0, 1) comes from the caller so the
        rule stays deterministic under test. A provider's Retry-After is a floor, not a hint."""
        # Exponent capped before multiplying: 2**attempt overflows timedelta past attempt ~45.
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 32)))
        # Half fixed, half jittered: spreads a thundering herd without collapsing to zero.
        delay: timedelta = ceiling * (0.5 + 0.5 * jitter)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        return delay
