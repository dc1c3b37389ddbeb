"""Console sign-in sessions (OB4, OB8): the random token in the browser's cookie, and what it
stands for in the database.

The cookie holds a 256-bit random token; the database keeps only its SHA-256 digest, so a
copy of the database does not sign anybody in. The CSRF token of a session is derived from
the session token (HMAC), so it needs no storage and changes with every sign-in: a page of
another site can neither read the cookie nor compute the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from wagate.domain.console import ConsoleSession, SessionPolicy

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100  # a longer cookie is not one of ours: no hashing, no query


def session_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"wagate-console-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(csrf_token(session_token), offered)


def notice_seal(csrf: str, notice: str) -> str:
    """The seal of a notice in a redirect's URL (`?notice=…&seal=…`), keyed by the session's
    CSRF token: only the console itself, after an action of this session, can make a page
    say something. A link from elsewhere (`/console/sign-in?notice=Sign in at evil.example`)
    carries no valid seal, and its text is not shown."""
    digest = hmac.new(csrf.encode(), b"wagate-console-notice\0" + notice.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def notice_sealed(csrf: str, notice: str, seal: str) -> bool:
    expected = notice_seal(csrf, notice).encode()
    return bool(csrf) and hmac.compare_digest(expected, seal.encode("utf-8", "replace"))


class ConsoleSessionStore(Protocol):
    """Sessions live in the catalogue (like API tokens): the cookie is read before the tenant
    is known."""

    async def create(self, *, digest: str, tenant: str, user_id: int, at: datetime) -> None: ...

    async def find(self, digest: str) -> ConsoleSession | None: ...

    async def touch(self, session_id: int, *, at: datetime) -> None: ...

    async def end(self, session_id: int, *, at: datetime) -> None: ...

    async def end_expired(self, *, idle_since: datetime, created_before: datetime) -> int:
        """Mark sessions nobody can use any more as ended; how many."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSessions:
    store: ConsoleSessionStore
    clock: Callable[[], datetime]
    policy: SessionPolicy = field(default_factory=SessionPolicy)

    async def open(self, *, tenant: str, user_id: int) -> str:
        """A new session for a user who just signed in; the token for the cookie."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self.store.create(
            digest=session_digest(token), tenant=tenant, user_id=user_id, at=self.clock()
        )
        return token

    async def resolve(self, token: str | None, *, used: bool = True) -> ConsoleSession | None:
        """The live session behind a cookie, touched when due; None for anything else.

        `used=False` for a page's own background refresh (htmx polling every few seconds):
        it reads the session without counting as use, or a screen left open on a polling
        page would never reach its idle timeout."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        session = await self.store.find(session_digest(token))
        now = self.clock()
        if session is None or not self.policy.alive(session, now):
            return None
        if used and self.policy.needs_touch(session, now):
            await self.store.touch(session.id, at=now)
        return session

    async def close(self, session: ConsoleSession) -> None:
        await self.store.end(session.id, at=self.clock())

    async def sweep(self) -> int:
        now = self.clock()
        return await self.store.end_expired(
            idle_since=now - self.policy.idle, created_before=now - self.policy.lifetime
        )
