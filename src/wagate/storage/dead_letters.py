"""Dead letters (OU3), both ways, kept with their last error, visible and replayable.

* outbound (id `123`): a message that failed for good. A replay only ever touches a failed row —
  one that was never delivered, since delivery statuses never move backwards and `failed` is
  terminal — so it cannot duplicate something the user already has. (A message whose delivery
  is *unknown* — `outcome_unknown` — is the exception the operator decides about: see
  docs/reliability.md.)
* inbound (id `in-7`): a burst whose processing kept failing (see `inbound_failures`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.domain.identity import displayed
from wagate.domain.json_keys import camel_keys
from wagate.domain.outbound import Cause, OutboundStatus
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.database import Database
from wagate.storage.inbound_failures import InboundFailures
from wagate.storage.queue import DEFER_SQL
from wagate.storage.statuses import FAILED, PENDING, guard

INBOUND_PREFIX = "in-"


class NotADeadLetter(ValueError):
    """The reference names no dead letter."""


def parse_ref(ref: str | int) -> tuple[str, int]:
    """`123` → ("outbound", 123); `in-7` → ("inbound", 7)."""
    text = str(ref).strip().lower()
    direction = "outbound"
    if text.startswith(INBOUND_PREFIX):
        direction, text = "inbound", text.removeprefix(INBOUND_PREFIX)
    if not text.isdigit():
        raise NotADeadLetter(f"{ref!r} is not a dead letter id (123 or in-7)")
    return direction, int(text)


_COLUMNS = """id, conversation_id, provider, kind, status, error_code, error_detail, attempts,
       created_at, status_at, email_status, unknown_outcomes"""
_LIST_SQL = f"""
SELECT {_COLUMNS} FROM outbound_messages
 WHERE tenant = %(tenant)s AND status = {FAILED}
 ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
_SHOW_SQL = f"""
SELECT {_COLUMNS}, idempotency_key, content FROM outbound_messages
 WHERE tenant = %(tenant)s AND id = %(id)s
"""
_REPLAY_SQL = f"""
UPDATE outbound_messages
   SET status = {PENDING}, attempts = 0, next_attempt_at = NULL, provider_message_id = NULL,
       error_code = NULL, error_detail = NULL, status_at = %(at)s, throttles = 0
 WHERE tenant = %(tenant)s AND status IN {guard(Cause.REPLAY, OutboundStatus.PENDING)}
   AND (%(id)s::bigint IS NULL OR id = %(id)s)
RETURNING id, conversation_id
"""


class DeadLetters:
    def __init__(
        self, database: Database, sealer: Sealer, tenant: str, inbound: InboundFailures
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant
        self._inbound = inbound

    @staticmethod
    def _row(row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "direction": "outbound",
            "conversationId": row["conversation_id"],
            "provider": row["provider"],
            "kind": row["kind"],
            "status": row["status"],
            "errorCode": row["error_code"],
            "error": row["error_detail"],
            "attempts": row["attempts"],
            "createdAt": row["created_at"].isoformat(),
            "failedAt": row["status_at"].isoformat() if row["status_at"] else None,
            "email": row["email_status"],
            # >0: sent again after an attempt whose outcome was unknown (possible duplicate).
            "resentAfterUnknown": row["unknown_outcomes"],
        }

    async def listing(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Both kinds, newest first."""
        window = {"tenant": self._tenant, "limit": limit + offset, "offset": 0}
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_LIST_SQL, window)
            outbound = [self._row(row) for row in await cursor.fetchall()]
        inbound = await self._inbound.listing(limit=limit + offset)
        both = sorted(
            [*outbound, *inbound],
            key=lambda item: str(item.get("failedAt") or item["createdAt"]),
            reverse=True,
        )
        return both[offset : offset + limit]

    async def show(self, ref: str | int) -> dict[str, Any] | None:
        """One dead letter; an outbound message's text is opened for the operator who decides
        about it."""
        direction, number = parse_ref(ref)
        if direction == "inbound":
            return await self._inbound.show(number)
        return await self._show_outbound(number)

    async def replay(self, ref: str | int | None, *, at: datetime) -> list[int | str]:
        """Back to the queue: one dead letter, or all of them (`ref` None)."""
        if ref is None:
            outbound: list[int | str] = list(await self._replay_outbound(None, at=at))
            inbound = [f"{INBOUND_PREFIX}{n}" for n in await self._inbound.replay(None, at=at)]
            return [*outbound, *inbound]
        direction, number = parse_ref(ref)
        if direction == "inbound":
            return [f"{INBOUND_PREFIX}{n}" for n in await self._inbound.replay(number, at=at)]
        return list(await self._replay_outbound(number, at=at))

    async def _show_outbound(self, message_id: int) -> dict[str, Any] | None:
        async with self._database.tenant_connection(self._tenant) as conn:
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
        content = displayed(str(row["kind"]), content)
        return {
            **self._row(row),
            "text": content.get("text"),
            "to": content.get("to"),
            "template": camel_keys(content.get("template")),
        }

    async def _replay_outbound(self, message_id: int | None, *, at: datetime) -> list[int]:
        """Back to the queue: one failed message, or all of them (`message_id` None). Returns
        the ids replayed; each conversation's job delivers them in order."""
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                _REPLAY_SQL, {"tenant": self._tenant, "id": message_id, "at": at}
            )
            rows = await cursor.fetchall()
            for conversation_id in {row["conversation_id"] for row in rows}:
                await conn.execute(
                    DEFER_SQL, {"conversation_id": conversation_id, "run_at": at, "attempt": 0}
                )
        return [int(row["id"]) for row in rows]
