"""The worker's view of conversations: bursts to process, runs to record, jobs to recover."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wagate.domain.messages import Provider
from wagate.jobs.queue import DEFER_SQL, TASK, insert_job_sql
from wagate.pipeline.ports import Burst, PendingMessage, RunRecord
from wagate.storage.database import Database

_LOAD_CONVERSATION_SQL = """
SELECT id, provider, channel_id, contact_key FROM conversations WHERE id = %(id)s
"""

_LOAD_PENDING_SQL = """
SELECT id, provider_message_id, kind, sent_at, received_at
  FROM inbound_messages
 WHERE conversation_id = %(id)s AND processed_at IS NULL
 ORDER BY sent_at, id
"""

_RECORD_RUN_SQL = """
WITH run AS (
  INSERT INTO conversation_runs (tenant, conversation_id, started_at, finished_at, message_count,
                                 last_message_id, marked_read, outcome, error)
  SELECT tenant, id, %(started_at)s, %(finished_at)s, %(message_count)s, %(last_message_id)s,
         %(marked_read)s, %(outcome)s, %(error)s
    FROM conversations WHERE id = %(conversation_id)s
  RETURNING id
)
UPDATE inbound_messages
   SET processed_at = %(finished_at)s, run_id = (SELECT id FROM run)
 WHERE id = ANY(%(message_ids)s) AND processed_at IS NULL
"""

# Conversations with messages that were committed but never processed, and no job that will
# process them: what a crash, a lost job or a killed worker can leave behind (IN5).
_ORPHANS_SQL = """
WITH orphans AS (
  SELECT DISTINCT m.conversation_id
    FROM inbound_messages m
   WHERE m.processed_at IS NULL AND m.received_at < %(older_than)s
     AND NOT EXISTS (
       SELECT 1 FROM procrastinate_jobs j
        WHERE j.lock = 'conversation:' || m.conversation_id AND j.status IN ('todo', 'doing'))
)
""" + insert_job_sql("orphans", "conversation_id")

_STALLED_SQL = """
UPDATE procrastinate_jobs job SET status = 'failed'
  FROM (SELECT j.id FROM procrastinate_jobs j
          LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
         WHERE j.status = 'doing' AND j.task_name = %(task)s
           AND (j.worker_id IS NULL OR w.last_heartbeat < %(heartbeat_before)s)) stalled
 WHERE job.id = stalled.id
RETURNING job.id
"""


class PostgresConversationStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def load_burst(self, conversation_id: int) -> Burst | None:
        async with self._database.pool.connection() as conn:
            row = await (
                await conn.execute(_LOAD_CONVERSATION_SQL, {"id": conversation_id})
            ).fetchone()
            if row is None:
                return None
            cursor = await conn.execute(_LOAD_PENDING_SQL, {"id": conversation_id})
            pending = [
                PendingMessage(
                    id=int(r["id"]),  # type: ignore[call-overload]
                    provider_message_id=str(r["provider_message_id"]),
                    kind=str(r["kind"]),
                    sent_at=r["sent_at"],  # type: ignore[arg-type]
                    received_at=r["received_at"],  # type: ignore[arg-type]
                )
                for r in await cursor.fetchall()
            ]
        return Burst(
            conversation_id=conversation_id,
            provider=Provider(str(row["provider"])),
            channel_id=str(row["channel_id"]),
            contact_key=str(row["contact_key"]),
            messages=pending,
        )

    async def defer(self, conversation_id: int, *, run_at: datetime, attempt: int) -> None:
        params: dict[str, Any] = {
            "conversation_id": conversation_id,
            "run_at": run_at,
            "attempt": attempt,
        }
        async with self._database.pool.connection() as conn:
            await conn.execute(DEFER_SQL, params)

    async def record_run(self, run: RunRecord) -> None:
        async with self._database.pool.connection() as conn:
            await conn.execute(
                _RECORD_RUN_SQL,
                {
                    "conversation_id": run.conversation_id,
                    "started_at": run.started_at,
                    "finished_at": run.finished_at,
                    "message_count": len(run.message_ids),
                    "last_message_id": run.last_message_id,
                    "marked_read": run.marked_read,
                    "outcome": run.outcome,
                    "error": run.error,
                    "message_ids": list(run.message_ids),
                },
            )

    async def requeue_orphans(self, *, older_than: datetime, run_at: datetime) -> int:
        """Queue a job for every conversation left with unprocessed messages and no job."""
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(
                _ORPHANS_SQL, {"older_than": older_than, "run_at": run_at, "attempt": 0}
            )
            return len(await cursor.fetchall())

    async def fail_stalled_jobs(self, *, heartbeat_before: datetime) -> int:
        """Jobs left `doing` by a worker that died hold their conversation's lock for ever;
        mark them failed so the orphan sweep can queue a fresh job."""
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(
                _STALLED_SQL, {"task": TASK, "heartbeat_before": heartbeat_before}
            )
            return len(await cursor.fetchall())
