"""Read models for the operator API: conversations and their messages, opened for display."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select

from wagate.domain.identity import displayed
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.conversations import insight_seal_key
from wagate.storage.database import Database
from wagate.storage.tables import (
    conversation_runs,
    conversations,
    inbound_messages,
    outbound_messages,
)


class ConversationQueries:
    def __init__(self, database: Database, sealer: Sealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    def _open(self, table: str, key: str, sealed: bytes | None) -> Any:
        if sealed is None:
            return None
        try:
            plain = self._sealer.open(
                bytes(sealed), SealContext(tenant=self._tenant, table=table, key=key)
            )
        except UnreadableEnvelope:
            return {"unreadable": True}
        return orjson.loads(plain)

    async def count_active(self, *, since: timedelta) -> int:
        query = (
            select(func.count())
            .select_from(conversations)
            .where(
                conversations.c.tenant == self._tenant,
                conversations.c.last_inbound_at >= func.now() - since,
            )
        )
        async with self._database.tenant_begin(self._tenant) as conn:
            return int((await conn.execute(query)).scalar_one())

    async def list_conversations(self, *, limit: int, offset: int) -> dict[str, Any]:
        counts = (
            select(
                inbound_messages.c.conversation_id,
                func.count().label("message_count"),
                func.count().filter(inbound_messages.c.processed_at.is_(None)).label("pending"),
            )
            .group_by(inbound_messages.c.conversation_id)
            .subquery()
        )
        query = (
            select(conversations, counts.c.message_count, counts.c.pending)
            .outerjoin(counts, counts.c.conversation_id == conversations.c.id)
            .where(conversations.c.tenant == self._tenant)
            .order_by(
                conversations.c.last_inbound_at.desc().nulls_last(), conversations.c.id.desc()
            )
            .limit(limit)
            .offset(offset)
        )
        total_query = (
            select(func.count())
            .select_from(conversations)
            .where(conversations.c.tenant == self._tenant)
        )
        async with self._database.tenant_begin(self._tenant) as conn:
            rows = (await conn.execute(query)).mappings().all()
            total = int((await conn.execute(total_query)).scalar_one())
        items = []
        for row in rows:
            key = f"{row['provider']}:{row['channel_id']}:{row['contact_key']}"
            profile = self._open("conversations", key, row["profile"]) or {}
            items.append(
                {
                    "id": row["id"],
                    "provider": row["provider"],
                    "channelId": row["channel_id"],
                    "contact": {
                        "key": profile.get("key"),
                        "phone": profile.get("phone"),
                        "userId": profile.get("user_id"),
                        "name": profile.get("name"),
                    },
                    "createdAt": _iso(row["created_at"]),
                    "lastInboundAt": _iso(row["last_inbound_at"]),
                    "messageCount": row["message_count"] or 0,
                    "pendingCount": row["pending"] or 0,
                }
            )
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    async def list_messages(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> dict[str, Any] | None:
        exists = select(conversations.c.id).where(
            conversations.c.id == conversation_id, conversations.c.tenant == self._tenant
        )
        inbound = (
            select(inbound_messages)
            .where(inbound_messages.c.conversation_id == conversation_id)
            .order_by(inbound_messages.c.sent_at, inbound_messages.c.id)
            .limit(limit)
            .offset(offset)
        )
        total_query = (
            select(func.count())
            .select_from(inbound_messages)
            .where(inbound_messages.c.conversation_id == conversation_id)
        )
        outbound = (
            select(outbound_messages)
            .where(outbound_messages.c.conversation_id == conversation_id)
            .order_by(outbound_messages.c.created_at, outbound_messages.c.id)
        )
        async with self._database.tenant_begin(self._tenant) as conn:
            if (await conn.execute(exists)).first() is None:
                return None
            inbound_rows = (await conn.execute(inbound)).mappings().all()
            total = int((await conn.execute(total_query)).scalar_one())
            outbound_rows = (await conn.execute(outbound)).mappings().all()
        messages = []
        for row in inbound_rows:
            key = f"{row['provider']}:{row['provider_message_id']}"
            document = self._open("inbound_messages.content", key, row["content"]) or {}
            messages.append(
                {
                    "id": row["id"],
                    "direction": "inbound",
                    "provider": row["provider"],
                    "providerMessageId": row["provider_message_id"],
                    "kind": row["kind"],
                    "sentAt": _iso(row["sent_at"]),
                    "receivedAt": _iso(row["received_at"]),
                    "processedAt": _iso(row["processed_at"]),
                    "sender": document.get("sender"),
                    "content": document.get("content"),
                    "context": document.get("context"),
                }
            )
        replies = []
        for row in outbound_rows:
            content = self._open(
                "outbound_messages.content", row["idempotency_key"], row["content"]
            )
            replies.append(
                {
                    "id": row["id"],
                    "direction": "outbound",
                    "providerMessageId": row["provider_message_id"],
                    "kind": row["kind"],
                    "status": row["status"],
                    "statusAt": _iso(row["status_at"]),
                    "errorCode": row["error_code"],
                    "createdAt": _iso(row["created_at"]),
                    # A link code never shows: it proves the phone only while unseen.
                    "content": displayed(str(row["kind"]), content),
                }
            )
        return {
            "conversationId": conversation_id,
            "total": total,
            "limit": limit,
            "offset": offset,
            "items": messages,
            "outbound": replies,
        }

    async def run_insights(self, conversation_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
        """The conversation's latest runs that decided something (newest last): when, the
        outcome, and what the AI was shown (masked) and drew on — see `RunInsight`."""
        query = (
            select(
                conversation_runs.c.id,
                conversation_runs.c.finished_at,
                conversation_runs.c.outcome,
                conversation_runs.c.run_key,
                conversation_runs.c.insight,
            )
            .where(
                conversation_runs.c.conversation_id == conversation_id,
                conversation_runs.c.tenant == self._tenant,
                conversation_runs.c.insight.is_not(None),
            )
            .order_by(conversation_runs.c.id.desc())
            .limit(limit)
        )
        async with self._database.tenant_begin(self._tenant) as conn:
            rows = (await conn.execute(query)).mappings().all()
        insights = []
        for row in reversed(rows):
            opened = self._open(
                "conversation_runs.insight",
                insight_seal_key(conversation_id, row["run_key"]),
                row["insight"],
            )
            insights.append(
                {
                    "run": row["id"],
                    "at": _iso(row["finished_at"]),
                    "runKey": row["run_key"],
                    "outcome": row["outcome"],
                    **(opened or {}),
                }
            )
        return insights


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
