"""Conversations held by a human (AI7): the `Handover` port the conversation asks before it
answers, and the `ConversationDesk` the operator service takes, releases and replies through.

Whether a hold is active is decided by `domain.handover.Hold.active` on the open row (one per
conversation, a partial unique index): a human's hold idle past TAKEOVER_IDLE_MINUTES is
treated as released at once, and its row is closed (`released_by = 'idle'`) the next time the
conversation is taken or handed over."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from wagate.domain.handover import GATEWAY, IDLE, Hold
from wagate.domain.messages import Provider
from wagate.domain.phone import is_group_chat
from wagate.pipeline.operator.ports import ConversationContact
from wagate.pipeline.ports import RunOpening
from wagate.security.sealing import SealContext, Sealer
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Connection, Database
from wagate.storage.queue import insert_job_sql
from wagate.storage.run_opening import HOLD_COLUMNS, OPEN_HOLD_SQL
from wagate.storage.statuses import PENDING

_COLUMNS = HOLD_COLUMNS
_OPEN_SQL = OPEN_HOLD_SQL
_LOCK_OPEN_SQL = _OPEN_SQL + " FOR UPDATE"
_ALL_OPEN_SQL = f"""
SELECT id, {_COLUMNS} FROM conversation_holds WHERE released_at IS NULL ORDER BY taken_at, id
"""
_CLOSE_SQL = """
UPDATE conversation_holds SET released_at = %(at)s, released_by = %(by)s WHERE id = %(id)s
"""
_INSERT_SQL = f"""
INSERT INTO conversation_holds (tenant, conversation_id, held_by, reason, taken_at,
                                last_human_at)
VALUES (%(tenant)s, %(conversation_id)s, %(held_by)s, %(reason)s, %(at)s, %(last_human_at)s)
ON CONFLICT (tenant, conversation_id) WHERE released_at IS NULL DO NOTHING
RETURNING id, {_COLUMNS}
"""
_TRANSFER_SQL = f"""
-- The same person taking it again keeps when they took it and counts as their activity; a
-- transfer to someone else starts their hold now.
UPDATE conversation_holds
   SET taken_at = CASE WHEN held_by = %(held_by)s THEN taken_at ELSE %(at)s END,
       last_human_at = CASE WHEN held_by = %(held_by)s THEN %(at)s ELSE last_human_at END,
       held_by = %(held_by)s, reason = %(reason)s
 WHERE id = %(id)s
RETURNING id, {_COLUMNS}
"""
_TOUCH_SQL = """
UPDATE conversation_holds SET last_human_at = %(at)s
 WHERE conversation_id = %(conversation_id)s AND released_at IS NULL
"""
_CONVERSATION_SQL = """
SELECT id, provider, channel_id, contact_key, profile FROM conversations WHERE id = %(id)s
"""
# A human's reply: an outbound row of the conversation (its provider, channel and contact) and
# the conversation's job, in one statement, exactly as a run's replies are queued.
_QUEUE_REPLY_SQL = (
    f"""
WITH message AS (
  INSERT INTO outbound_messages (tenant, conversation_id, provider, channel_id, recipient,
                                 idempotency_key, kind, content, status, part_index)
  SELECT tenant, id, provider, channel_id, %(recipient)s, %(key)s, %(kind)s, %(content)s,
         {PENDING}, %(part_index)s
    FROM conversations WHERE id = %(conversation_id)s
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, conversation_id
), queued AS ("""
    + insert_job_sql("message", "conversation_id")
    + """)
SELECT (SELECT id FROM message) AS id
"""
)


def _hold(row: Any) -> Hold:
    return Hold(
        conversation_id=int(row["conversation_id"]),
        held_by=str(row["held_by"]),
        reason=str(row["reason"]),
        taken_at=row["taken_at"],
        last_human_at=row["last_human_at"],
        released_at=row["released_at"],
        released_by=row["released_by"],
    )


class PostgresHandover:
    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        indexer: Indexer,
        tenant: str,
        *,
        idle: timedelta = timedelta(minutes=60),
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant
        self._idle = idle
        self._profiles = PostgresConversationStore(database, sealer, indexer, tenant)

    @property
    def idle(self) -> timedelta:
        return self._idle

    # ------------------------------------------------------------ the conversation's port

    async def held_by_human(
        self, conversation_id: int, *, now: datetime, opening: RunOpening | None = None
    ) -> bool:
        rows = opening.get("hold") if opening is not None else None
        if rows is None:
            return await self.current(conversation_id, now=now) is not None
        return bool(rows) and _hold(rows[0]).active(now, self._idle)

    async def hand_to_human(self, conversation_id: int, *, reason: str, now: datetime) -> None:
        """A red message: the gateway holds the conversation unless a human already does."""
        async with self._database.tenant_connection(self._tenant) as conn:
            if await self._active_locked(conn, conversation_id, now) is None:
                await self._insert(conn, conversation_id, GATEWAY, reason, now, human=False)

    # ------------------------------------------------------------ the operator's desk

    async def current(self, conversation_id: int, *, now: datetime) -> Hold | None:
        rows = await self._database.tenant_rows(
            self._tenant, _OPEN_SQL, {"conversation_id": conversation_id}
        )
        if not rows:
            return None
        hold = _hold(rows[0])
        return hold if hold.active(now, self._idle) else None

    async def take(
        self, conversation_id: int, *, held_by: str, reason: str, now: datetime
    ) -> tuple[Hold, str | None]:
        async with self._database.tenant_connection(self._tenant) as conn:
            found = await self._active_locked(conn, conversation_id, now)
            if found is None:
                hold = await self._insert(conn, conversation_id, held_by, reason, now, human=True)
                return hold, None
            row_id, before = found
            cursor = await conn.execute(
                _TRANSFER_SQL, {"id": row_id, "held_by": held_by, "reason": reason, "at": now}
            )
            row = await cursor.fetchone()
            assert row is not None
            return _hold(row), before.held_by

    async def release(self, conversation_id: int, *, by: str, now: datetime) -> Hold | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            found = await self._active_locked(conn, conversation_id, now)
            if found is None:
                return None
            row_id, hold = found
            await conn.execute(_CLOSE_SQL, {"id": row_id, "at": now, "by": by})
        return Hold(
            conversation_id=hold.conversation_id,
            held_by=hold.held_by,
            reason=hold.reason,
            taken_at=hold.taken_at,
            last_human_at=hold.last_human_at,
            released_at=now,
            released_by=by,
        )

    async def touch(self, conversation_id: int, *, now: datetime) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_TOUCH_SQL, {"conversation_id": conversation_id, "at": now})

    async def held(self, *, now: datetime) -> list[Hold]:
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_ALL_OPEN_SQL)).fetchall()
        holds = (_hold(row) for row in rows)
        return [hold for hold in holds if hold.active(now, self._idle)]

    async def contact(self, conversation_id: int) -> ConversationContact | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_CONVERSATION_SQL, {"id": conversation_id})
            row = await cursor.fetchone()
        if row is None:
            return None
        profile = self._profiles.contact_of(row)
        key = profile.get("key")
        if not key:
            return None  # no profile: nobody known to write to
        recipient = key if is_group_chat(key) else (profile.get("phone") or key)
        return ConversationContact(
            conversation_id=conversation_id,
            provider=Provider(str(row["provider"])),
            channel_id=str(row["channel_id"]),
            recipient=str(recipient),
        )

    async def queue_reply(
        self, conversation_id: int, parts: Sequence[tuple[str, str]], *, kind: str, run_at: datetime
    ) -> int:
        contact = await self.contact(conversation_id)
        if contact is None:
            return 0
        queued = 0
        async with self._database.tenant_connection(self._tenant) as conn:
            for index, (key, text) in enumerate(parts):
                params = {
                    "conversation_id": conversation_id,
                    "recipient": self._indexer.digest(contact.recipient, purpose=blind.CONTACT),
                    "key": key,
                    "kind": kind,
                    "part_index": index,
                    "run_at": run_at,
                    "attempt": 0,
                    # Sealed like every outbound text, bound to its idempotency key.
                    "content": self._sealer.seal(
                        orjson.dumps({"text": text, "to": contact.recipient}),
                        SealContext(
                            tenant=self._tenant, table="outbound_messages.content", key=key
                        ),
                    ),
                }
                row = await (await conn.execute(_QUEUE_REPLY_SQL, params)).fetchone()
                queued += row is not None and row["id"] is not None
        return queued

    # ------------------------------------------------------------ inside a transaction

    async def _active_locked(
        self, conn: Connection, conversation_id: int, now: datetime
    ) -> tuple[int, Hold] | None:
        """The open hold, locked, if it is active; a lapsed one is closed as idle."""
        cursor = await conn.execute(_LOCK_OPEN_SQL, {"conversation_id": conversation_id})
        row = await cursor.fetchone()
        if row is None:
            return None
        hold = _hold(row)
        if hold.active(now, self._idle):
            return int(row["id"]), hold
        await conn.execute(
            _CLOSE_SQL, {"id": row["id"], "at": hold.lapses_at(self._idle) or now, "by": IDLE}
        )
        return None

    async def _insert(
        self,
        conn: Connection,
        conversation_id: int,
        held_by: str,
        reason: str,
        now: datetime,
        *,
        human: bool,
    ) -> Hold:
        params = {
            "tenant": self._tenant,
            "conversation_id": conversation_id,
            "held_by": held_by,
            "reason": reason,
            "at": now,
            "last_human_at": now if human else None,
        }
        row = await (await conn.execute(_INSERT_SQL, params)).fetchone()
        if row is None:  # another process opened one a moment ago: that one stands
            cursor = await conn.execute(_OPEN_SQL, {"conversation_id": conversation_id})
            row = await cursor.fetchone()
        assert row is not None
        return _hold(row)
