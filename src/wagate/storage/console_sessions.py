"""Console sessions in the catalogue (migration 0015): digests of cookie tokens, never tokens.

The table has no row-level security (the cookie is read before any tenant is known), like
`api_tokens`; every statement here names what it touches by id or digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wagate.domain.console import ConsoleSession
from wagate.storage.database import Database

_CREATE_SQL = """
INSERT INTO console_sessions (digest, tenant, user_id, created_at, last_seen_at)
VALUES (%(digest)s, %(tenant)s, %(user)s, %(at)s, %(at)s)
"""
_FIND_SQL = """
SELECT id, tenant, user_id, created_at, last_seen_at, ended_at
  FROM console_sessions WHERE digest = %(digest)s
"""
_TOUCH_SQL = "UPDATE console_sessions SET last_seen_at = %(at)s WHERE id = %(id)s"
_END_SQL = """
UPDATE console_sessions SET ended_at = %(at)s WHERE id = %(id)s AND ended_at IS NULL
"""
_END_EXPIRED_SQL = """
UPDATE console_sessions SET ended_at = now()
 WHERE ended_at IS NULL AND (last_seen_at < %(idle)s OR created_at < %(created)s)
"""


class PostgresConsoleSessions:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, *, digest: str, tenant: str, user_id: int, at: datetime) -> None:
        async with self._database.pool.connection() as conn:
            await conn.execute(
                _CREATE_SQL, {"digest": digest, "tenant": tenant, "user": user_id, "at": at}
            )

    async def find(self, digest: str) -> ConsoleSession | None:
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(_FIND_SQL, {"digest": digest})).fetchone()
        return _session(row) if row is not None else None

    async def touch(self, session_id: int, *, at: datetime) -> None:
        async with self._database.pool.connection() as conn:
            await conn.execute(_TOUCH_SQL, {"id": session_id, "at": at})

    async def end(self, session_id: int, *, at: datetime) -> None:
        async with self._database.pool.connection() as conn:
            await conn.execute(_END_SQL, {"id": session_id, "at": at})

    async def end_expired(self, *, idle_since: datetime, created_before: datetime) -> int:
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(
                _END_EXPIRED_SQL, {"idle": idle_since, "created": created_before}
            )
            return cursor.rowcount


def _session(row: dict[str, Any]) -> ConsoleSession:
    return ConsoleSession(
        id=int(row["id"]),
        tenant=row["tenant"],
        user_id=int(row["user_id"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        ended_at=row["ended_at"],
    )
