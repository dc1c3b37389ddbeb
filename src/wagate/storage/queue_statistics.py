"""Fresh planner statistics for the job queue.

procrastinate's fetch query is planned from `procrastinate_jobs` statistics. Under a burst the
table grows from a few rows to tens of thousands within seconds, long before autovacuum's next
ANALYZE (it wakes once a minute): planned on the old numbers, each fetch took 0.5–4.5 s at
13–16k waiting jobs and the workers starved; after an ANALYZE it takes 1–3 ms (measured with
benchmarks/burst.py, see benchmarks/README.md). So the worker refreshes them itself when
enough has changed.
"""

from __future__ import annotations

from wagate.storage.database import Database

_STALE_SQL = """
SELECT n_mod_since_analyze AS changed, n_live_tup AS live
  FROM pg_stat_user_tables WHERE relname = 'procrastinate_jobs'
"""

# Changed rows since the last ANALYZE that make the statistics stale: a fixed floor (small
# tables plan fine whatever the statistics) and a share of the table.
MIN_CHANGED = 500
SHARE_CHANGED = 0.2


async def refresh_if_stale(database: Database) -> bool:
    """ANALYZE the job table when its statistics lag behind it; True when it did.

    Platform-level: the queue's statistics, no tenant data."""
    async with database.pool.connection() as conn:
        row = await (await conn.execute(_STALE_SQL)).fetchone()
        if row is None:
            return False
        changed, live = int(row["changed"] or 0), int(row["live"] or 0)
        if changed < max(MIN_CHANGED, SHARE_CHANGED * live):
            return False
        # Through the owner's function (migration 0008): the gateway's role does not own the
        # table, and PostgreSQL would skip its ANALYZE with a mere warning.
        await conn.execute("SELECT wagate_analyze_job_queue()")
    return True
