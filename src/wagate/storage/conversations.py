"""The worker's view of conversations: bursts to process, runs to record, jobs to recover."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from wagate.domain.messages import Provider
from wagate.domain.policy import RATE_WINDOW
from wagate.pipeline.ports import Burst, PendingMessage, ReplyRecord, RunOpening, RunRecord
from wagate.security.sealing import SealContext, Sealer
from wagate.storage import blind
from wagate.storage.audit import APPEND_AFTER_CTES, RIDE_WRITTEN_SQL, PostgresAuditLog
from wagate.storage.blind import Indexer
from wagate.storage.database import Database
from wagate.storage.inbound_failures import CLEAR_SQL as CLEAR_FAILURES_SQL
from wagate.storage.intake import conversation_seal_key
from wagate.storage.media import EXTRACTED_TABLE
from wagate.storage.outbound import (
    DUE_AFTER_INSERT_CTES,
    DUE_CTES,
    DUE_ROW_COLUMNS,
    PostgresOutbox,
)
from wagate.storage.queue import DEFER_SQL, MEDIA_TASK, TASK, insert_job_sql
from wagate.storage.run_opening import (
    history_columns,
    history_join,
    history_rows,
    single_row_columns,
    single_row_joins,
    single_rows,
)
from wagate.storage.statuses import EMAIL_DUE, FAILED, IN_FLIGHT, PENDING

# `failing`: whether failed runs are counted for it (inbound_failures), so that a run that
# goes through deletes the count only when there is one.
# The burst: the conversation's unprocessed messages, oldest first, with their files.
_LOAD_PENDING_SQL = """
SELECT i.id, i.provider, i.provider_message_id, i.kind, i.sent_at, i.received_at, i.content,
       m.id AS media_id, m.media_type, m.status AS media_status, m.problem AS media_problem,
       m.extracted
  FROM inbound_messages i
  LEFT JOIN media m ON m.inbound_message_id = i.id
 WHERE i.conversation_id = %(id)s AND i.processed_at IS NULL
 ORDER BY i.sent_at, i.id
"""
# The same as one row of arrays (a column per message column, in that order) joined to the
# conversation's row: the burst's reads are one statement (issue 18: a pipeline of several
# cost the worker an event-loop wait and a send per statement). NULLs when nothing is pending.
_PENDING_COLUMNS = (
    "id",
    "provider",
    "provider_message_id",
    "kind",
    "sent_at",
    "received_at",
    "content",
    "media_id",
    "media_type",
    "media_status",
    "media_problem",
    "extracted",
)
_PENDING_AGGREGATES = ", ".join(
    f"array_agg(p.{c} ORDER BY p.sent_at, p.id) AS {c}" for c in _PENDING_COLUMNS
)
_PENDING_JOIN = f"""
  LEFT JOIN LATERAL (
    SELECT {_PENDING_AGGREGATES}
      FROM ({_LOAD_PENDING_SQL.strip().removesuffix("ORDER BY i.sent_at, i.id").strip()}) p
  ) pending ON true"""
_PENDING_COLUMNS_SQL = ", ".join(f'pending.{c} AS "pending:{c}"' for c in _PENDING_COLUMNS)


def _pending_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The burst's messages (as `_LOAD_PENDING_SQL` returns them), out of the conversation's row."""
    columns = [row[f"pending:{c}"] or () for c in _PENDING_COLUMNS]
    return [
        dict(zip(_PENDING_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)
    ]


# `earlier` / `earlier_before`: the triage's rate window, the arrivals in `RATE_WINDOW` before
# the burst's first message (`_LOAD_PENDING_SQL`'s order) and that message's arrival, joined
# to the row (issue 18: a statement of the batch of its own before, each costing the worker a
# dispatch); NULL both when nothing is pending.
_EARLIER_JOIN = """
  LEFT JOIN LATERAL (
    SELECT first.received_at AS before,
           ARRAY(SELECT i.received_at FROM inbound_messages i
                  WHERE i.conversation_id = %(id)s
                    AND i.received_at >= first.received_at - %(window)s
                    AND i.received_at < first.received_at) AS arrivals
      FROM inbound_messages first
     WHERE first.conversation_id = %(id)s AND first.processed_at IS NULL
     ORDER BY first.sent_at, first.id LIMIT 1
  ) earlier ON true"""
_LOAD_CONVERSATION_SQL = f"""
SELECT v.id, v.provider, v.channel_id, v.contact_key, v.profile,
       EXISTS (SELECT 1 FROM inbound_failures f WHERE f.conversation_id = %(id)s) AS failing,
       earlier.arrivals AS earlier, earlier.before AS earlier_before,
       {_PENDING_COLUMNS_SQL}
  FROM conversations v
{_EARLIER_JOIN}
{_PENDING_JOIN}
 WHERE v.id = %(id)s
"""
# The same, with the run's single-row opening reads as columns of the row (run_opening.py).
_LOAD_CONVERSATION_OPENING_SQL = f"""
SELECT v.id, v.provider, v.channel_id, v.contact_key, v.profile,
       EXISTS (SELECT 1 FROM inbound_failures f WHERE f.conversation_id = %(id)s) AS failing,
       earlier.arrivals AS earlier, earlier.before AS earlier_before,
       {_PENDING_COLUMNS_SQL},
       {single_row_columns()},
       {history_columns()}
  FROM conversations v
{_EARLIER_JOIN}
{_PENDING_JOIN}
{single_row_joins()}
{history_join()}
 WHERE v.id = %(id)s
"""


_EARLIER_SQL = """
SELECT received_at FROM inbound_messages
 WHERE conversation_id = %(id)s AND received_at >= %(since)s AND received_at < %(before)s
"""


# The finishing transaction as one statement (issue 18: it was a pipeline of up to seven —
# the tenant, the session, the turns, each outbound row, the run's record, the audit ride —
# and each statement in a pipeline costs the worker an event-loop wait and psycopg's
# per-statement work). Each part is a data-modifying CTE: PostgreSQL runs every one to
# completion whether or not the final SELECT reads it, all in the statement's transaction,
# and the foreign keys (turns → session) are checked at the statement's end, when the
# session's row is in. The parts a run needs are put together by `_finish_sql`, one text per
# shape (kept: a handful), so each shape keeps its prepared plan.
_SESSION_OPENED_CTE = """
session_row AS (
  INSERT INTO sessions AS s (id, tenant, conversation_id, started_at, last_activity_at,
                             disclosed_at)
  VALUES (%(session_id)s, %(tenant)s, %(conversation_id)s, %(opened_at)s, %(at)s,
          CASE WHEN %(disclosed)s THEN %(at)s::timestamptz END)
  ON CONFLICT (id) DO UPDATE
     SET last_activity_at = EXCLUDED.last_activity_at,
         disclosed_at = CASE WHEN %(disclosed)s THEN EXCLUDED.last_activity_at
                             ELSE s.disclosed_at END
  RETURNING 1
)"""
_SESSION_TOUCHED_CTE = """
session_row AS (
  UPDATE sessions SET last_activity_at = %(at)s,
                      disclosed_at = CASE WHEN %(disclosed)s THEN %(at)s ELSE disclosed_at END
   WHERE id = %(session_id)s
  RETURNING 1
)"""
_TURNS_CTE = """
turn_rows AS (
  INSERT INTO turns (tenant, session_id, role, content, run_key)
  SELECT %(tenant)s, %(session_id)s, t.role, t.content, %(run_key)s
    FROM unnest(%(roles)s::text[], %(contents)s::bytea[]) WITH ORDINALITY AS t(role, content, n)
   ORDER BY t.n
  ON CONFLICT ON CONSTRAINT turns_once_per_run DO NOTHING
  RETURNING 1
)"""
# The drafts in the order given (their ids order the delivery); a retried run's keys are
# there already and insert nothing (OU9).
_OUTBOUND_CTE = f"""
outbound_rows AS (
  INSERT INTO outbound_messages (tenant, conversation_id, provider, channel_id, recipient,
                                 idempotency_key, kind, content, status, part_index, reply_to,
                                 inbound_received_at)
  SELECT c.tenant, c.id, c.provider, c.channel_id, %(recipient)s, d.key, d.kind, d.content,
         {PENDING}, d.part_index, d.reply_to, d.inbound_received_at
    FROM conversations c,
         unnest(%(o_keys)s::text[], %(o_kinds)s::text[], %(o_contents)s::bytea[],
                %(o_parts)s::int[], %(o_reply_tos)s::text[], %(o_received)s::timestamptz[])
           WITH ORDINALITY AS d(key, kind, content, part_index, reply_to, inbound_received_at, n)
   WHERE c.id = %(conversation_id)s
   ORDER BY d.n
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING {DUE_ROW_COLUMNS}
)"""
# The run's record: the burst's messages are found through the conversation's unprocessed
# messages (their own conversation, always): that makes one plan right for every call, so
# PostgreSQL keeps it after five executions. With `id = ANY(…)` alone it planned anew at every
# call (a kept plan has to guess the list's length, and guessed ten), about 0.15 ms of
# PostgreSQL per answered message.
_RUN_CTES = """
run AS (
  INSERT INTO conversation_runs (tenant, conversation_id, started_at, finished_at, message_count,
                                 last_message_id, marked_read, outcome, error, run_key, insight)
  SELECT tenant, id, %(started_at)s, %(finished_at)s, %(message_count)s, %(last_message_id)s,
         %(marked_read)s, %(outcome)s, %(error)s, %(run_key)s, %(insight)s
    FROM conversations WHERE id = %(conversation_id)s
  RETURNING id
), processed AS (
  UPDATE inbound_messages
     SET processed_at = %(finished_at)s, run_id = (SELECT id FROM run)
   WHERE conversation_id = %(conversation_id)s AND processed_at IS NULL
     AND id = ANY(%(message_ids)s)
  RETURNING 1
)"""
_FINISH_SQL: dict[tuple[str | None, bool, bool, bool, bool], str] = {}


def _finish_sql(session: str | None, turns: bool, outbound: bool, audit: bool, due: bool) -> str:
    """The finishing statement for a run's shape: `session` "opened", "touched" or None.
    Its rows: `written` (the audit ride's count, NULL without one) beside the delivery's due
    rows (`due`: storage/outbound.py's `due`, which sees the rows inserted here), one row at
    least (the due columns NULL when nothing is due)."""
    key = (session, turns, outbound, audit, due)
    sql = _FINISH_SQL.get(key)
    if sql is None:
        ctes = [
            *([_SESSION_OPENED_CTE] if session == "opened" else []),
            *([_SESSION_TOUCHED_CTE] if session == "touched" else []),
            *([_TURNS_CTE] if turns else []),
            *([_OUTBOUND_CTE] if outbound else []),
            _RUN_CTES,
            *([APPEND_AFTER_CTES] if audit else []),
            *([DUE_AFTER_INSERT_CTES if outbound else DUE_CTES] if due else []),
        ]
        written = RIDE_WRITTEN_SQL if audit else "NULL::bigint"
        select = (
            f"SELECT {written} AS written, due.* FROM (SELECT 1) AS one"
            " LEFT JOIN due ON true ORDER BY due.id"
            if due
            else f"SELECT {written} AS written"
        )
        sql = _FINISH_SQL[key] = f"WITH {', '.join(ctes)}\n{select}"
    return sql


def insight_seal_key(conversation_id: int, run_key: str | None) -> str:
    """The key a run's insight is sealed under (the reseal and the read model use it too)."""
    return f"{conversation_id}:{run_key}"


# Conversations with messages that were committed but never processed, or replies due but never
# sent, and no job that will handle them: what a crash or a lost job leaves behind (IN5).
_ORPHANS_SQL = f"""
WITH candidates AS (
  SELECT conversation_id FROM inbound_messages
   WHERE processed_at IS NULL AND received_at < %(older_than)s
  UNION
  SELECT conversation_id FROM outbound_messages
   WHERE status IN {IN_FLIGHT} AND conversation_id IS NOT NULL
     AND COALESCE(next_attempt_at, created_at) < %(older_than)s
  UNION
  SELECT conversation_id FROM outbound_messages
   WHERE %(email_fallback)s AND status = {FAILED} AND email_status = {EMAIL_DUE}
     AND conversation_id IS NOT NULL
     AND COALESCE(email_next_at, status_at) < %(older_than)s
), orphans AS (
  SELECT c.conversation_id FROM candidates c
   WHERE NOT EXISTS (
     SELECT 1 FROM procrastinate_jobs j
      WHERE j.lock = 'conversation:' || c.conversation_id AND j.status IN ('todo', 'doing'))
)
""" + insert_job_sql("orphans", "conversation_id")

# Jobs whose coroutine ended in this worker process, yet still `doing`: procrastinate's write
# of the outcome was lost (the database went down just then). The worker lives on and beats
# its heart, so `_STALLED_SQL` never releases them.
_UNRECORDED_SQL = """
UPDATE procrastinate_jobs SET status = 'failed'
 WHERE id = ANY(%(ids)s) AND status = 'doing' AND task_name = ANY(%(tasks)s)
RETURNING id
"""

# The jobs a dead worker's stall releases: conversations, and file fetches (issue 16), which
# the sweep then queues again for what is still pending.
_RECOVERED_TASKS = [TASK, MEDIA_TASK]

_STALLED_SQL = """
UPDATE procrastinate_jobs job SET status = 'failed'
  FROM (SELECT j.id FROM procrastinate_jobs j
          LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
         WHERE j.status = 'doing' AND j.task_name = ANY(%(tasks)s)
           AND (j.worker_id IS NULL OR w.last_heartbeat < %(heartbeat_before)s)) stalled
 WHERE job.id = stalled.id
RETURNING job.id
"""


def text_of(document: dict[str, Any]) -> str | None:
    """What the user wrote, from our stored message document: the text, the caption, or the
    title of the button or list row they tapped."""
    content = document.get("content") or {}
    kind = content.get("kind")
    if kind == "text":
        body = content.get("body")
        return body if isinstance(body, str) else None
    if kind == "interactive":
        if content.get("reply_type") == "nfm_reply":
            return None  # a completed Flow: its answers are a case intake, not a question
        return content.get("title") or content.get("description")
    if kind == "button":
        return content.get("text") or content.get("payload")
    if kind == "media":
        return content.get("caption")
    return None


def _flow_completion(document: dict[str, Any]) -> dict[str, Any]:
    """A completed WhatsApp Flow (an `nfm_reply` other than Meta's address message): its
    response_json as received (FL1)."""
    content = document.get("content") or {}
    if content.get("kind") != "interactive" or content.get("reply_type") != "nfm_reply":
        return {}
    if content.get("title") == "address_message":
        return {}
    response = content.get("flow_response_json")
    return {
        "flow_completion": True,
        "flow_response": response if isinstance(response, str) else None,
    }


def reply_id_of(document: dict[str, Any]) -> str | None:
    """The id of the reply button or list row tapped, or a template quick reply's payload."""
    content = document.get("content") or {}
    kind = content.get("kind")
    found = (
        content.get("reply_id")
        if kind == "interactive"
        else content.get("payload")
        if kind == "button"
        else None
    )
    return found if isinstance(found, str) and found else None


def _outbound_document(text: str, to: str, flow: Any, interactive: Any = None) -> dict[str, Any]:
    document: dict[str, Any] = {"text": text, "to": to}
    if flow is not None:
        document["flow"] = dict(flow)
    if interactive is not None:  # reply buttons where the provider can (OutboundDraft)
        document["interactive"] = dict(interactive)
    return document


def media_state(status: str | None, problem: str | None) -> str | None:
    """A file's state as the conversation reads it: `pending`, `stored`, or the problem that
    kept it (`too_large`, `unavailable` …); None for a message without a file row."""
    if status is None:
        return None
    return problem or status


class PostgresConversationStore:
    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        indexer: Indexer,
        tenant: str,
        *,
        audit: PostgresAuditLog | None = None,
        outbox: PostgresOutbox | None = None,
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant
        # The tenant's audit chain: a run's events ride in its finishing transaction.
        self._audit = audit
        # The tenant's outbox: the delivery's opening read rides in it too (ReplyRecord.due_read).
        self._outbox = outbox

    def _open(self, table: str, key: str, sealed: bytes) -> Any:
        context = SealContext(tenant=self._tenant, table=table, key=key)
        return orjson.loads(self._sealer.open(bytes(sealed), context))

    def _seal(self, table: str, key: str, value: Any) -> bytes:
        context = SealContext(tenant=self._tenant, table=table, key=key)
        return self._sealer.seal(orjson.dumps(value), context)

    async def load_burst(
        self,
        conversation_id: int,
        *,
        history: int | None = None,
        session_fresh_since: datetime | None = None,
    ) -> Burst | None:
        # The reads in one statement (a missing conversation: no row), with the run's opening
        # reads when asked for (storage/run_opening.py).
        params: dict[str, Any] = {"id": conversation_id, "window": RATE_WINDOW}
        if history is not None:
            params |= {
                "conversation_id": conversation_id,
                "limit": history,
                "session_fresh_since": session_fresh_since,
            }
        conversations = await self._database.tenant_rows(
            self._tenant,
            _LOAD_CONVERSATION_SQL if history is None else _LOAD_CONVERSATION_OPENING_SQL,
            params,
        )
        if not conversations:
            return None
        row = conversations[0]
        rows = _pending_rows(row)
        pending = []
        for r in rows:
            key = f"{r['provider']}:{r['provider_message_id']}"
            document = self._open("inbound_messages.content", key, r["content"])
            pending.append(
                PendingMessage(
                    id=int(r["id"]),
                    provider_message_id=str(r["provider_message_id"]),
                    kind=str(r["kind"]),
                    sent_at=r["sent_at"],
                    received_at=r["received_at"],
                    text=text_of(document),
                    reply_id=reply_id_of(document),
                    **_flow_completion(document),
                    media_type=r["media_type"],
                    media=media_state(r["media_status"], r["media_problem"]),
                    attachment=self._attachment(r["media_id"], r["extracted"]),
                )
            )
        contact = self.contact_of(row)
        return Burst(
            conversation_id=conversation_id,
            provider=Provider(str(row["provider"])),
            channel_id=str(row["channel_id"]),
            contact_key=str(contact.get("key") or row["contact_key"]),
            contact_phone=contact.get("phone"),
            contact_user_id=contact.get("user_id"),
            contact_name=contact.get("name"),
            messages=pending,
            earlier_arrivals=list(row["earlier"] or ()),
            earlier_before=row["earlier_before"],
            opening=RunOpening(rows={**single_rows(row), "history": history_rows(row)})
            if history is not None
            else None,
            failing=bool(row["failing"]),
        )

    async def clear_failures(self, conversation_id: int) -> None:
        await self._database.tenant_rows(
            self._tenant, CLEAR_FAILURES_SQL, {"conversation_id": conversation_id}
        )

    def _attachment(self, media_id: int | None, sealed: bytes | None) -> str | None:
        """A stored document's text (sealed with its media row), opened for the AI."""
        if media_id is None or sealed is None:
            return None
        context = SealContext(tenant=self._tenant, table=EXTRACTED_TABLE, key=str(media_id))
        return self._sealer.open(bytes(sealed), context).decode(errors="replace")

    def contact_of(self, row: Any) -> dict[str, Any]:
        """The contact's identifiers, from the conversation's sealed profile."""
        if row["profile"] is None:
            return {}
        key = conversation_seal_key(
            str(row["provider"]), str(row["channel_id"]), str(row["contact_key"])
        )
        opened: dict[str, Any] = self._open("conversations", key, row["profile"])
        return opened

    async def earlier_arrivals(self, conversation_id: int, *, before: datetime) -> list[datetime]:
        rows = await self._database.tenant_rows(
            self._tenant,
            _EARLIER_SQL,
            {"id": conversation_id, "before": before, "since": before - RATE_WINDOW},
        )
        return [r["received_at"] for r in rows]

    async def defer(self, conversation_id: int, *, run_at: datetime, attempt: int) -> None:
        params: dict[str, Any] = {
            "conversation_id": conversation_id,
            "run_at": run_at,
            "attempt": attempt,
        }
        await self._database.tenant_rows(self._tenant, DEFER_SQL, params)

    async def finish(self, record: ReplyRecord) -> bool:
        run = record.run
        params = self._run_params(run)
        params["run_key"] = record.run_key
        params["tenant"] = self._tenant
        if run.insight is not None:
            params["insight"] = self._seal(
                "conversation_runs.insight",
                insight_seal_key(run.conversation_id, record.run_key),
                run.insight.as_json(),
            )
        session: str | None = None
        turns = [
            (role, text)
            for role, text in (("user", record.user_turn), ("assistant", record.assistant_turn))
            if text is not None
        ]
        if record.session_id is not None:
            # A new session (its id drawn with the burst) is stored here, with its turns.
            session = "opened" if record.session_opened_at is not None else "touched"
            params |= {
                "at": run.finished_at,
                "session_id": record.session_id,
                "disclosed": record.disclosed,
                "opened_at": record.session_opened_at,
            }
            if turns:
                params["roles"] = [role for role, _ in turns]
                params["contents"] = [
                    self._sealer.seal(
                        text.encode(),
                        SealContext(
                            tenant=self._tenant,
                            table="turns",
                            key=f"{record.session_id}:{record.run_key}:{role}",
                        ),
                    )
                    for role, text in turns
                ]
        drafts = record.drafts
        if drafts:
            params |= {
                "recipient": self._indexer.digest(record.recipient, purpose=blind.CONTACT),
                "o_keys": [draft.idempotency_key for draft in drafts],
                "o_kinds": [draft.kind for draft in drafts],
                "o_contents": [
                    self._seal(
                        "outbound_messages.content",
                        draft.idempotency_key,
                        _outbound_document(
                            draft.text, record.recipient, draft.flow, draft.interactive
                        ),
                    )
                    for draft in drafts
                ],
                "o_parts": [draft.part_index for draft in drafts],
                "o_reply_tos": [draft.reply_to for draft in drafts],
                "o_received": [draft.inbound_received_at for draft in drafts],
            }
        # The delivery's opening read, in the same statement: it sees this run's outbound
        # rows (issue 18: the read's own transaction, then its own statement, saved).
        due = record.due_read if self._outbox is not None else None
        if due is not None and self._outbox is not None:
            if due.conversation_id != run.conversation_id:
                raise ValueError("a run's finish carries its own conversation's due read")
            params |= self._outbox.due_params(
                due.conversation_id, recent_since=due.recent_since, screen=due.screen
            )
        # The run's audit events in the same statement (storage/audit.py, `ride`): they
        # commit with the run or not at all, and take no transaction of their own. Taken
        # last: nothing may raise between the ride and its settling.
        ride = None
        if self._audit is not None and record.audit and record.audit_at is not None:
            ride = self._audit.ride(record.audit, at=record.audit_at)
            if ride is not None:
                params |= ride.statement[1]
        sql = _finish_sql(
            session, bool(session and turns), bool(drafts), ride is not None, due is not None
        )
        row = None
        try:
            # One statement, one transaction, on a connection that holds the tenant (then
            # it goes alone, autocommit).
            rows = await self._database.tenant_rows(self._tenant, sql, params)
            row = rows[0]
        finally:
            written = ride.settle(row) if ride is not None else False
        if due is not None and self._outbox is not None:
            due.found = await self._outbox.due_from(rows, screen=due.screen)
        return written

    @staticmethod
    def _run_params(run: RunRecord) -> dict[str, Any]:
        return {
            "conversation_id": run.conversation_id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "message_count": len(run.message_ids),
            "last_message_id": run.last_message_id,
            "marked_read": run.marked_read,
            "outcome": run.outcome,
            "error": run.error,
            "message_ids": list(run.message_ids),
            "run_key": None,
            "insight": None,
        }

    async def requeue_orphans(
        self, *, older_than: datetime, run_at: datetime, email_fallback: bool = False
    ) -> int:
        """Queue a job for every conversation of this store's tenant left with work and no
        job (e-mails due count as work only when the fallback is configured). Row-level
        security limits it to the tenant: a sweep over all tenants calls each tenant's store."""
        params = {
            "older_than": older_than,
            "run_at": run_at,
            "attempt": 0,
            "email_fallback": email_fallback,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_ORPHANS_SQL, params)
            return len(await cursor.fetchall())

    async def fail_stalled_jobs(self, *, heartbeat_before: datetime) -> int:
        """Jobs left `doing` by a worker that died hold their conversation's lock for ever;
        mark them failed so the orphan sweep can queue a fresh job.

        Platform-level: it touches procrastinate's tables only (no tenant data), so it runs
        without a tenant and releases every tenant's stalled jobs."""
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(
                _STALLED_SQL, {"tasks": _RECOVERED_TASKS, "heartbeat_before": heartbeat_before}
            )
            return len(await cursor.fetchall())

    async def fail_unrecorded_jobs(self, job_ids: Sequence[int]) -> int:
        """Of `job_ids` (jobs that ended in this process a while ago), mark those still `doing`
        failed, so the orphan sweep can queue a fresh job for their conversations.

        Platform-level, like `fail_stalled_jobs`: procrastinate's tables only."""
        if not job_ids:
            return 0
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(
                _UNRECORDED_SQL, {"tasks": _RECOVERED_TASKS, "ids": list(job_ids)}
            )
            return len(await cursor.fetchall())
