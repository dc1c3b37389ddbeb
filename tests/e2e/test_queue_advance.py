"""A waiting conversation job is brought forward by whatever needs it sooner (a deferral, a
failure reported by a status webhook), and never pushed back: an e-mail fallback or a template
reroute must not wait behind a pair slowed down for minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.harness import fresh_database
from wagate.storage import migrate
from wagate.storage.queue import DEFER_SQL, lock_key

pytestmark = pytest.mark.e2e


def _waiting(conn: psycopg.Connection[tuple[object, ...]], conversation_id: int) -> list[object]:
    rows = conn.execute(
        "SELECT scheduled_at FROM procrastinate_jobs WHERE queueing_lock = %s AND status = 'todo'",
        (lock_key(conversation_id),),
    ).fetchall()
    return [row[0] for row in rows]


def test_a_deferral_brings_a_later_waiting_job_forward_and_never_back() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:

            def defer(at: datetime) -> None:
                conn.execute(DEFER_SQL, {"conversation_id": 7, "run_at": at, "attempt": 0})

            defer(now + timedelta(minutes=10))  # e.g. a pair slowed down
            assert _waiting(conn, 7) == [now + timedelta(minutes=10)]
            defer(now)  # an e-mail retry due now
            assert _waiting(conn, 7) == [now]
            defer(now + timedelta(minutes=20))  # later than what waits: no change
            assert _waiting(conn, 7) == [now]
            defer(now + timedelta(minutes=5))
            assert _waiting(conn, 7) == [now]  # still one waiting job, at the earliest time
