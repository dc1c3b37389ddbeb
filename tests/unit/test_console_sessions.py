"""Console sessions: idle timeout, lifetime, touching, tokens that are never stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wagate.domain.console import ConsoleSession, SessionPolicy
from wagate.pipeline.console_sessions import (
    ConsoleSessions,
    csrf_matches,
    csrf_token,
    notice_seal,
    notice_sealed,
    session_digest,
)

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


class MemorySessions:
    def __init__(self) -> None:
        self.rows: dict[str, ConsoleSession] = {}
        self.touched: list[int] = []

    async def create(self, *, digest: str, tenant: str, user_id: int, at: datetime) -> None:
        self.rows[digest] = ConsoleSession(
            id=len(self.rows) + 1, tenant=tenant, user_id=user_id, created_at=at, last_seen_at=at
        )

    async def find(self, digest: str) -> ConsoleSession | None:
        return self.rows.get(digest)

    def _replace(self, session_id: int, **changes: object) -> None:
        for digest, row in self.rows.items():
            if row.id == session_id:
                self.rows[digest] = replace(row, **changes)  # type: ignore[arg-type]

    async def touch(self, session_id: int, *, at: datetime) -> None:
        self.touched.append(session_id)
        self._replace(session_id, last_seen_at=at)

    async def end(self, session_id: int, *, at: datetime) -> None:
        self._replace(session_id, ended_at=at)

    async def end_expired(self, *, idle_since: datetime, created_before: datetime) -> int:
        return 0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def sessions() -> tuple[ConsoleSessions, MemorySessions, Clock]:
    store, clock = MemorySessions(), Clock()
    policy = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    return ConsoleSessions(store=store, clock=clock, policy=policy), store, clock


async def test_a_token_opens_its_session_and_only_its_digest_is_stored() -> None:
    service, store, _ = sessions()
    token = await service.open(tenant="default", user_id=7)
    assert token not in store.rows and session_digest(token) in store.rows
    session = await service.resolve(token)
    assert session is not None and session.user_id == 7
    assert await service.resolve(token + "x") is None
    assert await service.resolve("") is None and await service.resolve(None) is None
    assert await service.resolve("x" * 500) is None


async def test_idle_timeout_is_moved_by_use_but_not_past_the_lifetime() -> None:
    service, store, clock = sessions()
    token = await service.open(tenant="default", user_id=7)
    for _ in range(40):  # used every 20 minutes for 13 hours
        clock.now += timedelta(minutes=20)
        if clock.now < T0 + timedelta(hours=12):
            assert await service.resolve(token) is not None
    assert await service.resolve(token) is None  # past the 12-hour lifetime
    assert store.touched


async def test_an_idle_session_ends() -> None:
    service, _, clock = sessions()
    token = await service.open(tenant="default", user_id=7)
    clock.now += timedelta(minutes=31)
    assert await service.resolve(token) is None


async def test_polling_touches_at_most_once_a_minute() -> None:
    service, store, clock = sessions()
    token = await service.open(tenant="default", user_id=7)
    for _ in range(30):
        clock.now += timedelta(seconds=5)
        await service.resolve(token)
    assert len(store.touched) == 2  # 150 s of polling every 5 s


async def test_a_pages_own_polling_never_keeps_an_idle_session_alive() -> None:
    service, store, clock = sessions()
    token = await service.open(tenant="default", user_id=7)
    for _ in range(30 * 12 - 1):  # a screen left open, refreshing itself every 5 s
        clock.now += timedelta(seconds=5)
        assert await service.resolve(token, used=False) is not None
    assert store.touched == []
    clock.now += timedelta(seconds=5)
    assert await service.resolve(token, used=False) is None  # 30 minutes without a click
    assert await service.resolve(token) is None


async def test_a_closed_session_is_gone() -> None:
    service, _, _ = sessions()
    token = await service.open(tenant="default", user_id=7)
    session = await service.resolve(token)
    assert session is not None
    await service.close(session)
    assert await service.resolve(token) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    assert csrf_matches("token-a", csrf_token("token-a"))
    assert not csrf_matches("token-b", csrf_token("token-a"))
    assert not csrf_matches("token-a", None)
    assert not csrf_matches("token-a", "")


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        SessionPolicy(idle=timedelta(0))


def test_a_notice_is_shown_only_with_the_seal_of_the_session_that_wrote_it() -> None:
    csrf = csrf_token("token-a")
    seal = notice_seal(csrf, "Reply queued.")
    assert notice_sealed(csrf, "Reply queued.", seal)
    assert not notice_sealed(csrf, "Sign in again at evil.example", seal)
    assert not notice_sealed(csrf_token("token-b"), "Reply queued.", seal)
    assert not notice_sealed(csrf, "Reply queued.", "")
    assert not notice_sealed("", "Reply queued.", notice_seal("", "Reply queued."))
    assert not notice_sealed(csrf, "Reply queued.", "é" * 32)  # not ASCII: no TypeError
