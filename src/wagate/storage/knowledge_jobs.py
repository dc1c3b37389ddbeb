"""The knowledge-base refresh on the job queue (issue 13): queue it for one tenant, and read
how it is doing (for `wagate kb refresh`'s progress). The worker's task is in `jobs/worker.py`.

procrastinate's tables are the platform's (no row-level security), so this uses the plain
pool; every statement still names the tenant, so one tenant never sees another's job.
"""

from __future__ import annotations

from wagate.storage.database import Database, checked_tenant
from wagate.storage.queue import KB_REFRESH_TASK, QUEUE, kb_refresh_lock

# The insert and the look-up for a waiting one see the same snapshot: when the insert meets a
# waiting refresh (the queueing lock), the second branch returns that job instead.
_REQUEST_SQL = f"""
WITH queued AS (
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, scheduled_at)
    VALUES ('{QUEUE}', '{KB_REFRESH_TASK}', %(lock)s, %(lock)s,
            jsonb_build_object('tenant', %(tenant)s::text), now())
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
    RETURNING id
)
SELECT id FROM queued
UNION ALL
SELECT id FROM procrastinate_jobs
 WHERE queueing_lock = %(lock)s AND status = 'todo' AND task_name = '{KB_REFRESH_TASK}'
LIMIT 1
"""

_STATE_SQL = f"""
SELECT status::text AS status FROM procrastinate_jobs
 WHERE id = %(id)s AND task_name = '{KB_REFRESH_TASK}' AND args->>'tenant' = %(tenant)s
"""


class KnowledgeRefreshJobs:
    """Satisfies the pipeline's `KnowledgeRefreshQueue` for one tenant."""

    def __init__(self, database: Database, tenant: str) -> None:
        self._database = database
        self._tenant = checked_tenant(tenant)

    async def request(self) -> int:
        params = {"lock": kb_refresh_lock(self._tenant), "tenant": self._tenant}
        # A waiting job queued by someone else after this statement's snapshot blocks the
        # insert yet is invisible to the look-up: try again, it is visible then.
        for _ in range(3):
            async with self._database.pool.connection() as conn:
                row = await (await conn.execute(_REQUEST_SQL, params)).fetchone()
            if row is not None:
                return int(row["id"])
        raise RuntimeError("could not queue the knowledge-base refresh")

    async def state(self, job_id: int) -> str | None:
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(_STATE_SQL, {"id": job_id, "tenant": self._tenant})
            row = await cursor.fetchone()
        return None if row is None else str(row["status"])
