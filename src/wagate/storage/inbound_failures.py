"""Inbound bursts whose processing keeps failing (OU3): counted, then dead-lettered.

Without this, a burst that makes the job fail every time (a bug, a poison message) would be
re-queued by the recovery sweep forever and hold its conversation hostage. After the limit its
messages are marked processed by a `dead_letter` run (so the sweep leaves them alone and later
messages of the conversation are answered) and the burst is listed for an operator, who can
replay it: the same messages make the same run key, so a replay never duplicates a reply that
already went out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wagate.storage.database import Database
from wagate.storage.queue import DEFER_SQL

_RECORD_SQL = """
INSERT INTO inbound_failures (conversation_id, tenant, failures, last_error, first_failed_at,
                              last_failed_at)
VALUES (%(conversation_id)s, %(tenant)s, 1, %(error)s, %(at)s, %(at)s)
ON CONFLICT (conversation_id) DO UPDATE
   SET failures = inbound_failures.failures + 1, last_error = EXCLUDED.last_error,
       last_failed_at = EXCLUDED.last_failed_at
RETURNING failures
"""
CLEAR_SQL = "DELETE FROM inbound_failures WHERE conversation_id = %(conversation_id)s"
_DEAD_LETTER_SQL = """
WITH burst AS (
  SELECT id, provider_message_id FROM inbound_messages
   WHERE conversation_id = %(conversation_id)s AND processed_at IS NULL
), letter AS (
  INSERT INTO inbound_dead_letters (tenant, conversation_id, message_ids, failures, error)
  SELECT %(tenant)s, %(conversation_id)s, array_agg(id ORDER BY id), %(failures)s, %(error)s
    FROM burst HAVING count(*) > 0
  RETURNING id
), run AS (
  INSERT INTO conversation_runs (tenant, conversation_id, started_at, finished_at, message_count,
                                 last_message_id, marked_read, outcome, error)
  SELECT %(tenant)s, %(conversation_id)s, %(at)s, %(at)s, count(*), max(provider_message_id),
         false, 'dead_letter', %(error)s
    FROM burst HAVING count(*) > 0
  RETURNING id
)
UPDATE inbound_messages SET processed_at = %(at)s, run_id = (SELECT id FROM run)
 WHERE id IN (SELECT id FROM burst)
RETURNING (SELECT id FROM letter) AS letter_id
"""
_LIST_SQL = """
SELECT id, conversation_id, cardinality(message_ids) AS messages, failures, error, created_at,
       replayed_at
  FROM inbound_dead_letters
 WHERE tenant = %(tenant)s AND replayed_at IS NULL
 ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
_SHOW_SQL = """
SELECT id, conversation_id, cardinality(message_ids) AS messages, message_ids, failures, error,
       created_at, replayed_at
  FROM inbound_dead_letters WHERE tenant = %(tenant)s AND id = %(id)s
"""
_REPLAY_SQL = """
WITH letters AS (
  UPDATE inbound_dead_letters SET replayed_at = %(at)s
   WHERE tenant = %(tenant)s AND replayed_at IS NULL
     AND (%(id)s::bigint IS NULL OR id = %(id)s)
  RETURNING id, conversation_id, message_ids
), reopened AS (
  UPDATE inbound_messages m SET processed_at = NULL, run_id = NULL
    FROM letters l WHERE m.id = ANY(l.message_ids)
  RETURNING m.id
)
SELECT id, conversation_id, (SELECT count(*) FROM reopened) AS reopened FROM letters
"""


class InboundFailures:
    def __init__(self, database: Database, tenant: str) -> None:
        self._database = database
        self._tenant = tenant

    async def record(
        self, conversation_id: int, *, error: str, at: datetime, limit: int
    ) -> tuple[int, int | None]:
        """Count a failed run of the conversation's burst; at `limit`, dead-letter it.
        Returns (failures so far, dead letter id or None)."""
        params: dict[str, Any] = {
            "conversation_id": conversation_id,
            "tenant": self._tenant,
            "error": error[:500],
            "at": at,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_RECORD_SQL, params)).fetchone()
            assert row is not None
            failures = int(row["failures"])
            if failures < limit:
                return failures, None
            cursor = await conn.execute(_DEAD_LETTER_SQL, {**params, "failures": failures})
            letters = await cursor.fetchall()
            await conn.execute(CLEAR_SQL, params)
        letter_id = letters[0]["letter_id"] if letters else None
        return failures, letter_id

    @staticmethod
    def _row(row: Any) -> dict[str, Any]:
        return {
            "id": f"in-{row['id']}",
            "direction": "inbound",
            "conversationId": row["conversation_id"],
            "messages": row["messages"],
            "failures": row["failures"],
            "error": row["error"],
            "createdAt": row["created_at"].isoformat(),
            "replayedAt": row["replayed_at"].isoformat() if row["replayed_at"] else None,
        }

    async def listing(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                _LIST_SQL, {"tenant": self._tenant, "limit": limit, "offset": offset}
            )
            return [self._row(row) for row in await cursor.fetchall()]

    async def show(self, letter_id: int) -> dict[str, Any] | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_SHOW_SQL, {"tenant": self._tenant, "id": letter_id})
            row = await cursor.fetchone()
        if row is None:
            return None
        return {**self._row(row), "messageIds": list(row["message_ids"])}

    async def replay(self, letter_id: int | None, *, at: datetime) -> list[int]:
        """Reopen one dead-lettered burst (or all): its messages become unprocessed again and
        the conversation's job is queued. Returns the letter ids replayed."""
        params = {"tenant": self._tenant, "id": letter_id, "at": at}
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_REPLAY_SQL, params)).fetchall()
            for conversation_id in {row["conversation_id"] for row in rows}:
                await conn.execute(
                    DEFER_SQL, {"conversation_id": conversation_id, "run_at": at, "attempt": 0}
                )
                await conn.execute(CLEAR_SQL, {"conversation_id": conversation_id})
        return [int(row["id"]) for row in rows]
