"""Outbound messages (OU9, IN7): rows exist, with their idempotency key, before any send."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from wagate.domain.audit import AuditEvent
from wagate.domain.breaker import ChannelHealth
from wagate.domain.messages import DeliveryStatus, Provider, advances
from wagate.domain.outbound import Cause, EmailStatus, OutboundStatus
from wagate.domain.phone import is_group_chat
from wagate.pipeline.operator.errors import Conflict
from wagate.pipeline.operator.ports import Delivery, DeliveryEvent
from wagate.pipeline.ports import DueMessages, NewUpload, OutboundMessage
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage import blind
from wagate.storage.audit import APPEND_AFTER_CTES, RIDE_WRITTEN_SQL, PostgresAuditLog
from wagate.storage.blind import Indexer
from wagate.storage.database import Database
from wagate.storage.intake import conversation_seal_key
from wagate.storage.outbound_files import INSERT_SQL as _FILE_SQL
from wagate.storage.outbound_files import insert_params as file_params
from wagate.storage.provider_health import HEALTH_COLUMNS, health_from_row
from wagate.storage.queue import DEFER_SQL, insert_job_sql
from wagate.storage.recipients import OPTED_OUT_EXISTS, OptOuts, refusal_of
from wagate.storage.statuses import (
    ACCEPTED,
    EMAIL_DUE,
    EMAIL_SENT,
    EMAIL_SKIPPED,
    FAILED,
    PENDING,
    SENDING,
    guard,
    literal_set,
)

# Where one message is, and every status reported for it: by the provider's id, or naming
# our key (Meta echoes it), whichever came first.
_DELIVERY_SQL = """
SELECT provider, status, created_at, status_at, attempts, provider_message_id, error_code,
       error_detail
  FROM outbound_messages WHERE idempotency_key = %(key)s
"""
_DELIVERY_EVENTS_SQL = """
SELECT status, min(occurred_at) AS occurred_at, min(received_at) AS received_at
  FROM delivery_statuses
 WHERE provider = %(provider)s
   AND (provider_message_id = %(provider_message_id)s OR tracker = %(key)s)
 GROUP BY status ORDER BY min(received_at), status
"""

# A send's own answer applies only to a row no status webhook has settled yet.
_ACCEPTABLE = guard(Cause.SEND_ACCEPTED, OutboundStatus.ACCEPTED)

_PENDING_SQL = f"""
SELECT o.id, o.conversation_id, o.provider, o.channel_id, o.recipient, o.idempotency_key,
       o.content, o.attempts, o.reply_to, o.next_attempt_at, o.kind, c.last_inbound_at,
       o.status, o.last_attempt_at, o.throttles, o.inbound_received_at
  FROM outbound_messages o JOIN conversations c ON c.id = o.conversation_id
 WHERE o.conversation_id = %(conversation_id)s AND o.status IN {guard(Cause.ATTEMPT)}
 ORDER BY o.id
"""
# `due`'s opt-out parameters when it screens no number (the check is not evaluated; the
# tenant is the store's, as a carrier statement's own `tenant` parameter is).
_NO_LOOKUP: dict[str, str | None] = {
    "tenant": None,
    "withdrawn": None,
    "phone": None,
    "user_id": None,
}
# What a delivery run reads before its first send, in one statement (issue 18: each statement
# costs the worker an event-loop wait): the pending messages, the channel's breaker state (no
# row: healthy) and, when pacing asks (`%(since)s` not NULL), the pair's recent sends, read
# once in a CTE; and, when `%(screen)s`, the opt-out check for the number the run expects to
# write to (`storage/recipients.py`'s rule, the transaction of its own it took before saved).
_HEALTH_COLUMNS = tuple(column.strip() for column in HEALTH_COLUMNS.split(","))
# The outbound columns `due` reads: a carrier that inserts rows the same statement must read
# (they are not in its snapshot) returns these (`due_ctes`).
DUE_ROW_COLUMNS = (
    "id, tenant, conversation_id, provider, channel_id, recipient, idempotency_key, content,"
    " attempts, reply_to, next_attempt_at, kind, status, last_attempt_at, throttles,"
    " inbound_received_at"
)
_DUE_RECENT_CTE = f"""
recent AS (
  SELECT CASE WHEN %(since)s::timestamptz IS NULL THEN NULL ELSE ARRAY(
    SELECT last_attempt_at FROM outbound_messages
     WHERE conversation_id = %(conversation_id)s AND last_attempt_at >= %(since)s
       AND status NOT IN {literal_set({OutboundStatus.PENDING, OutboundStatus.FAILED})}
  ) END AS sends,
  CASE WHEN %(screen)s THEN {OPTED_OUT_EXISTS} END AS opted_out
)"""


def _due_select(source: str) -> str:
    """`due`'s select over the outbound rows of `source` (a table or a derived table)."""
    return f"""
SELECT o.id, o.conversation_id, o.provider, o.channel_id, o.recipient, o.idempotency_key,
       o.content, o.attempts, o.reply_to, o.next_attempt_at, o.kind, c.last_inbound_at,
       o.status, o.last_attempt_at, o.throttles, o.inbound_received_at, r.sends AS recent_sends,
       r.opted_out,
       h.provider IS NOT NULL AS health_stored,
       {", ".join(f"h.{column} AS health_{column}" for column in _HEALTH_COLUMNS)}
  FROM {source} o JOIN conversations c ON c.id = o.conversation_id
  CROSS JOIN recent r
  LEFT JOIN provider_health h
    ON h.tenant = o.tenant AND h.provider = o.provider AND h.channel_id = o.channel_id
 WHERE o.conversation_id = %(conversation_id)s AND o.status IN {guard(Cause.ATTEMPT)}"""


_DUE_SQL = f"WITH {_DUE_RECENT_CTE}{_due_select('outbound_messages')}\n ORDER BY o.id\n"
# `due` as two CTEs (`recent`, `due`) for a carrier statement to select from (`due_params`:
# their parameters); `DUE_AFTER_INSERT_CTES` when the carrier also inserts outbound rows in a
# CTE `outbound_rows` returning `DUE_ROW_COLUMNS`: those are read with the table's.
DUE_CTES = f"{_DUE_RECENT_CTE}, due AS ({_due_select('outbound_messages')}\n)"
DUE_AFTER_INSERT_CTES = f"""{_DUE_RECENT_CTE}, due AS ({
    _due_select(
        f"(SELECT {DUE_ROW_COLUMNS} FROM outbound_messages"
        f" UNION ALL SELECT {DUE_ROW_COLUMNS} FROM outbound_rows)"
    )
}
)"""
# Failed for good (by the worker or by a status webhook) with the e-mail fallback due now.
_EMAILS_DUE_SQL = f"""
SELECT o.id, o.conversation_id, o.provider, o.channel_id, o.recipient, o.idempotency_key,
       o.content, o.attempts, o.reply_to, o.next_attempt_at, o.kind, c.last_inbound_at,
       o.status, o.last_attempt_at, o.throttles, o.email_attempts
  FROM outbound_messages o JOIN conversations c ON c.id = o.conversation_id
 WHERE o.conversation_id = %(conversation_id)s AND o.status = {FAILED}
   AND o.email_status = {EMAIL_DUE} AND (o.email_next_at IS NULL OR o.email_next_at <= now())
 ORDER BY o.id
"""
_EMAIL_OUTCOME_SQL = f"""
UPDATE outbound_messages SET email_status = %(status)s, email_error = %(error)s,
       emailed_at = CASE WHEN %(status)s = {EMAIL_SENT} THEN now() ELSE emailed_at END,
       email_attempts = email_attempts + CASE WHEN %(attempted)s THEN 1 ELSE 0 END,
       email_next_at = %(next_at)s
 WHERE id = %(id)s
"""
# Not the message's fault (token refused, pair limit): the attempt is given back.
_RELEASE_SQL = f"""
UPDATE outbound_messages SET status = {PENDING}, attempts = GREATEST(attempts - 1, 0),
       next_attempt_at = %(at)s, error_code = %(error_code)s, error_detail = %(error)s,
       throttles = CASE WHEN %(throttled)s THEN throttles + 1 ELSE 0 END
 WHERE id = %(id)s AND status IN {guard(Cause.RELEASE, OutboundStatus.PENDING)}
"""
# Stays `sending`: a status webhook naming its key may still move it on (see intake).
_UNKNOWN_SQL = f"""
UPDATE outbound_messages SET next_attempt_at = %(at)s, error_code = 'outcome_unknown',
       error_detail = %(error)s
 WHERE id = %(id)s AND status IN {guard(Cause.OUTCOME_UNKNOWN)}
"""
_RESENDING_SQL = (
    "UPDATE outbound_messages SET unknown_outcomes = unknown_outcomes + 1 WHERE id = %(id)s"
)
# The newest status of a provider, by the primary key backwards: no scan of the table.
_LAST_STATUS_SQL = """
SELECT received_at FROM delivery_statuses
 WHERE tenant = %(tenant)s AND provider = %(provider)s
 ORDER BY id DESC LIMIT 1
"""
_RECENT_SENDS_SQL = f"""
SELECT last_attempt_at FROM outbound_messages
 WHERE conversation_id = %(conversation_id)s AND last_attempt_at >= %(since)s
   AND status NOT IN {literal_set({OutboundStatus.PENDING, OutboundStatus.FAILED})}
"""
# A free-form message Meta refused because the window had closed (131047, legacy 470, arriving
# as a failed status after the send was accepted) goes again, as the out-of-window template.
_REROUTE_SQL = f"""
UPDATE outbound_messages SET status = {PENDING}, kind = 'window_template',
       next_attempt_at = NULL, error_detail = 'window closed: resent as template',
       email_status = NULL
 WHERE conversation_id = %(conversation_id)s AND status IN {guard(Cause.REROUTE)}
   AND error_code IN ('131047', '470') AND kind <> 'window_template'
"""
# The attempt is on record before the provider is called: a crash during the call leaves a
# row in `sending`, which tells recovery the provider may have the message already.
_START_SQL = f"""
UPDATE outbound_messages SET status = {SENDING}, attempts = attempts + 1,
       last_attempt_at = %(at)s, next_attempt_at = NULL
 WHERE id = %(id)s
"""
# Statuses can arrive before we have recorded the provider's id for the message: the same
# statement that records the id returns any that are already there.
_ACCEPTED_CTE = f"""
accepted AS (
  -- A status webhook that named our key may have got here first: never move it backwards.
  UPDATE outbound_messages
     SET status = CASE WHEN status IN {_ACCEPTABLE} THEN {ACCEPTED} ELSE status END,
         provider_message_id = %(provider_message_id)s,
         status_at = CASE WHEN status IN {_ACCEPTABLE} THEN %(at)s ELSE status_at END,
         error_code = CASE WHEN status IN {_ACCEPTABLE} THEN NULL ELSE error_code END,
         error_detail = CASE WHEN status IN {_ACCEPTABLE} THEN NULL
                             ELSE error_detail END,
         throttles = 0
   WHERE id = %(id)s
  RETURNING provider
)"""
_ACCEPTED_SQL = f"""
WITH {_ACCEPTED_CTE}
SELECT d.status, d.occurred_at FROM delivery_statuses d JOIN accepted a ON a.provider = d.provider
 WHERE d.provider_message_id = %(provider_message_id)s
"""
# The same, carrying a send's audit events (storage/audit.py, `ride`) as CTEs of its own: one
# statement, where a pipeline of two cost the worker more (issue 18). One row at least: the
# early statuses (status NULL when there are none) each with whether the events were written.
_ACCEPTED_RIDING_SQL = f"""
WITH {_ACCEPTED_CTE}, {APPEND_AFTER_CTES}
SELECT d.status, d.occurred_at, {RIDE_WRITTEN_SQL} AS written
  FROM (SELECT 1) AS one
  LEFT JOIN (delivery_statuses d JOIN accepted a ON a.provider = d.provider)
    ON d.provider_message_id = %(provider_message_id)s
"""
_APPLY_STATUS_SQL = """
UPDATE outbound_messages SET status = %(status)s, status_at = %(at)s WHERE id = %(id)s
"""
# An attempt's outcome only applies to a row still in flight: a status webhook that named our
# key may have settled it meanwhile (the provider has it), and must not be undone.
_RETRY_SQL = f"""
UPDATE outbound_messages SET status = {PENDING}, next_attempt_at = %(at)s,
       error_code = %(error_code)s, error_detail = %(error)s
 WHERE id = %(id)s AND status IN {guard(Cause.RETRY, OutboundStatus.PENDING)}
"""
_FAILED_SQL = f"""
UPDATE outbound_messages SET status = {FAILED}, error_code = %(error_code)s,
       error_detail = %(error)s, status_at = now(),
       email_status = CASE WHEN %(email_due)s THEN {EMAIL_DUE} ELSE {EMAIL_SKIPPED} END
 WHERE id = %(id)s AND status IN {guard(Cause.FAIL, OutboundStatus.FAILED)}
"""


# An operator's message: into the contact's conversation (the latest one on that provider, or a
# new one), as an outbound row, with the conversation's job queued — one statement.
_ENQUEUE_SQL = (
    f"""
WITH existing AS (
  SELECT id, channel_id FROM conversations
   WHERE tenant = %(tenant)s AND provider = %(provider)s AND contact_key = %(contact_key)s
   ORDER BY last_inbound_at DESC NULLS LAST, id DESC LIMIT 1
), created AS (
  -- (rows a CTE inserts are invisible to the rest of the statement through the table,
  -- so each branch returns what the next step needs)
  INSERT INTO conversations (tenant, provider, channel_id, contact_key, contact_phone, profile)
  SELECT %(tenant)s, %(provider)s, %(channel_id)s, %(contact_key)s, %(phone)s, %(profile)s
   WHERE NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT ON CONSTRAINT conversations_contact_key DO UPDATE SET tenant = EXCLUDED.tenant
  RETURNING id, channel_id
), conversation AS (
  SELECT id, channel_id FROM existing UNION ALL SELECT id, channel_id FROM created
), message AS (
  INSERT INTO outbound_messages (tenant, conversation_id, provider, channel_id, recipient,
                                 idempotency_key, kind, content, status)
  SELECT %(tenant)s, c.id, %(provider)s, c.channel_id, %(recipient)s, %(key)s, %(kind)s,
         %(content)s, {PENDING}
    FROM conversation c
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, conversation_id
), queued AS ("""
    + insert_job_sql("message", "conversation_id")
    + """)
SELECT (SELECT id FROM message) AS id, (SELECT id FROM conversation) AS conversation_id
"""
)


class IdempotencyConflict(Conflict):
    """An idempotency key was used before for a different request (target, text, template):
    the operator service's Conflict (409 on the API, exit 1 on the CLI)."""


_LAST_INBOUND_SQL = """
SELECT max(last_inbound_at) AS last_inbound_at FROM conversations
 WHERE tenant = %(tenant)s AND provider = %(provider)s AND contact_key = %(contact_key)s
"""

_STORED_REQUEST_SQL = """
SELECT idempotency_key, recipient, content FROM outbound_messages
 WHERE tenant = %(tenant)s AND idempotency_key = %(key)s
"""


def _document(
    text: str,
    target: str,
    template: Mapping[str, object] | None,
    flow: Mapping[str, object] | None,
    rich: Mapping[str, object] | None = None,
    code_template: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """An operator's message as sealed: a Flow message's parameters only when it is one, so
    every other message keeps the shape it always had (and an old key still matches)."""
    document: dict[str, Any] = {"text": text, "to": target, "template": template}
    if flow is not None:
        document["flow"] = flow
    if rich is not None:  # a document, image or interactive message (`rich_messages.py`)
        document["rich"] = rich
    if code_template is not None:  # a link code's AUTHENTICATION template (outside the window)
        document["code_template"] = code_template
    return document


class PostgresOutbox:
    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        indexer: Indexer,
        tenant: str,
        *,
        audit: PostgresAuditLog | None = None,
        opt_outs: OptOuts | None = None,
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant
        # The opt-out check `due` can carry (the delivery's RecipientCheck; None: never).
        self._opt_outs = opt_outs
        # The tenant's audit chain: a send's record rides in the transaction of its acceptance.
        self._audit = audit

    async def pending(self, conversation_id: int) -> list[OutboundMessage]:
        rows = await self._database.tenant_rows(
            self._tenant, _PENDING_SQL, {"conversation_id": conversation_id}
        )
        return await self._readable(rows, self._unsendable)

    async def due(
        self, conversation_id: int, *, recent_since: datetime | None, screen: str | None = None
    ) -> DueMessages:
        sql, params = self.due_statement(conversation_id, recent_since=recent_since, screen=screen)
        rows = await self._database.tenant_rows(self._tenant, sql, params)
        return await self.due_from(rows, screen=screen)

    def due_statement(
        self, conversation_id: int, *, recent_since: datetime | None, screen: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """`due`'s statement, for a transaction of the tenant's to carry (`due_from` reads
        its rows)."""
        return _DUE_SQL, self.due_params(conversation_id, recent_since=recent_since, screen=screen)

    def due_params(
        self, conversation_id: int, *, recent_since: datetime | None, screen: str | None = None
    ) -> dict[str, Any]:
        """The parameters of `due`'s statement (or of `DUE_AFTER_INSERT_CTES`)."""
        lookup = self._lookup(screen)
        return {
            "conversation_id": conversation_id,
            "since": recent_since,
            "screen": lookup is not None,
            **(lookup or {**_NO_LOOKUP, "tenant": self._tenant}),
        }

    def _lookup(self, screen: str | None) -> dict[str, str | None] | None:
        if screen is None or self._opt_outs is None:
            return None
        return self._opt_outs.lookup(screen)

    async def due_from(self, rows: list[dict[str, Any]], *, screen: str | None) -> DueMessages:
        """What `due` returns, from its statement's rows."""
        if not rows or rows[0]["id"] is None:  # (a carrier's row when nothing is due)
            return DueMessages(messages=[])
        first = rows[0]
        health = (
            health_from_row({c: first[f"health_{c}"] for c in _HEALTH_COLUMNS})
            if first["health_stored"]
            else ChannelHealth()
        )
        recent = first["recent_sends"]
        return DueMessages(
            messages=await self._readable(rows, self._unsendable),
            recent=list(recent) if recent is not None else None,
            health=health,
            screened={screen: refusal_of(first["opted_out"])}
            if screen is not None and self._opt_outs is not None
            else {},
        )

    async def _unsendable(self, message_id: int) -> None:
        # Its key is gone or it was tampered with: it can never be sent, and retrying would
        # hold the conversation's later messages back forever. A dead letter.
        await self.failed(message_id, error_code="unreadable", error="content cannot be opened")

    async def _unmailable(self, message_id: int) -> None:
        await self.email_outcome(message_id, status=EmailStatus.UNREADABLE, error=None)

    async def _readable(
        self, rows: list[Any], on_unreadable: Callable[[int], Awaitable[None]]
    ) -> list[OutboundMessage]:
        messages = []
        for row in rows:
            try:
                messages.append(self._message(row))
            except UnreadableEnvelope:
                await on_unreadable(int(row["id"]))
        return messages

    def _message(self, row: Any) -> OutboundMessage:
        key = str(row["idempotency_key"])
        plain = self._sealer.open(
            bytes(row["content"]),
            SealContext(tenant=self._tenant, table="outbound_messages.content", key=key),
        )
        document = orjson.loads(plain)
        return OutboundMessage(
            id=int(row["id"]),
            conversation_id=int(row["conversation_id"]),
            provider=Provider(str(row["provider"])),
            channel_id=str(row["channel_id"]),
            recipient=str(document.get("to") or row["recipient"]),
            idempotency_key=key,
            text=str(document["text"]),
            attempts=int(row["attempts"]),
            reply_to=row["reply_to"],
            next_attempt_at=row["next_attempt_at"],
            kind=str(row["kind"]),
            template=document.get("template"),
            flow=document.get("flow"),
            rich=document.get("rich"),
            interactive=document.get("interactive"),
            code_template=document.get("code_template"),
            last_inbound_at=row["last_inbound_at"],
            status=OutboundStatus(str(row["status"])),
            last_attempt_at=row["last_attempt_at"],
            throttles=int(row["throttles"]),
            email_attempts=int(row.get("email_attempts") or 0),
            inbound_received_at=row.get("inbound_received_at"),
        )

    async def reroute_window_failures(self, conversation_id: int) -> int:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_REROUTE_SQL, {"conversation_id": conversation_id})
            return cursor.rowcount

    async def start_attempt(self, message_id: int, *, at: datetime) -> None:
        # Committed before the send: a crash during the call leaves the attempt on record.
        await self._database.tenant_rows(self._tenant, _START_SQL, {"id": message_id, "at": at})

    async def accepted(
        self,
        message_id: int,
        *,
        provider_message_id: str,
        at: datetime,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        # Two transactions, as the two autocommit statements were: the provider's id must stay
        # recorded even if applying an early status fails. The send's audit events ride in the
        # first when the chain allows (storage/audit.py, `ride`): True when they did.
        accepted = (
            _ACCEPTED_SQL,
            {"id": message_id, "provider_message_id": provider_message_id, "at": at},
        )
        ride = self._audit.ride(audit, at=at) if self._audit is not None and audit else None
        written = False
        if ride is None:
            early_statuses = await self._database.tenant_rows(self._tenant, *accepted)
        else:
            row = None
            try:
                early_statuses = await self._database.tenant_rows(
                    self._tenant, _ACCEPTED_RIDING_SQL, {**accepted[1], **ride.statement[1]}
                )
                row = early_statuses[0]
            finally:
                written = ride.settle(row)
        best: DeliveryStatus = DeliveryStatus.ACCEPTED
        best_at = at
        for early in early_statuses:
            if early["status"] is None:
                continue  # the riding statement's row when no status came early
            status = DeliveryStatus(str(early["status"]))
            if advances(best, status):
                best, best_at = status, early["occurred_at"]
        if best is not DeliveryStatus.ACCEPTED:
            async with self._database.tenant_connection(self._tenant) as conn:
                await conn.execute(
                    _APPLY_STATUS_SQL, {"id": message_id, "status": best.value, "at": best_at}
                )
        return written

    async def retry_later(
        self, message_id: int, *, at: datetime, error_code: str | None, error: str
    ) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(
                _RETRY_SQL,
                {"id": message_id, "at": at, "error_code": error_code, "error": error[:500]},
            )

    async def failed(
        self, message_id: int, *, error_code: str | None, error: str, email_due: bool = False
    ) -> None:
        params = {
            "id": message_id,
            "error_code": error_code,
            "error": error[:500],
            "email_due": email_due,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_FAILED_SQL, params)

    async def release_attempt(
        self, message_id: int, *, at: datetime, throttled: bool, error_code: str | None, error: str
    ) -> None:
        params = {
            "id": message_id,
            "at": at,
            "throttled": throttled,
            "error_code": error_code,
            "error": error[:500],
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_RELEASE_SQL, params)

    async def outcome_unknown(self, message_id: int, *, reconcile_at: datetime, error: str) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(
                _UNKNOWN_SQL, {"id": message_id, "at": reconcile_at, "error": error[:500]}
            )

    async def resending_unknown(self, message_id: int) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_RESENDING_SQL, {"id": message_id})

    async def last_status_at(self, provider: Provider) -> datetime | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                _LAST_STATUS_SQL, {"tenant": self._tenant, "provider": provider.value}
            )
            row = await cursor.fetchone()
        return row["received_at"] if row is not None else None

    async def recent_sends(self, conversation_id: int, *, since: datetime) -> list[datetime]:
        rows = await self._database.tenant_rows(
            self._tenant, _RECENT_SENDS_SQL, {"conversation_id": conversation_id, "since": since}
        )
        return [row["last_attempt_at"] for row in rows]

    async def emails_due(self, conversation_id: int) -> list[OutboundMessage]:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_EMAILS_DUE_SQL, {"conversation_id": conversation_id})
            rows = await cursor.fetchall()
        return await self._readable(rows, self._unmailable)

    async def email_outcome(
        self,
        message_id: int,
        *,
        status: EmailStatus,
        error: str | None,
        attempted: bool = False,
        next_at: datetime | None = None,
    ) -> None:
        params = {
            "id": message_id,
            "status": status.value,
            "error": error,
            "attempted": attempted,
            "next_at": next_at,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_EMAIL_OUTCOME_SQL, params)

    async def delivery(self, key: str) -> Delivery | None:
        """The message queued under `key` (this tenant's only) and its reported statuses."""
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_DELIVERY_SQL, {"key": key})).fetchone()
            if row is None:
                return None
            params = {
                "provider": row["provider"],
                "provider_message_id": row["provider_message_id"],
                "key": key,
            }
            events = await (await conn.execute(_DELIVERY_EVENTS_SQL, params)).fetchall()
        return Delivery(
            key=key,
            provider=Provider(row["provider"]),
            status=str(row["status"]),
            created_at=row["created_at"],
            status_at=row["status_at"],
            attempts=int(row["attempts"]),
            provider_message_id=row["provider_message_id"],
            error_code=row["error_code"],
            error_detail=row["error_detail"],
            events=tuple(
                DeliveryEvent(
                    status=str(e["status"]),
                    occurred_at=e["occurred_at"],
                    received_at=e["received_at"],
                )
                for e in events
            ),
        )

    async def enqueue(
        self,
        *,
        provider: Provider,
        channel_id: str,
        target: str,
        text: str,
        key: str,
        kind: str,
        run_at: datetime,
        template: Mapping[str, object] | None = None,
        flow: Mapping[str, object] | None = None,
        rich: Mapping[str, object] | None = None,
        code_template: Mapping[str, object] | None = None,
        upload: NewUpload | None = None,
    ) -> tuple[int | None, int]:
        """Queue an operator's message (a Flow message with `flow`, a document, image or
        interactive message with `rich`, a link code with its template `code_template`, an
        uploaded file's row with `upload`: in the same transaction, so the job never runs
        without it); returns (outbound id or None if the key was used already, conversation
        id). A replay does not record `upload`: the caller discards its object."""
        phone = None if is_group_chat(target) else target
        contact_digest = self._indexer.digest(target, purpose=blind.CONTACT)
        params = {
            "tenant": self._tenant,
            "provider": provider.value,
            "channel_id": channel_id,
            "contact_key": contact_digest,
            "phone": blind.digest_or_none(self._indexer, phone, blind.PHONE),
            # Sealed like every profile (and bound to the conversation's natural key).
            "profile": self._sealer.seal(
                orjson.dumps({"key": target, "phone": phone, "user_id": None, "name": None}),
                SealContext(
                    tenant=self._tenant,
                    table="conversations",
                    key=conversation_seal_key(provider.value, channel_id, contact_digest),
                ),
            ),
            "recipient": self._indexer.digest(target, purpose=blind.CONTACT),
            "key": key,
            "kind": kind,
            "run_at": run_at,
            "attempt": 0,
            "content": self._sealer.seal(
                orjson.dumps(_document(text, target, template, flow, rich, code_template)),
                SealContext(tenant=self._tenant, table="outbound_messages.content", key=key),
            ),
        }
        stored = None
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_ENQUEUE_SQL, params)).fetchone()
            if row is not None and row["id"] is None:
                stored = await (await conn.execute(_STORED_REQUEST_SQL, params)).fetchone()
            elif row is not None and upload is not None:
                await conn.execute(
                    _FILE_SQL, file_params(self._sealer, self._tenant, int(row["id"]), upload)
                )
        # A replay is answered as before only when it is the same request (decided after the
        # commit, as when each statement committed on its own).
        if stored is not None and not self._same_request(
            stored,
            str(params["recipient"]),
            _document(text, target, template, flow, rich, code_template),
        ):
            raise IdempotencyConflict("this Idempotency-Key was used for a different request")
        assert row is not None
        return row["id"], int(row["conversation_id"])

    async def last_inbound(self, provider: Provider, target: str) -> datetime | None:
        """The contact's last message on this provider (the 24-hour window), or None."""
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (
                await conn.execute(
                    _LAST_INBOUND_SQL,
                    {
                        "tenant": self._tenant,
                        "provider": provider.value,
                        "contact_key": self._indexer.digest(target, purpose=blind.CONTACT),
                    },
                )
            ).fetchone()
        return row["last_inbound_at"] if row is not None else None

    def _same_request(self, stored: Any, recipient: str, request: Mapping[str, Any]) -> bool:
        if stored["recipient"] != recipient:
            return False
        try:
            plain = self._sealer.open(
                bytes(stored["content"]),
                SealContext(
                    tenant=self._tenant,
                    table="outbound_messages.content",
                    key=str(stored["idempotency_key"]),
                ),
            )
        except UnreadableEnvelope:
            return False
        document = orjson.loads(plain)
        # Through JSON, as stored: tuples become lists on both sides.
        wanted = orjson.loads(orjson.dumps(request))
        return bool(document == wanted)

    async def defer_delivery(self, conversation_id: int, *, run_at: datetime) -> None:
        # The conversation's own job delivers: same lock, so replies never overtake a run.
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(
                DEFER_SQL, {"conversation_id": conversation_id, "run_at": run_at, "attempt": 0}
            )
