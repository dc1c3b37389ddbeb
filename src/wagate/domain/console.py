"""The operator console's sessions (OB4, OB8): when a signed-in browser stops being trusted.

A session ends when its user signs out, when nobody used it for `idle` (a screen left open in
an office), or `lifetime` after sign-in whatever happens (a stolen cookie does not live for
ever). Being used moves `last_seen_at`, but only every `touch_every`, so a page that polls
does not write to the database on every request. Pure rules; the store and the cookie are
elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.lifetime <= timedelta(0):
            raise ValueError("a console session needs a positive idle timeout and lifetime")

    def alive(self, session: ConsoleSession, now: datetime) -> bool:
        if session.ended_at is not None:
            return False
        return now < session.last_seen_at + self.idle and now < session.created_at + self.lifetime

    def needs_touch(self, session: ConsoleSession, now: datetime) -> bool:
        return now - session.last_seen_at >= self.touch_every


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSession:
    """A browser signed in as one user of one tenant. `user_id` is the operator user's id;
    their name and role are read again on every request, so a disabled user or a changed role
    takes effect at once."""

    id: int
    tenant: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
