"""Debounce (SE2): when may a burst of messages be answered? Pure; time is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class DebouncePolicy:
    quiet: timedelta  # silence needed after the last message of a burst
    max_wait: timedelta  # but never wait longer than this after its first message

    def ready_at(self, *, first_arrival: datetime, last_arrival: datetime) -> datetime:
        """The moment the burst may be answered: `quiet` after its last message, capped at
        `max_wait` after its first, so a chatty user still gets answers."""
        return min(last_arrival + self.quiet, first_arrival + self.max_wait)

    def wait_until(
        self, *, now: datetime, first_arrival: datetime, last_arrival: datetime
    ) -> datetime | None:
        """None when the burst is ready now, else when to look again."""
        ready = self.ready_at(first_arrival=first_arrival, last_arrival=last_arrival)
        return None if ready <= now else ready
