"""Writing webhook deliveries (IN5): committed before they are acknowledged, deduplicated by
the database itself.

Each message is one statement: upsert its conversation, insert the message unless its provider
id is already there, and queue the conversation's job — all or nothing. Uniqueness is enforced
by constraints, so concurrent duplicates are stored once however the requests interleave.
Deliveries that arrive while another commits share the next transaction (group commit, issue
18): their text messages then go as one set-based statement (`storage.intake_grouped`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import structlog

from wagate.domain.messages import (
    DeliveryStatus,
    InboundMessage,
    Media,
    OtherEvent,
    StatusUpdate,
    WebhookBatch,
)
from wagate.domain.outbound import Cause, OutboundStatus, sources
from wagate.pipeline.ports import IntakeResult, sum_results
from wagate.providers.payload import clean_tree
from wagate.security.sealing import SealContext, Sealer
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.database import Database, Statement, TenantBoundConnections
from wagate.storage.group_commit import GroupCommit
from wagate.storage.intake_grouped import TextGroup
from wagate.storage.intake_guard import (
    row_refused,
    set_aside,
    storable,
)
from wagate.storage.queue import insert_job_sql, insert_media_job_sql
from wagate.storage.statuses import EMAIL_DUE, EMAIL_SKIPPED, guard

log = structlog.get_logger(__name__)

_Params = list[dict[str, Any]]
# Deliveries of more parts than this have their rows prepared off the event loop.
_INLINE_PARTS = 50
# Group commit: transactions in flight at once (each holds one of the
# `TenantBoundConnections`), and deliveries per transaction at most. One group for every
# tenant of a database: with one group per tenant, 200 tenants' deliveries committed in 200
# transactions what one tenant's commit in one (`benchmarks/tenants.py`: PostgreSQL's CPU per
# ack 2.5x at 10 tenants).
_GROUP_LANES = 2
_GROUP_MOST = 64


@dataclass(frozen=True, slots=True)
class _Delivery:
    """One webhook delivery with its rows' parameters, sealed and ready to write."""

    tenant: str
    batch: WebhookBatch
    messages: _Params
    statuses: _Params
    others: _Params


@dataclass(frozen=True, slots=True)
class _Refused:
    """PostgreSQL refused a row of the transaction that carried a delivery; `alone`: the
    delivery was the only one in it (so the next try goes part by part at once)."""

    alone: bool


_CONVERSATION_AND_MESSAGE = """
WITH conversation AS (
  INSERT INTO conversations AS c
         (tenant, provider, channel_id, contact_key, contact_phone, contact_user_id, profile,
          last_inbound_at)
  VALUES (%(tenant)s, %(provider)s, %(channel_id)s, %(contact_key)s, %(phone)s, %(user_id)s,
          %(profile)s, %(sent_at)s)
  ON CONFLICT ON CONSTRAINT conversations_contact_key DO UPDATE
     -- The provider's timestamp, not ours: a redelivered old message must not reopen the
     -- 24-hour window.
     SET last_inbound_at = GREATEST(c.last_inbound_at, EXCLUDED.last_inbound_at),
         contact_phone = COALESCE(EXCLUDED.contact_phone, c.contact_phone),
         contact_user_id = COALESCE(EXCLUDED.contact_user_id, c.contact_user_id),
         profile = COALESCE(EXCLUDED.profile, c.profile)
  RETURNING id
), stored AS (
  INSERT INTO inbound_messages
         (tenant, conversation_id, provider, provider_message_id, kind, sent_at, content, raw)
  SELECT %(tenant)s, id, %(provider)s, %(message_id)s, %(kind)s, %(sent_at)s, %(content)s, %(raw)s
    FROM conversation
  ON CONFLICT ON CONSTRAINT inbound_messages_provider_id DO NOTHING
  RETURNING id, conversation_id
)"""

# A message without a file: no `media` or fetch-job insert in its plan. Every table a
# statement writes is opened, locked and has all its indexes opened at each execution, even
# when its CTE produces no row; leaving them out of the common case is measurably cheaper for
# PostgreSQL (benchmarks/README.md, `ingest_vs_reference.py`, branch p18pg).
_STORE_MESSAGE_SQL = (
    _CONVERSATION_AND_MESSAGE
    + """, queued AS ("""
    + insert_job_sql("stored", "conversation_id")
    + """)
SELECT (SELECT count(*) FROM stored) AS stored, (SELECT count(*) FROM queued) AS queued,
       0 AS files
"""
)

_STORE_MEDIA_MESSAGE_SQL = (
    _CONVERSATION_AND_MESSAGE
    + """, media_row AS (
  -- A file (issue 16): its row and its fetch job, due at once (the link expires in minutes).
  INSERT INTO media (tenant, conversation_id, inbound_message_id, media_type)
  SELECT %(tenant)s, conversation_id, id, %(media_type)s::text
    FROM stored
  RETURNING id
), media_job AS ("""
    + insert_media_job_sql("media_row", "id")
    + """), queued AS ("""
    + insert_job_sql("stored", "conversation_id")
    + """)
SELECT (SELECT count(*) FROM stored) AS stored, (SELECT count(*) FROM queued) AS queued,
       (SELECT count(*) FROM media_row) AS files
"""
)

_STORE_STATUS_SQL = (
    f"""
WITH recorded AS (
  INSERT INTO delivery_statuses (tenant, provider, provider_message_id, status, occurred_at, errors,
                                 tracker)
  VALUES (%(tenant)s, %(provider)s, %(message_id)s, %(status)s, %(occurred_at)s, %(errors)s::jsonb,
          %(tracker)s)
  ON CONFLICT ON CONSTRAINT delivery_statuses_once DO NOTHING
  RETURNING id
), applied AS (
  UPDATE outbound_messages
     SET status = %(status)s, status_at = %(occurred_at)s,
         provider_message_id = COALESCE(provider_message_id, %(message_id)s),
         -- A failure reported later is e-mailed like one seen at send time (OU4).
         email_status = CASE WHEN NOT %(failed)s THEN email_status
                             WHEN %(email_fallback)s THEN {EMAIL_DUE} ELSE {EMAIL_SKIPPED} END,
         error_code = COALESCE(%(error_code)s, error_code),
         error_detail = COALESCE(%(error_detail)s, error_detail)
   WHERE provider = %(provider)s AND EXISTS (SELECT 1 FROM recorded)
     AND ((provider_message_id = %(message_id)s AND status = ANY(%(may_replace)s))
          -- OU9: the status names our key (Meta's biz_opaque_callback_data) for a send whose
          -- answer we never saw (timeout, crash): the provider has it, so it is never resent.
          OR (%(tracker)s::text IS NOT NULL AND idempotency_key = %(tracker)s
              AND provider_message_id IS NULL AND status IN {guard(Cause.STATUS_BY_KEY)}))
  RETURNING id, conversation_id
), reroute AS (
  -- A failure reported later (131047 outside the window, undeliverable…): the conversation's
  -- job reroutes it as a template or sends the e-mail fallback.
  SELECT conversation_id FROM applied WHERE %(failed)s AND conversation_id IS NOT NULL
), queued AS ("""
    + insert_job_sql("reroute", "conversation_id", advance=True)
    + """)
SELECT (SELECT count(*) FROM recorded) AS recorded, (SELECT count(*) FROM applied) AS applied
"""
)

_STORE_OTHER_SQL = """
INSERT INTO provider_events (tenant, provider, channel_id, field_name, dedup_key, payload)
VALUES (%(tenant)s, %(provider)s, %(channel_id)s, %(field_name)s, %(dedup_key)s, %(payload)s)
ON CONFLICT ON CONSTRAINT provider_events_once DO NOTHING
"""


def conversation_seal_key(provider: str, channel_id: str, contact_digest: str) -> str:
    """What a conversation's sealed profile is bound to: its natural key, in digest form."""
    return f"{provider}:{channel_id}:{contact_digest}"


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # Lone surrogates or integers beyond 64 bits: store a cleaned copy rather than nothing.
        return orjson.dumps(clean_tree(value), option=orjson.OPT_NON_STR_KEYS)


class IntakeStore:
    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        indexer: Indexer,
        tenant: str,
        *,
        email_fallback: bool = False,
    ) -> None:
        """The batch is this tenant's: routing (`pipeline.inbound_routing`) has already turned
        messages to numbers nobody owns into flagged events. `email_fallback`: whether
        failures reported later are e-mailed (OU4); without a mail server they are marked
        skipped, as the worker marks its own, never left pending."""
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant
        self._email_fallback = email_fallback

    async def store(self, batch: WebhookBatch, *, run_at: datetime) -> IntakeResult:
        """Commit everything in `batch`; jobs for new messages may start at `run_at`.

        Deliveries that arrive while another commits share the next transaction (group
        commit, `storage.group_commit`); this returns once the one carrying `batch` has
        committed. When PostgreSQL refuses a row for its content (a value it cannot hold),
        the delivery is stored alone, then part by part, and each refused part is set aside as
        a provider event carrying its sealed raw payload: one bad part never costs the good
        ones, nor one bad delivery the others of its group. Only an error of the database
        itself (connection, capacity) propagates, for a 503, to every delivery of the group.
        """
        parts = len(batch.messages) + len(batch.statuses) + len(batch.others)
        if parts > _INLINE_PARTS:
            # Sealing thousands of parts takes long enough to delay every other request; a
            # delivery this large is a transaction of its own.
            params = await asyncio.to_thread(self._all_params, batch, run_at)
            return await self._store_delivery(_Delivery(self._tenant, batch, *params))
        delivery = _Delivery(self._tenant, batch, *self._all_params(batch, run_at))
        # Looked up per delivery (a dictionary hit): the group belongs to the connections,
        # shared by every tenant's store on them.
        result = await _shared_group(self._database.tenant_bound).submit(delivery)
        if isinstance(result, _Refused):  # a row of its transaction was refused
            return await self._store_delivery(delivery, tried_alone=result.alone)
        return result

    async def _store_delivery(
        self, delivery: _Delivery, *, tried_alone: bool = False
    ) -> IntakeResult:
        """One delivery in a transaction of its own; part by part if a row is refused (at
        once when its own transaction was refused already)."""
        batch = delivery.batch
        message_params, status_params, other_params = (
            delivery.messages,
            delivery.statuses,
            delivery.others,
        )
        if not tried_alone:
            try:
                return await self._store(message_params, status_params, other_params)
            except psycopg.Error as exc:
                if not row_refused(exc):
                    raise
                log.warning("intake.row_refused", sqlstate=exc.sqlstate, parts="one_by_one")
        results = [
            await self._store_alone(m, p, "message")
            for m, p in zip(batch.messages, message_params, strict=True)
        ]
        results += [
            await self._store_alone(s, p, "status")
            for s, p in zip(batch.statuses, status_params, strict=True)
        ]
        results += [
            await self._store_alone(o, p, "other")
            for o, p in zip(batch.others, other_params, strict=True)
        ]
        return sum_results(results)

    def _all_params(
        self, batch: WebhookBatch, run_at: datetime
    ) -> tuple[_Params, _Params, _Params]:
        return (
            [self._message_params(m, run_at) for m in batch.messages],
            [self._status_params(s) for s in batch.statuses],
            [self._other_params(o) for o in batch.others],
        )

    async def _store_alone(
        self,
        part: InboundMessage | StatusUpdate | OtherEvent,
        params: dict[str, Any],
        kind: str,
    ) -> IntakeResult:
        lists: dict[str, list[dict[str, Any]]] = {"message": [], "status": [], "other": []}
        lists[kind].append(params)
        try:
            return await self._store(lists["message"], lists["status"], lists["other"])
        except psycopg.Error as exc:
            if not row_refused(exc):
                raise
            log.warning("intake.part_set_aside", part=kind, sqlstate=exc.sqlstate)
        key = params.get("message_id") or params.get("dedup_key")
        aside = set_aside(part, kind, key)
        return await self._store([], [], [self._other_params(aside)])

    async def _store(
        self,
        message_params: list[dict[str, Any]],
        status_params: list[dict[str, Any]],
        other_params: list[dict[str, Any]],
    ) -> IntakeResult:
        return await _store_parts(
            self._database.tenant_bound, self._tenant, message_params, status_params, other_params
        )

    def _seal(self, table: str, key: str, value: Any) -> bytes:
        context = SealContext(tenant=self._tenant, table=table, key=key)
        return self._sealer.seal(_json(value), context)

    def _message_params(self, message: InboundMessage, run_at: datetime) -> dict[str, Any]:
        sender = message.sender
        row_key = f"{message.provider}:{message.message_id}"
        # Identifiers are stored as blind-index digests; their values only sealed, in `profile`.
        contact_digest = self._indexer.digest(sender.contact_key, purpose=blind.CONTACT)
        profile = self._seal(
            "conversations",
            conversation_seal_key(message.provider.value, message.channel_id, contact_digest),
            {
                "key": sender.contact_key,
                "phone": sender.phone,
                "user_id": sender.user_id,
                "name": sender.name,
                "username": sender.username,
            },
        )
        document = {
            "sender": sender,
            "content": message.content,
            "context": message.context,
            "sent_at": message.sent_at,
        }
        return storable(
            {
                "tenant": self._tenant,
                "provider": message.provider.value,
                "channel_id": message.channel_id,
                "contact_key": contact_digest,
                "phone": blind.digest_or_none(self._indexer, sender.phone, blind.PHONE),
                "user_id": blind.digest_or_none(self._indexer, sender.user_id, blind.USER_ID),
                "profile": profile,
                "message_id": message.message_id,
                "kind": message.content.kind,
                "sent_at": message.sent_at,
                "content": self._seal("inbound_messages.content", row_key, document),
                "raw": self._seal("inbound_messages.raw", row_key, message.raw),
                "run_at": run_at,
                "attempt": 0,
                "media_type": (
                    message.content.media_type if isinstance(message.content, Media) else None
                ),
                "media_run_at": datetime.now(UTC),
                "media_attempt": 0,
            }
        )

    def _status_params(self, status: StatusUpdate) -> dict[str, Any]:
        first_error = status.errors[0] if status.errors else None
        return storable(
            {
                "tenant": self._tenant,
                "provider": status.provider.value,
                "message_id": status.message_id,
                "status": status.status.value,
                "occurred_at": status.occurred_at,
                "errors": _json(status.errors).decode(),
                "error_code": first_error.code if first_error else None,
                "error_detail": (first_error.details or first_error.title) if first_error else None,
                "may_replace": [
                    s.value for s in sources(Cause.STATUS, OutboundStatus(status.status))
                ],
                "failed": status.status is DeliveryStatus.FAILED,
                "email_fallback": self._email_fallback,
                "tracker": status.tracker,
                "run_at": datetime.now(UTC),
                "attempt": 0,
            }
        )

    def _other_params(self, other: OtherEvent) -> dict[str, Any]:
        return storable(
            {
                "tenant": self._tenant,
                "provider": other.provider.value,
                "channel_id": other.channel_id,
                "field_name": other.field_name,
                "dedup_key": other.dedup_key,
                "payload": self._seal("provider_events", other.dedup_key, other.raw),
            }
        )


_groups: weakref.WeakKeyDictionary[
    TenantBoundConnections, GroupCommit[_Delivery, IntakeResult | _Refused]
] = weakref.WeakKeyDictionary()


def _shared_group(
    connections: TenantBoundConnections,
) -> GroupCommit[_Delivery, IntakeResult | _Refused]:
    """The one group commit of every tenant's intake on these connections."""
    group = _groups.get(connections)
    if group is None:
        # The flush holds the connections weakly: the group is the dictionary's value, and a
        # strong reference from it would keep its own key (and every closed database) alive.
        held = weakref.ref(connections)

        async def flush(deliveries: Sequence[_Delivery]) -> list[IntakeResult | _Refused]:
            alive = held()
            if alive is None:
                raise psycopg.OperationalError("the tenant-bound connections are gone")
            return await _flush(alive, deliveries)

        group = _groups[connections] = GroupCommit(flush, lanes=_GROUP_LANES, most=_GROUP_MOST)
    return group


async def _store_parts(
    connections: TenantBoundConnections,
    tenant: str,
    message_params: list[dict[str, Any]],
    status_params: list[dict[str, Any]],
    other_params: list[dict[str, Any]],
) -> IntakeResult:
    # One transaction scoped to the tenant (row-level security) in one round trip, however
    # many parts: usually a single autocommit statement on a connection that already holds
    # the tenant (`TenantBoundConnections`). Results are read once it has committed.
    statements = _part_statements(message_params, status_params, other_params)
    rows = await connections.run(tenant, statements)
    return _parts_tally(rows, message_params, status_params, other_params)


def _part_statements(
    message_params: list[dict[str, Any]],
    status_params: list[dict[str, Any]],
    other_params: list[dict[str, Any]],
) -> list[Statement]:
    statements: list[Statement] = [
        (_STORE_MESSAGE_SQL if m["media_type"] is None else _STORE_MEDIA_MESSAGE_SQL, m)
        for m in message_params
    ]
    statements += [(_STORE_STATUS_SQL, s) for s in status_params]
    statements += [(_STORE_OTHER_SQL, o) for o in other_params]
    return statements


def _parts_tally(
    rows: list[dict[str, Any] | None],
    message_params: list[dict[str, Any]],
    status_params: list[dict[str, Any]],
    other_params: list[dict[str, Any]],
) -> IntakeResult:
    return _tally(
        rows,
        len(message_params),
        len(status_params),
        others=len(other_params),
        kinds=[m["media_type"] for m in message_params],
    )


async def _flush(
    connections: TenantBoundConnections, deliveries: Sequence[_Delivery]
) -> list[IntakeResult | _Refused]:
    """The group's transaction: each delivery's result, or `_Refused` for every delivery
    when PostgreSQL refused a row (each is then stored again by its own request, so the
    group's lane is free for the next group meanwhile)."""
    alone = len(deliveries) == 1
    try:
        if alone:
            # The one-message statements are cheaper than the array form for one row.
            d = deliveries[0]
            return [await _store_parts(connections, d.tenant, d.messages, d.statuses, d.others)]
        return await _store_group(connections, deliveries)
    except psycopg.Error as exc:
        if not row_refused(exc):
            raise
        log.warning(
            "intake.row_refused",
            sqlstate=exc.sqlstate,
            parts="one_by_one" if alone else "delivery_by_delivery",
            deliveries=len(deliveries),
        )
        return [_Refused(alone=alone)] * len(deliveries)


async def _store_group(
    connections: TenantBoundConnections, deliveries: Sequence[_Delivery]
) -> list[IntakeResult | _Refused]:
    """Several deliveries, of one tenant or many, in one transaction and one round trip: per
    tenant, its text messages in one set-based statement (`storage.intake_grouped`) — or the
    one-message statements when it has a single delivery — then each delivery's files,
    statuses and events in their own statements, as when stored alone."""
    by_tenant: dict[str, list[int]] = {}
    for i, d in enumerate(deliveries):
        by_tenant.setdefault(d.tenant, []).append(i)
    # Tenants in a fixed order, as rows inside a block (`storage.intake_grouped`): two groups
    # in flight at once that share tenants then take their row locks in the same order and
    # cannot deadlock each other (in arrival order, [a, b] against [b, a] did, 42 times in
    # 200 rounds of a review's test).
    by_tenant = dict(sorted(by_tenant.items()))
    blocks = [
        _tenant_block(tenant, [deliveries[i] for i in indexes])
        for tenant, indexes in by_tenant.items()
    ]
    rows = await connections.run_blocks([(b.tenant, b.statements) for b in blocks])
    results: list[IntakeResult | _Refused] = [_Refused(alone=False)] * len(deliveries)
    for (_, indexes), block, block_rows in zip(by_tenant.items(), blocks, rows, strict=True):
        for i, result in zip(indexes, block.results(block_rows), strict=True):
            results[i] = result
    return results


@dataclass(frozen=True, slots=True)
class _TenantBlock:
    """One tenant's deliveries of a group: their statements, and how to read their rows."""

    tenant: str
    deliveries: Sequence[_Delivery]
    statements: list[Statement]
    texts: TextGroup | None

    def results(self, rows: list[dict[str, Any] | None]) -> list[IntakeResult]:
        if self.texts is None and len(self.deliveries) == 1:
            d = self.deliveries[0]
            return [_parts_tally(rows, d.messages, d.statuses, d.others)]
        text_tallies = self.texts.tally(rows[0]) if self.texts is not None else None
        at = 1 if self.texts is not None else 0
        results: list[IntakeResult] = []
        for i, d in enumerate(self.deliveries):
            kinds = [m["media_type"] for m in d.messages if m["media_type"] is not None]
            files = len(kinds)
            own = rows[at : at + files + len(d.statuses)]
            at += files + len(d.statuses) + len(d.others)
            result = _tally(own, files, len(d.statuses), others=len(d.others), kinds=kinds)
            if text_tallies is not None:
                text = text_tallies[i]
                result = replace(
                    result,
                    stored=result.stored + text.stored,
                    duplicates=result.duplicates + text.duplicates,
                    queued=result.queued + text.queued,
                )
            results.append(result)
        return results


def _tenant_block(tenant: str, deliveries: Sequence[_Delivery]) -> _TenantBlock:
    if len(deliveries) == 1:
        d = deliveries[0]
        return _TenantBlock(
            tenant, deliveries, _part_statements(d.messages, d.statuses, d.others), None
        )
    texts = [[m for m in d.messages if m["media_type"] is None] for d in deliveries]
    group = TextGroup(tenant, texts) if any(texts) else None
    statements: list[Statement] = [group.statement()] if group is not None else []
    for d in deliveries:
        statements += [
            (_STORE_MEDIA_MESSAGE_SQL, m) for m in d.messages if m["media_type"] is not None
        ]
        statements += [(_STORE_STATUS_SQL, s) for s in d.statuses]
        statements += [(_STORE_OTHER_SQL, o) for o in d.others]
    return _TenantBlock(tenant, deliveries, statements, group)


def _tally(
    rows: list[dict[str, Any] | None],
    messages: int,
    statuses: int,
    *,
    others: int,
    kinds: list[str | None],
) -> IntakeResult:
    stored = queued = recorded = 0
    files: list[str] = []
    for row, kind in zip(rows[:messages], kinds, strict=True):
        assert row is not None
        stored += row["stored"]
        queued += row["queued"]
        if row["files"] and kind is not None:
            files.append(kind)
    for row in rows[messages : messages + statuses]:
        assert row is not None
        recorded += row["recorded"]
    return IntakeResult(
        stored=stored,
        duplicates=messages - stored,
        statuses=recorded,
        status_duplicates=statuses - recorded,
        others=others,
        queued=queued,
        files=tuple(files),
    )
