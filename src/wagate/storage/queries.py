"""Read models for the operator API and console: conversations and their messages, opened for
display.

The console's list (`console_list`) filters in SQL (waiting for review, taken over, failed
deliveries, opted out) and searches in two ways, because names and numbers are sealed: a
whole phone number is found by its blind-index digest among all conversations; any other text
(a name, a fragment of a number) is matched after opening the profiles of the most recent
conversations, at most `SEARCH_SCAN` of them, and the answer says when that bound was hit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select, text

from wagate.domain.consent import ConsentState
from wagate.domain.handover import GATEWAY
from wagate.domain.identity import displayed
from wagate.domain.json_keys import camel_keys
from wagate.domain.outbound import OutboundStatus
from wagate.domain.phone import InvalidPhoneNumber, normalise_phone
from wagate.domain.review import DraftStatus
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.conversations import insight_seal_key
from wagate.storage.database import Database
from wagate.storage.tables import (
    conversation_runs,
    conversations,
    inbound_messages,
    outbound_messages,
)

FILTERS = ("review", "held", "failed", "opted_out")
SEARCH_SCAN = 2000  # conversations opened, newest first, to match a name or a fragment
_SCAN_BATCH = 200

# domain.handover.Hold.active in SQL (as in gauges): open, and the gateway's or not idle.
_ACTIVE_HOLD = (
    "h.conversation_id = c.id AND h.released_at IS NULL"
    f" AND (h.held_by = '{GATEWAY}'"
    " OR GREATEST(h.taken_at, COALESCE(h.last_human_at, h.taken_at)) > now() - :idle)"
)
_FILTER_SQL = {
    "review": "EXISTS (SELECT 1 FROM review_drafts d WHERE d.conversation_id = c.id"
    f" AND d.status = '{DraftStatus.PENDING.value}')",
    "held": f"EXISTS (SELECT 1 FROM conversation_holds h WHERE {_ACTIVE_HOLD})",
    "failed": "EXISTS (SELECT 1 FROM outbound_messages f WHERE f.conversation_id = c.id"
    f" AND f.status = '{OutboundStatus.FAILED.value}')",
    "opted_out": f"k.consent_state = '{ConsentState.WITHDRAWN.value}'",
}
_LIST_SQL = f"""
SELECT c.id, c.provider, c.channel_id, c.contact_key, c.profile, c.created_at,
       c.last_inbound_at, k.consent_state, k.consent_changed_at,
       i.messages AS inbound, i.last_at AS last_in,
       o.messages AS outbound, o.failed, o.last_at AS last_out,
       h.held_by, h.taken_at AS held_since,
       (SELECT count(*) FROM review_drafts d WHERE d.conversation_id = c.id
           AND d.status = '{DraftStatus.PENDING.value}') AS reviews
  FROM conversations c
  LEFT JOIN contacts k ON k.id = c.contact_id
  LEFT JOIN LATERAL (
       SELECT count(*) AS messages, max(sent_at) AS last_at
         FROM inbound_messages WHERE conversation_id = c.id) i ON true
  LEFT JOIN LATERAL (
       SELECT count(*) AS messages, max(created_at) AS last_at,
              count(*) FILTER (WHERE status = '{OutboundStatus.FAILED.value}') AS failed
         FROM outbound_messages WHERE conversation_id = c.id) o ON true
  LEFT JOIN conversation_holds h ON {_ACTIVE_HOLD}
 WHERE c.tenant = :tenant AND {{where}}
 ORDER BY c.last_inbound_at DESC NULLS LAST, c.id DESC
 LIMIT :limit OFFSET :offset
"""
_COUNT_SQL = """
SELECT count(*) FROM conversations c LEFT JOIN contacts k ON k.id = c.contact_id
 WHERE c.tenant = :tenant AND {where}
"""


class ConversationQueries:
    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        tenant: str,
        *,
        indexer: Indexer | None = None,
        takeover_idle: timedelta = timedelta(minutes=60),
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant
        self._indexer = indexer  # None: a phone number is searched like any other text
        self._idle = takeover_idle

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
                    "sender": camel_keys(document.get("sender")),
                    "content": camel_keys(document.get("content")),
                    "context": camel_keys(document.get("context")),
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
                    "content": camel_keys(displayed(str(row["kind"]), content)),
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

    # ------------------------------------------------------------------ the console

    async def console_list(
        self,
        *,
        filters: Collection[str] = (),
        search: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A page of conversations, newest inbound first, with counts and states (see the
        module doc for how `search` finds its matches). `mode` says which search ran:
        "all" (none), "phone" (the digest of a whole number) or "scan" (opened profiles;
        `scanned` of them, `bounded` when older ones were not looked at)."""
        unknown = set(filters) - set(FILTERS)
        if unknown:
            raise ValueError(f"unknown filters: {sorted(unknown)}")
        where = [_FILTER_SQL[f] for f in FILTERS if f in filters] or ["true"]
        params: dict[str, Any] = {"tenant": self._tenant, "idle": self._idle}
        needle = " ".join(search.split())[:100]
        if not needle:
            return await self._page(where, params, limit=limit, offset=offset, mode="all")
        digests = self._phone_digests(needle)
        if digests is not None:
            phone_where = [*where, "(c.contact_phone = :phone OR c.contact_key = :contact)"]
            found = await self._page(
                phone_where, {**params, **digests}, limit=limit, offset=offset, mode="phone"
            )
            if found["total"]:
                return found
        return await self._scan(where, params, needle, limit=limit, offset=offset)

    async def console_thread(
        self, conversation_id: int, *, limit: int = 200
    ) -> dict[str, Any] | None:
        """One conversation for the console: its contact, consent, hold and pending reviews,
        and its last `limit` messages both ways in time order, with delivery statuses."""
        params = {
            "tenant": self._tenant,
            "idle": self._idle,
            "limit": 1,
            "offset": 0,
            "id": conversation_id,
        }
        sql = _LIST_SQL.format(where="c.id = :id")
        inbound = (
            select(inbound_messages)
            .where(inbound_messages.c.conversation_id == conversation_id)
            .order_by(inbound_messages.c.sent_at.desc(), inbound_messages.c.id.desc())
            .limit(limit)
        )
        outbound = (
            select(outbound_messages)
            .where(outbound_messages.c.conversation_id == conversation_id)
            .order_by(outbound_messages.c.created_at.desc(), outbound_messages.c.id.desc())
            .limit(limit)
        )
        async with self._database.tenant_begin(self._tenant) as conn:
            row = (await conn.execute(text(sql), params)).mappings().first()
            if row is None:
                return None
            inbound_rows = (await conn.execute(inbound)).mappings().all()
            outbound_rows = (await conn.execute(outbound)).mappings().all()
        timeline = [(r["sent_at"], 0, r["id"], self._inbound_item(r)) for r in inbound_rows]
        timeline += [(r["created_at"], 1, r["id"], self._outbound_item(r)) for r in outbound_rows]
        timeline.sort(key=lambda entry: entry[:3])
        messages = [entry[3] for entry in timeline[-limit:]]
        return {**self._console_item(row), "messages": messages}

    def _phone_digests(self, needle: str) -> dict[str, str] | None:
        if self._indexer is None:
            return None
        try:
            number = normalise_phone(needle)
        except InvalidPhoneNumber:
            return None
        return {
            "phone": self._indexer.digest(number, purpose=blind.PHONE),
            "contact": self._indexer.digest(number, purpose=blind.CONTACT),
        }

    async def _page(
        self, where: Sequence[str], params: dict[str, Any], *, limit: int, offset: int, mode: str
    ) -> dict[str, Any]:
        condition = " AND ".join(where)
        async with self._database.tenant_begin(self._tenant) as conn:
            rows = (
                (
                    await conn.execute(
                        text(_LIST_SQL.format(where=condition)),
                        {**params, "limit": limit, "offset": offset},
                    )
                )
                .mappings()
                .all()
            )
            total = int(
                (await conn.execute(text(_COUNT_SQL.format(where=condition)), params)).scalar_one()
            )
        return {
            "total": total,
            "limit": limit,
            "offset": offset,
            "mode": mode,
            "items": [self._console_item(r) for r in rows],
        }

    async def _scan(
        self,
        where: Sequence[str],
        params: dict[str, Any],
        needle: str,
        *,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """Open the newest `SEARCH_SCAN` profiles (in batches) and keep those that match."""
        matches: list[dict[str, Any]] = []
        scanned = 0
        exhausted = False
        condition = text(_LIST_SQL.format(where=" AND ".join(where)))
        while scanned < SEARCH_SCAN:
            batch = {**params, "limit": _SCAN_BATCH, "offset": scanned}
            async with self._database.tenant_begin(self._tenant) as conn:
                rows = (await conn.execute(condition, batch)).mappings().all()
            scanned += len(rows)
            for row in rows:
                item = self._console_item(row)
                if _matches(item["contact"], needle):
                    matches.append(item)
            if len(rows) < _SCAN_BATCH:
                exhausted = True
                break
        return {
            "total": len(matches),
            "limit": limit,
            "offset": offset,
            "mode": "scan",
            "scanned": scanned,
            "bounded": not exhausted,
            "items": matches[offset : offset + limit],
        }

    def _console_item(self, row: Any) -> dict[str, Any]:
        key = f"{row['provider']}:{row['channel_id']}:{row['contact_key']}"
        profile = self._open("conversations", key, row["profile"]) or {}
        last = max((t for t in (row["last_in"], row["last_out"]) if t is not None), default=None)
        return {
            "id": row["id"],
            "provider": row["provider"],
            "channelId": row["channel_id"],
            "contact": {
                "key": profile.get("key"),
                "phone": profile.get("phone"),
                "name": profile.get("name"),
                "username": profile.get("username"),
                "unreadable": bool(profile.get("unreadable")),
            },
            "createdAt": _iso(row["created_at"]),
            "lastMessageAt": _iso(last),
            "inbound": int(row["inbound"] or 0),
            "outbound": int(row["outbound"] or 0),
            "failed": int(row["failed"] or 0),
            "reviews": int(row["reviews"] or 0),
            "consent": row["consent_state"],
            "consentChangedAt": _iso(row["consent_changed_at"]),
            "optedOut": row["consent_state"] == ConsentState.WITHDRAWN.value,
            "heldBy": row["held_by"],
            "heldSince": _iso(row["held_since"]),
        }

    def _inbound_item(self, row: Any) -> dict[str, Any]:
        key = f"{row['provider']}:{row['provider_message_id']}"
        document = self._open("inbound_messages.content", key, row["content"]) or {}
        return {
            "id": row["id"],
            "direction": "inbound",
            "at": _iso(row["sent_at"]),
            "kind": row["kind"],
            "content": camel_keys(document.get("content")),
            "unreadable": bool(document.get("unreadable")),
        }

    def _outbound_item(self, row: Any) -> dict[str, Any]:
        key = str(row["idempotency_key"])
        content = self._open("outbound_messages.content", key, row["content"])
        return {
            "id": row["id"],
            "direction": "outbound",
            "at": _iso(row["created_at"]),
            "kind": row["kind"],
            "status": row["status"],
            "statusAt": _iso(row["status_at"]),
            "errorCode": row["error_code"],
            "runKey": _run_key(key),
            # A link code never shows: it proves the phone only while unseen.
            "content": camel_keys(displayed(str(row["kind"]), content)),
            "unreadable": isinstance(content, dict) and bool(content.get("unreadable")),
        }


def _matches(contact: dict[str, Any], needle: str) -> bool:
    """Case-insensitive in the name, user name or number; a needle of digits (with spaces,
    dashes or a +) also matches the digits of the number however it was written."""
    wanted = needle.casefold()
    fields = [str(contact.get(f) or "") for f in ("name", "username", "phone", "key")]
    if any(wanted in value.casefold() for value in fields):
        return True
    digits = "".join(ch for ch in needle if ch.isdigit())
    if digits and len(digits) == len(needle.replace(" ", "").replace("-", "").lstrip("+")):
        return any(digits in "".join(ch for ch in value if ch.isdigit()) for value in fields)
    return False


def _run_key(idempotency_key: str) -> str | None:
    """The run an AI reply belongs to (`run:<conversation>:<message>:reply:0` → its first
    three parts), so the console can put it beside what the AI received for that run."""
    parts = idempotency_key.split(":")
    return ":".join(parts[:3]) if parts[0] == "run" and len(parts) >= 3 else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
