"""The worker refreshes the job table's planner statistics when a burst has outgrown them."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.e2e.harness import fresh_database, wait_until
from wagate.storage import migrate
from wagate.storage.database import Database
from wagate.storage.queue_statistics import MIN_CHANGED, refresh_if_stale

pytestmark = pytest.mark.e2e


def _stats(url: str) -> tuple[int, object]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT n_mod_since_analyze, last_analyze FROM pg_stat_user_tables"
            " WHERE relname = 'procrastinate_jobs'"
        ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def test_statistics_are_refreshed_only_when_stale() -> None:
    with fresh_database() as url:
        migrate.upgrade(url)

        async def run() -> list[bool]:
            database = Database(url, pool_size=2)
            await database.open()
            try:
                results = [await refresh_if_stale(database)]  # an empty queue: nothing to do
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(
                        "INSERT INTO procrastinate_jobs (queue_name, task_name, args)"
                        " SELECT 'conversations', 'wagate.converse', '{}'::jsonb"
                        " FROM generate_series(1, %s)",
                        (MIN_CHANGED * 3,),
                    )
                wait_until(lambda: _stats(url)[0] >= MIN_CHANGED * 3, timeout=20)
                results.append(await refresh_if_stale(database))
                results.append(await refresh_if_stale(database))  # fresh now
                return results
            finally:
                await database.close()

        assert asyncio.run(run()) == [False, True, False]
        changed, analysed = _stats(url)
        assert analysed is not None
        assert changed < MIN_CHANGED
