"""Dead letters (OU3): outbound messages that failed for good, kept with their last error,
visible and replayable. A replay only ever touches a failed row — one that was never delivered,
since delivery statuses never move backwards and `failed` is terminal — so it cannot duplicate
something the user already has."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.jobs.queue import DEFER_SQL
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.database import Database

_COLUMNS = """id, conversation_id, provider, kind, status, error_code, error_detail, attempts,
       created_at, status_at"""
_LIST_SQL = f"""
SELECT {_COLUMNS} FROM outbound_messages
 WHERE tenant = %(tenant)s AND status = 'failed'
 ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
_SHOW_SQL = f"""
SELECT {_COLUMNS}, idempotency_key, content FROM outbound_messages
 WHERE tenant = %(tenant)s AND id = %(id)s
"""
_REPLAY_SQL = """
UPDATE outbound_messages
   SET status = 'pending', attempts = 0, next_attempt_at = NULL, provider_message_id = NULL,
       error_code = NULL, error_detail = NULL, status_at = %(at)s
 WHERE tenant = %(tenant)s AND status = 'failed' AND (%(id)s::bigint IS NULL OR id = %(id)s)
RETURNING id, conversation_id
"""


class DeadLetters:
    def __init__(self, database: Database, sealer: Sealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    @staticmethod
    def _row(row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "conversationId": row["conversation_id"],
            "provider": row["provider"],
            "kind": row["kind"],
            "status": row["status"],
            "errorCode": row["error_code"],
            "error": row["error_detail"],
            "attempts": row["attempts"],
            "createdAt": row["created_at"].isoformat(),
            "failedAt": row["status_at"].isoformat() if row["status_at"] else None,
        }

    async def listing(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(
                _LIST_SQL, {"tenant": self._tenant, "limit": limit, "offset": offset}
            )
            return [self._row(row) for row in await cursor.fetchall()]

    async def show(self, message_id: int) -> dict[str, Any] | None:
        """One message, its text opened for the operator who decides about it."""
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(_SHOW_SQL, {"tenant": self._tenant, "id": message_id})
            row = await cursor.fetchone()
        if row is None:
            return None
        try:
            content = orjson.loads(
                self._sealer.open(
                    bytes(row["content"]),
                    SealContext(
                        tenant=self._tenant,
                        table="outbound_messages.content",
                        key=str(row["idempotency_key"]),
                    ),
                )
            )
        except UnreadableEnvelope:
            content = {"unreadable": True}
        return {
            **self._row(row),
            "text": content.get("text"),
            "to": content.get("to"),
            "template": content.get("template"),
        }

    async def replay(self, message_id: int | None, *, at: datetime) -> list[int]:
        """Back to the queue: one failed message, or all of them (`message_id` None). Returns
        the ids replayed; each conversation's job delivers them in order."""
        async with self._database.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                _REPLAY_SQL, {"tenant": self._tenant, "id": message_id, "at": at}
            )
            rows = await cursor.fetchall()
            for conversation_id in {row["conversation_id"] for row in rows}:
                await conn.execute(
                    DEFER_SQL, {"conversation_id": conversation_id, "run_at": at, "attempt": 0}
                )
        return [int(row["id"]) for row in rows]
