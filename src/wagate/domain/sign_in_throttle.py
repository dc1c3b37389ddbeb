"""The console door's own lock-out per name, in front of the users' lock-out.

A real user is locked out after `SignInPolicy.max_failures` failures (the database counts
those, and says until when); a name nobody has would otherwise never be, and the difference
would tell a stranger which names exist. This window gives every name typed at the door the
same treatment, so an unknown name is "locked" exactly like a real one.

Deliberately no window per client address: behind a reverse proxy without forwarded headers
every client shares one address, and such a window would let anyone lock the whole office out
with a handful of wrong passwords.

Pure: the caller passes the time. Each gateway process keeps its own counts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(slots=True)
class FailureWindow:
    """At most `limit` failures per key within `span`; the oldest key is forgotten first when
    more than `max_keys` are tracked (so a flood of addresses cannot grow it without bound)."""

    limit: int
    span: timedelta
    max_keys: int = 10_000
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        """When `key` may try again, or None if it may now."""
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return None
        # Like the users' own lock-out: until `span` after the last failure.
        return times[-1] + self.span

    def failed(self, key: str, now: datetime) -> None:
        times = self._recent(key, now)
        if times is None:
            if len(self._failures) >= self.max_keys:
                del self._failures[next(iter(self._failures))]
            times = self._failures[key] = deque()
        times.append(now)
        while len(times) > self.limit:
            times.popleft()

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.span:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
