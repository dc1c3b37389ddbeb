"""The job queue without its event history (migration 0023_lean_jobs, issue 18): a job's life
writes no `procrastinate_events` rows, and what relies on the queue still works — the lock per
conversation, a dead worker's job released by its heartbeat, the conversation queued and run
again afterwards. Going down brings the history back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.harness import fresh_database
from wagate.security.sealing import PlaintextSealer
from wagate.storage import migrate
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.queue import DEFER_SQL, QUEUE

pytestmark = pytest.mark.e2e

Conn = psycopg.Connection[tuple[object, ...]]


class _Digest:
    def digest(self, value: str, *, purpose: str) -> str:
        return f"{purpose}:{value}"


def _events(conn: Conn) -> int:
    row = conn.execute("SELECT count(*) FROM procrastinate_events").fetchone()
    assert row is not None
    return int(str(row[0]))


def _defer(conn: Conn, conversation_id: int) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    conn.execute(DEFER_SQL, {"conversation_id": conversation_id, "run_at": now, "attempt": 0})


def _register_worker(conn: Conn) -> int:
    row = conn.execute("SELECT worker_id FROM procrastinate_register_worker_v1()").fetchone()
    assert row is not None
    return int(str(row[0]))


def _fetch(conn: Conn, worker_id: int) -> int | None:
    """procrastinate's own fetch, as its worker calls it: the next job, or None."""
    row = conn.execute(
        "SELECT id FROM procrastinate_fetch_job_v2(%s::varchar[], %s)", ([QUEUE], worker_id)
    ).fetchone()
    return None if row is None or row[0] is None else int(str(row[0]))


def _status(conn: Conn, job_id: int) -> str | None:
    row = conn.execute(
        "SELECT status::text FROM procrastinate_jobs WHERE id = %s", (job_id,)
    ).fetchone()
    return None if row is None else str(row[0])


async def _fail_stalled(url: str, heartbeat_before: datetime) -> int:
    database = Database(url, pool_size=2)
    await database.open()
    try:
        store = PostgresConversationStore(database, PlaintextSealer(), _Digest(), "default")
        return await store.fail_stalled_jobs(heartbeat_before=heartbeat_before)
    finally:
        await database.close()


def test_jobs_leave_no_history_and_stalled_jobs_are_still_recovered() -> None:
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            worker = _register_worker(conn)
            _defer(conn, 7)
            _defer(conn, 7)  # a second message of the burst: the same waiting job
            first = _fetch(conn, worker)
            assert first is not None and _status(conn, first) == "doing"
            _defer(conn, 7)  # a message while the job runs: a job waits behind it
            assert _fetch(conn, worker) is None  # the conversation's lock holds it back
            # The worker dies: its heartbeat stops; the sweep releases the job it held.
            conn.execute(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
            )
            released = asyncio.run(_fail_stalled(url, datetime.now(UTC) - timedelta(seconds=15)))
            assert released == 1 and _status(conn, first) == "failed"
            # Another worker takes the waiting job and finishes it as procrastinate does.
            second = _fetch(conn, _register_worker(conn))
            assert second is not None and second != first
            conn.execute("SELECT procrastinate_finish_job_v1(%s, 'succeeded', true)", (second,))
            assert _status(conn, second) is None
            # The conversation can be queued and run again (the retry after a failure).
            _defer(conn, 7)
            third = _fetch(conn, worker)
            assert third is not None and _status(conn, third) == "doing"
            assert _events(conn) == 0

        migrate.downgrade(url, "0022_lean_identity")
        with psycopg.connect(url, autocommit=True) as conn:
            _defer(conn, 8)
            assert _events(conn) == 2  # procrastinate's `deferred` and `scheduled` again
            fetched = _fetch(conn, _register_worker(conn))
            assert fetched is not None and _events(conn) == 3  # `started`

        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            before = _events(conn)
            _defer(conn, 9)
            assert _events(conn) == before
