"""Drafts waiting for a lawyer (migration 0013): kept sealed, decided with their outbound rows
and the conversation's delivery job in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.domain.outbound import OutboundStatus
from wagate.domain.phone import is_group_chat
from wagate.domain.review import DraftStatus, NewDraft, window_closes_at
from wagate.pipeline.operator.reviews import Decided
from wagate.security.sealing import SealContext, Sealer
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.database import Database
from wagate.storage.intake import conversation_seal_key
from wagate.storage.queue import DEFER_SQL
from wagate.storage.sessions import STORE_OPENED_SQL
from wagate.storage.statuses import PENDING, literal_set

_KEEP_SQL = """
INSERT INTO review_drafts (tenant, conversation_id, run_key, zone, rules, question, draft,
                           sources, created_at, deadline, session_id)
VALUES (%(tenant)s, %(conversation_id)s, %(run_key)s, %(zone)s, %(rules)s, %(question)s,
        %(draft)s, %(sources)s, %(created_at)s, %(deadline)s, %(session_id)s)
ON CONFLICT ON CONSTRAINT review_drafts_run_key DO NOTHING
RETURNING id
"""
_BY_RUN_KEY_SQL = "SELECT id FROM review_drafts WHERE run_key = %(run_key)s"

# Approved, and every part accepted by the provider (or further): shown as `sent`.
_DONE = literal_set(
    {
        OutboundStatus.ACCEPTED,
        OutboundStatus.SENT,
        OutboundStatus.DELIVERED,
        OutboundStatus.READ,
        OutboundStatus.PLAYED,
    }
)
_COLUMNS = f"""
SELECT d.id, d.conversation_id, d.run_key, d.zone, d.rules, d.sources, d.created_at,
       d.deadline, d.decided_by, d.decided_at, d.edited, d.escalated_due_at,
       d.escalated_window_at, c.last_inbound_at,
       CASE WHEN d.status = 'approved' AND NOT EXISTS (
              SELECT 1 FROM outbound_messages o
               WHERE o.idempotency_key LIKE 'review:' || d.id || ':reply:%%'
                 AND o.status NOT IN {_DONE})
            THEN 'sent' ELSE d.status END AS status
"""
_LIST_SQL = (
    _COLUMNS
    + """
  FROM review_drafts d JOIN conversations c ON c.id = d.conversation_id
 WHERE %(status)s::text IS NULL OR d.status = %(status)s
    OR (%(status)s = 'sent' AND d.status = 'approved')
 ORDER BY d.id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
)
_SHOW_SQL = (
    _COLUMNS
    + """, d.question, d.draft, d.final_text, d.reject_reason
  FROM review_drafts d JOIN conversations c ON c.id = d.conversation_id
 WHERE d.id = %(id)s
"""
)
_DECIDE_SQL = """
UPDATE review_drafts
   SET status = %(status)s, decided_by = %(by)s, decided_at = %(at)s,
       final_text = %(final_text)s, edited = %(edited)s, reject_reason = %(reject_reason)s
 WHERE id = %(id)s AND status = 'pending'
RETURNING conversation_id, run_key, session_id
"""
_INSERT_TURN_SQL = """
INSERT INTO turns (tenant, session_id, role, content, run_key)
VALUES (%(tenant)s, %(session_id)s, 'assistant', %(content)s, %(run_key)s)
ON CONFLICT ON CONSTRAINT turns_once_per_run DO NOTHING
"""
_CONVERSATION_SQL = """
SELECT id, provider, channel_id, contact_key, profile FROM conversations WHERE id = %(id)s
"""
_INSERT_OUTBOUND_SQL = f"""
INSERT INTO outbound_messages (tenant, conversation_id, provider, channel_id, recipient,
                               idempotency_key, kind, content, status, part_index)
SELECT tenant, id, provider, channel_id, %(recipient)s, %(key)s, %(kind)s, %(content)s,
       {PENDING}, %(part_index)s
  FROM conversations WHERE id = %(conversation_id)s
ON CONFLICT (idempotency_key) DO NOTHING
"""
_PENDING_SQL = """
SELECT d.id, d.conversation_id, d.created_at, d.deadline, d.escalated_due_at,
       d.escalated_window_at, c.last_inbound_at
  FROM review_drafts d JOIN conversations c ON c.id = d.conversation_id
 WHERE d.status = 'pending'
 ORDER BY d.id
"""
_MARK_SQL = {
    "review_due": "UPDATE review_drafts SET escalated_due_at = %(at)s "
    "WHERE id = %(id)s AND escalated_due_at IS NULL",
    "window_closing": "UPDATE review_drafts SET escalated_window_at = %(at)s "
    "WHERE id = %(id)s AND escalated_window_at IS NULL",
}
_FIGURES_SQL = """
SELECT (SELECT count(*) FROM review_drafts WHERE status = 'pending') AS waiting,
       (SELECT count(escalated_due_at) + count(escalated_window_at) FROM review_drafts)
           AS escalations,
       (SELECT count(*) FROM conversation_runs WHERE outcome = 'urgent') AS red_handoffs,
       (SELECT coalesce(array_agg(extract(epoch FROM decided_at - created_at)::float8),
                        '{}'::float8[])
          FROM review_drafts WHERE status = 'approved') AS approval_seconds
"""


class PostgresReviewDrafts:
    def __init__(self, database: Database, sealer: Sealer, indexer: Indexer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant

    def _seal(self, column: str, run_key: str, text: str) -> bytes:
        context = SealContext(tenant=self._tenant, table=f"review_drafts.{column}", key=run_key)
        return self._sealer.seal(text.encode(), context)

    def _open(self, column: str, run_key: str, sealed: Any) -> str | None:
        if sealed is None:
            return None
        context = SealContext(tenant=self._tenant, table=f"review_drafts.{column}", key=run_key)
        return self._sealer.open(bytes(sealed), context).decode()

    async def keep(self, draft: NewDraft) -> int:
        params = {
            "tenant": self._tenant,
            "conversation_id": draft.conversation_id,
            "run_key": draft.run_key,
            "zone": draft.zone.value,
            "rules": orjson.dumps(list(draft.rules)).decode(),
            "question": self._seal("question", draft.run_key, draft.question),
            "draft": self._seal("draft", draft.run_key, draft.text),
            "sources": orjson.dumps([s.as_json() for s in draft.sources]).decode(),
            "created_at": draft.created_at,
            "deadline": draft.deadline,
            "session_id": draft.session_id,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            if draft.session_id is not None and draft.session_opened_at is not None:
                # The run's new session, not stored yet: the draft refers to it.
                await conn.execute(
                    STORE_OPENED_SQL,
                    {
                        "session_id": draft.session_id,
                        "tenant": self._tenant,
                        "conversation_id": draft.conversation_id,
                        "opened_at": draft.session_opened_at,
                    },
                )
            row = await (await conn.execute(_KEEP_SQL, params)).fetchone()
            if row is None:  # a retried run: its draft is there already
                row = await (await conn.execute(_BY_RUN_KEY_SQL, params)).fetchone()
        assert row is not None
        return int(row["id"])

    async def listing(
        self, *, status: str | None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        params = {"status": status, "limit": limit, "offset": offset}
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_LIST_SQL, params)).fetchall()
        items = [_summary(r) for r in rows]
        # `sent` is approved-and-accepted: a filter on it (or on approved) is exact.
        return [i for i in items if status is None or i["status"] == status]

    async def show(self, draft_id: int) -> dict[str, Any] | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_SHOW_SQL, {"id": draft_id})).fetchone()
        if row is None:
            return None
        key = str(row["run_key"])
        return {
            **_summary(row),
            "question": self._open("question", key, row["question"]),
            "draft": self._open("draft", key, row["draft"]),
            "finalText": self._open("final_text", key, row["final_text"]),
            "rejectReason": self._open("reject_reason", key, row["reject_reason"]),
        }

    async def decide(self, decided: Decided) -> bool:
        async with self._database.tenant_connection(self._tenant) as conn:
            found = await (await conn.execute(_SHOW_SQL, {"id": decided.draft_id})).fetchone()
            if found is None:
                return False
            key = str(found["run_key"])
            params = {
                "id": decided.draft_id,
                "status": decided.status.value,
                "by": decided.by,
                "at": decided.at,
                "final_text": self._seal("final_text", key, decided.final_text)
                if decided.final_text is not None
                else None,
                "edited": decided.edited,
                "reject_reason": self._seal("reject_reason", key, decided.reject_reason)
                if decided.reject_reason is not None
                else None,
            }
            updated = await (await conn.execute(_DECIDE_SQL, params)).fetchone()
            if updated is None:
                return False
            conversation_id = int(updated["conversation_id"])
            session_id = updated["session_id"]
            if decided.history_text is not None and session_id is not None:
                key = f"{session_id}:{updated['run_key']}:assistant"
                await conn.execute(
                    _INSERT_TURN_SQL,
                    {
                        "tenant": self._tenant,
                        "session_id": session_id,
                        "run_key": updated["run_key"],
                        "content": self._sealer.seal(
                            decided.history_text.encode(),
                            SealContext(tenant=self._tenant, table="turns", key=key),
                        ),
                    },
                )
            if decided.messages:
                recipient = await self._recipient(conn, conversation_id)
                for message in decided.messages:
                    await conn.execute(
                        _INSERT_OUTBOUND_SQL,
                        {
                            "conversation_id": conversation_id,
                            "recipient": self._indexer.digest(recipient, purpose=blind.CONTACT),
                            "key": message.idempotency_key,
                            "kind": message.kind,
                            "content": self._sealer.seal(
                                orjson.dumps({"text": message.text, "to": recipient}),
                                SealContext(
                                    tenant=self._tenant,
                                    table="outbound_messages.content",
                                    key=message.idempotency_key,
                                ),
                            ),
                            "part_index": message.part_index,
                        },
                    )
                await conn.execute(
                    DEFER_SQL,
                    {"conversation_id": conversation_id, "run_at": decided.at, "attempt": 0},
                )
        return True

    async def _recipient(self, conn: Any, conversation_id: int) -> str:
        """Where the conversation's replies go, as a run's `Burst.recipient` says."""
        row = await (await conn.execute(_CONVERSATION_SQL, {"id": conversation_id})).fetchone()
        contact: dict[str, Any] = {}
        if row["profile"] is not None:
            key = conversation_seal_key(
                str(row["provider"]), str(row["channel_id"]), str(row["contact_key"])
            )
            context = SealContext(tenant=self._tenant, table="conversations", key=key)
            contact = orjson.loads(self._sealer.open(bytes(row["profile"]), context))
        contact_key = str(contact.get("key") or row["contact_key"])
        if is_group_chat(contact_key):
            return contact_key
        return str(contact.get("phone") or contact_key)

    async def pending(self) -> list[dict[str, Any]]:
        """Every pending draft with what escalation needs (no text)."""
        async with self._database.tenant_connection(self._tenant) as conn:
            return list(await (await conn.execute(_PENDING_SQL)).fetchall())

    async def mark_escalated(self, draft_id: int, kind: str, *, at: datetime) -> bool:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_MARK_SQL[kind], {"id": draft_id, "at": at})
            return cursor.rowcount == 1

    async def figures(self) -> dict[str, Any]:
        """For the metrics: drafts waiting, escalations, red hand-offs, approval times."""
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_FIGURES_SQL)).fetchone()
        assert row is not None
        return {
            "waiting": int(row["waiting"]),
            "escalations": int(row["escalations"]),
            "red_handoffs": int(row["red_handoffs"]),
            "approval_seconds": [float(s) for s in row["approval_seconds"]],
        }


def _summary(row: Any) -> dict[str, Any]:
    last_inbound = row["last_inbound_at"]
    return {
        "id": int(row["id"]),
        "conversation": int(row["conversation_id"]),
        "status": DraftStatus(row["status"]).value,
        "zone": row["zone"],
        "rules": list(row["rules"] or []),
        "sources": list(row["sources"] or []),
        "createdAt": row["created_at"],
        "deadline": row["deadline"],
        "windowClosesAt": None if last_inbound is None else window_closes_at(last_inbound),
        "decidedBy": row["decided_by"],
        "decidedAt": row["decided_at"],
        "edited": row["edited"],
        "escalated": [
            kind
            for kind, at in (
                ("review_due", row["escalated_due_at"]),
                ("window_closing", row["escalated_window_at"]),
            )
            if at is not None
        ],
    }
