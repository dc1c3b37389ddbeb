"""Conversation sessions and their history (SE1): in PostgreSQL, so restarts lose nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.conversation import session_expired
from wagate.pipeline.ports import RunOpening, Session
from wagate.security.sealing import SealContext, Sealer
from wagate.storage.database import Database

# The newest session is the latest (migration 0022: they are opened one after the other, and
# only the newest is touched), found by `sessions_latest_by_id`; its `last_activity_at` is in
# no index, so touching it is a HOT update.
LATEST_SQL = """
SELECT id, last_activity_at, disclosed_at FROM sessions
 WHERE conversation_id = %(conversation_id)s
 ORDER BY id DESC LIMIT 1
"""
_OPEN_SQL = """
INSERT INTO sessions (tenant, conversation_id, started_at, last_activity_at)
VALUES (%(tenant)s, %(conversation_id)s, %(now)s, %(now)s) RETURNING id
"""
# A new session's id, drawn with the burst (issue 18) when the latest session's last activity
# is not after `%(session_fresh_since)s` (`session_expired`'s rule) or there is none; no row
# otherwise, and none without that parameter. An id drawn for a run that stores no session is
# a gap in the sequence, nothing more.
NEW_SESSION_SQL = """
SELECT nextval(pg_get_serial_sequence('sessions', 'id')) AS id
 WHERE %(session_fresh_since)s::timestamptz IS NOT NULL
   AND COALESCE((SELECT s.last_activity_at FROM sessions s
                  WHERE s.conversation_id = %(conversation_id)s
                  ORDER BY s.id DESC LIMIT 1) <= %(session_fresh_since)s, true)
"""
# The new session `Session.opened_at` describes, stored by the first transaction that refers
# to it (the run's finish, or a held draft); a retried run's second store changes nothing.
STORE_OPENED_SQL = """
INSERT INTO sessions (id, tenant, conversation_id, started_at, last_activity_at)
VALUES (%(session_id)s, %(tenant)s, %(conversation_id)s, %(opened_at)s, %(opened_at)s)
ON CONFLICT (id) DO NOTHING
"""
# The history of the session `LATEST_SQL` finds, in the same round trip (unused when that
# session has expired).
LATEST_HISTORY_SQL = """
SELECT id, role, content, run_key FROM turns
 WHERE session_id = (SELECT id FROM sessions WHERE conversation_id = %(conversation_id)s
                      ORDER BY id DESC LIMIT 1)
 ORDER BY id DESC LIMIT %(limit)s
"""


class PostgresSessionStore:
    def __init__(self, database: Database, sealer: Sealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    async def current(
        self,
        conversation_id: int,
        *,
        now: datetime,
        idle_timeout: timedelta,
        history: int,
        opening: RunOpening | None = None,
    ) -> Session:
        """The running session (a new one after `idle_timeout` of silence) and its last turns.

        The latest session and its history are read in one round trip (two statements, as
        before, each seeing what was committed when it ran); only a new session takes a
        second one. Sessions are opened by this conversation's job alone (the queue's lock),
        so the session the history statement picks is the one the first statement found.
        Read with the burst (`opening`, the same two statements), they cost no round trip,
        and a new session's id drawn with it (`NEW_SESSION_SQL`) makes the new session
        without one: it is stored with the run's finish (`Session.opened_at`)."""
        latest = opening.get("session") if opening is not None else None
        rows = opening.get("history") if opening is not None else None
        if latest is None or rows is None:
            params = {"conversation_id": conversation_id, "limit": history}
            latest, rows = await self._database.tenant_batch(
                self._tenant, [(LATEST_SQL, params), (LATEST_HISTORY_SQL, params)]
            )
        row = latest[0] if latest else None
        if row is None or session_expired(
            row["last_activity_at"], now=now, idle_timeout=idle_timeout
        ):
            drawn = opening.get("new_session") if opening is not None else None
            if drawn:
                # Its row is written by the first transaction that refers to it (issue 18:
                # the insert's own transaction and commit saved).
                return Session(id=int(drawn[0]["id"]), history=[], opened_at=now)
            created = await self._database.tenant_rows(
                self._tenant,
                _OPEN_SQL,
                {"tenant": self._tenant, "conversation_id": conversation_id, "now": now},
            )
            return Session(id=int(created[0]["id"]), history=[])
        session_id = int(row["id"])
        turns = []
        for r in reversed(rows):
            key = f"{session_id}:{r['run_key']}:{r['role']}"
            text = self._sealer.open(
                bytes(r["content"]),
                SealContext(tenant=self._tenant, table="turns", key=key),
            )
            turns.append(ChatTurn(role=Role(str(r["role"])), content=text.decode()))
        return Session(id=session_id, history=turns, disclosed=row["disclosed_at"] is not None)

    async def mark_disclosed(self, session_id: int, *, at: datetime) -> None:
        await self._database.tenant_rows(
            self._tenant,
            "UPDATE sessions SET disclosed_at = %(at)s WHERE id = %(id)s",
            {"at": at, "id": session_id},
        )
