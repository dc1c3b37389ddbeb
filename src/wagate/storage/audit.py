"""The audit trail in PostgreSQL (CP3): appends chained under a per-tenant row lock.

An append locks the tenant's `audit_head` row, computes the next entries from it and writes
them and the new head in the same transaction, so appends from any number of connections and
processes form a single chain. The lock is held until the commit's WAL flush, which bounds one
tenant's appends (here ~1,300/s one at a time, ~6,000/s in batches of 5): record a run's
events with one `record_many` rather than one `record` each.

Appends are committed in groups (issue 18): the calls that arrive while one transaction is
under way wait for it, then go together in the next one, each caller still returning only
once its own entries are committed. One busy worker's sixteen concurrent runs then share a
transaction or two instead of taking the head's lock in turn; the chain is the same (entries
in the order their calls arrived), so `verify` is unchanged. A transaction takes two round
trips: BEGIN, the tenant and the head's lock; then the entries, the new head and COMMIT.

The head this process last wrote is remembered, and the next group first tries to append after
it in one statement (with its tenant, one round trip): the head moves only from exactly that
(seq, hash), and the entries are written only if it did. Where another process (or another
event loop) appended since, the head is elsewhere, nothing is written, and the group is written
as above, under the lock. Either way each entry follows the head it was chained from.

That one statement can also ride in another transaction (`ride`, issue 18): a run's events
are appended by the run's own finishing transaction, so they commit with the run (or not at
all) and cost no transaction of their own. A ride is offered while the head is known and no
group is being written or waiting; rides out at once are chained, each after the head the
previous one will leave (its statement waits for that one's row lock, then finds its head).
Appends that arrive meanwhile wait until every ride has settled, as they wait for a group. A
ride that wrote nothing (the head had moved, or the ride before it wrote nothing) leaves its
events to the caller, who appends them the ordinary way; no ride is offered until those
out have settled, and the next group appends after the last head the rides wrote (a guess its
statement checks, as above).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus

from wagate.domain.audit import (
    GENESIS,
    REDACTED,
    AuditEntry,
    AuditEvent,
    ChainHead,
    ChainVerifier,
    VerifyReport,
    canonical_json,
    next_entry,
    utc_iso,
)
from wagate.storage.database import SET_TENANT_SQL, Database

_COLUMNS = (
    "seq, tenant, at, action, actor, subject, details, details_hash, content_hash, prev_hash,"
    " hash, redacted_at"
)
_LOCK_HEAD_SQL = "SELECT seq, hash FROM audit_head WHERE tenant = %(tenant)s FOR UPDATE"
_CREATE_HEAD_SQL = """
INSERT INTO audit_head (tenant, seq, hash) VALUES (%(tenant)s, 0, %(genesis)s)
ON CONFLICT (tenant) DO NOTHING
"""
_INSERT_SQL = """
INSERT INTO audit_log (tenant, seq, at, action, actor, subject, details, details_hash,
                       content_hash, prev_hash, hash)
VALUES (%(tenant)s, %(seq)s, %(at)s, %(action)s, %(actor)s, %(subject)s, %(details)s::jsonb,
        %(details_hash)s, %(content_hash)s, %(prev_hash)s, %(hash)s)
"""
_ADVANCE_HEAD_SQL = "UPDATE audit_head SET seq = %(seq)s, hash = %(hash)s WHERE tenant = %(tenant)s"
_HEAD_SQL = "SELECT seq, hash FROM audit_head WHERE tenant = %(tenant)s"
# After the head this process last wrote, if it is still the head (the UPDATE's WHERE, checked
# again on the row's newest version should a concurrent append hold it): one statement. No
# entry is written unless the head moved; `written` says which happened.
# Its CTEs (`head`, `written`) can also be put beside a carrier statement's own (`ride`: one
# statement, not two in a pipeline); the carrier selects `RIDE_WRITTEN_SQL` as `written`.
# The carrier's own parameter names must not be any of `_after_statement`'s but `tenant`.
APPEND_AFTER_CTES = """
head AS (
  UPDATE audit_head SET seq = %(seq)s, hash = %(hash)s
   WHERE tenant = %(tenant)s AND seq = %(after_seq)s AND hash = %(after_hash)s
  RETURNING tenant
), written AS (
  INSERT INTO audit_log (tenant, seq, at, action, actor, subject, details, details_hash,
                         content_hash, prev_hash, hash)
  SELECT head.tenant, e.seq, e.at, e.action, e.actor, e.subject, e.details::jsonb,
         e.details_hash, e.content_hash, e.prev_hash, e.hash
    FROM head,
         unnest(%(seqs)s::bigint[], %(ats)s::timestamptz[], %(actions)s::text[],
                %(actors)s::text[], %(subjects)s::text[], %(details)s::text[],
                %(details_hashes)s::text[], %(content_hashes)s::text[], %(prev_hashes)s::text[],
                %(hashes)s::text[])
           AS e(seq, at, action, actor, subject, details, details_hash, content_hash,
                prev_hash, hash)
  RETURNING 1
)
"""
RIDE_WRITTEN_SQL = "(SELECT count(*) FROM written)"
_APPEND_AFTER_SQL = f"WITH {APPEND_AFTER_CTES}SELECT {RIDE_WRITTEN_SQL} AS written"
_PAGE_SQL = f"SELECT {_COLUMNS} FROM audit_log WHERE tenant = %(tenant)s AND seq > %(after)s"
_SINCE = " AND at >= %(since)s"
_UNTIL = " AND at < %(until)s"
_UPTO = " AND seq <= %(upto)s"
_ORDER = " ORDER BY seq LIMIT %(limit)s"
_RECENT_SQL = f"SELECT {_COLUMNS} FROM audit_log WHERE tenant = %(tenant)s"
_BEFORE = " AND seq < %(before)s"
_ACTION_PREFIX = " AND starts_with(action, %(action_prefix)s)"
_ACTOR_CONTAINS = " AND strpos(actor, %(actor)s) > 0"
_NEWEST_FIRST = " ORDER BY seq DESC LIMIT %(limit)s"
_MAINTENANCE_SQL = "SELECT set_config('wagate.audit_maintenance', 'on', true)"
_REDACT_SQL = """
UPDATE audit_log SET details = %(redacted)s::jsonb, redacted_at = %(now)s
 WHERE tenant = %(tenant)s AND seq IN (
       SELECT seq FROM audit_log
        WHERE tenant = %(tenant)s AND at < %(cutoff)s AND redacted_at IS NULL
        ORDER BY seq LIMIT %(batch)s)
"""

Connection = AsyncConnection[dict[str, Any]]

# `_APPEND_AFTER_SQL`'s arrays: parameter name -> the entry row's column.
_ARRAYS = {
    "seqs": "seq",
    "ats": "at",
    "actions": "action",
    "actors": "actor",
    "subjects": "subject",
    "details": "details",
    "details_hashes": "details_hash",
    "content_hashes": "content_hash",
    "prev_hashes": "prev_hash",
    "hashes": "hash",
}

# At most this many events in one transaction: a backlog is written in bounded steps.
GROUP_LIMIT = 500


@dataclass(slots=True)
class _Append:
    """One caller's events, waiting for the group they will be committed with."""

    events: list[AuditEvent]
    at: datetime
    done: asyncio.Future[list[int]]


@dataclass(slots=True)
class _Group:
    """The appends waiting on one event loop, and the task writing them."""

    waiting: list[_Append] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None

    def busy(self) -> bool:
        return self.writer is not None and not self.writer.done()


@dataclass(slots=True)
class AuditRide:
    """A run's events as one statement for another transaction to carry (`ride`).

    Put `statement` in the transaction, then call `settle` with its first row once the
    transaction has committed (True: the events are in the chain), or with None when it did
    not commit (nothing of it was written). Until it settles, no group of this log starts."""

    statement: tuple[str, dict[str, Any]]
    _log: PostgresAuditLog
    _head: ChainHead  # where the chain ends if it wrote
    _settled: bool = False

    def settle(self, row: Mapping[str, Any] | None) -> bool:
        """Whether the events were appended; the log is free again either way."""
        if self._settled:
            raise RuntimeError("an audit ride settles once")
        self._settled = True
        written = row is not None and int(row["written"]) > 0
        self._log._end_ride(self._head, written=written)
        return written


class PostgresAuditLog:
    """One tenant's audit chain. Every method takes its own pooled connection."""

    def __init__(self, database: Database, tenant: str) -> None:
        self._database = database
        self._tenant = tenant
        # Per event loop: a log shared by two loops (tests, a CLI) keeps their appends apart.
        self._groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Group] = (
            weakref.WeakKeyDictionary()
        )
        # The head as this process's last append left it: a guess to append after, checked by
        # the statement itself (module docstring); None when unknown.
        self._last_head: ChainHead | None = None
        # Rides not settled yet: no group starts until they all have. While some are out,
        # `_last_head` is the head they leave once all of them commit.
        self._rides_out = 0
        self._ridden: ChainHead | None = None  # the furthest head a settled ride wrote

    @property
    def tenant(self) -> str:
        return self._tenant

    async def record(self, event: AuditEvent, *, at: datetime) -> int:
        """Append one event; returns its seq."""
        return (await self.record_many([event], at=at))[0]

    async def record_many(self, events: Iterable[AuditEvent], *, at: datetime) -> list[int]:
        """Append events in order, in one transaction: all of them or none. Returns their
        seqs once they are committed (possibly with other callers' events: module docstring)."""
        pending = list(events)
        if not pending:
            return []
        utc_iso(at)  # a naive time fails here, before anything is queued
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            group = self._groups[loop] = _Group()
        done: asyncio.Future[list[int]] = loop.create_future()
        group.waiting.append(_Append(pending, at, done))
        if not group.busy() and not self._rides_out:
            # A task of its own: a caller cancelled while waiting must not cancel the
            # transaction that carries the others' entries too.
            group.writer = loop.create_task(self._write_groups(group))
        return await done

    def ride(self, events: Iterable[AuditEvent], *, at: datetime) -> AuditRide | None:
        """The events as one statement for the caller's own transaction (module docstring),
        or None when that cannot be offered now (the head unknown, an append under way or
        waiting): then append them with `record_many` after it."""
        pending = list(events)
        utc_iso(at)
        head = self._last_head
        if not pending or head is None:
            return None
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is not None and (group.busy() or group.waiting):
            return None
        rows, _, new_head = self._entries([_Append(pending, at, loop.create_future())], head)
        self._last_head = new_head  # the next ride goes after this one
        self._rides_out += 1
        return AuditRide(
            statement=self._after_statement(head, rows, new_head), _log=self, _head=new_head
        )

    def _end_ride(self, head: ChainHead, *, written: bool) -> None:
        self._rides_out -= 1
        if written and (self._ridden is None or head.seq > self._ridden.seq):
            self._ridden = head
        if not written:
            # The rides chained after this one write nothing either: no new ones for now.
            self._last_head = None
        if self._rides_out:
            return
        if self._last_head is None:
            # What the rides wrote is a prefix of their chain: its end is the best guess of
            # the head (checked by the next append's statement like any other guess).
            self._last_head = self._ridden
        self._ridden = None
        with contextlib.suppress(RuntimeError):  # no running loop: nothing can be waiting
            loop = asyncio.get_running_loop()
            group = self._groups.get(loop)
            if group is not None and group.waiting and not group.busy():
                group.writer = loop.create_task(self._write_groups(group))

    async def _write_groups(self, group: _Group) -> None:
        while group.waiting:
            taken: list[_Append] = []
            size = 0
            while group.waiting and (
                not taken or size + len(group.waiting[0].events) <= GROUP_LIMIT
            ):
                append = group.waiting.pop(0)
                taken.append(append)
                size += len(append.events)
            try:
                seqs = await self._append(taken)
            except BaseException as exc:
                for append in taken:
                    if not append.done.done():
                        append.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise  # cancelled (the loop is closing): the waiting callers end with it
                continue
            for append, numbers in zip(taken, seqs, strict=True):
                if not append.done.done():
                    append.done.set_result(numbers)

    def _chain(self, append: _Append, *, seq: int, prev_hash: str) -> list[AuditEntry]:
        entries = []
        for event in append.events:
            seq += 1
            entry = next_entry(
                event, tenant=self._tenant, seq=seq, at=append.at, prev_hash=prev_hash
            )
            entries.append(entry)
            prev_hash = entry.hash
        return entries

    def _entries(
        self, appends: list[_Append], head: ChainHead
    ) -> tuple[list[dict[str, Any]], list[list[int]], ChainHead]:
        """Every append's entries after `head`, in order: their rows, each append's seqs, and
        the head they end at."""
        seq, prev_hash = head.seq, head.hash
        rows: list[dict[str, Any]] = []
        seqs: list[list[int]] = []
        for append in appends:
            entries = self._chain(append, seq=seq, prev_hash=prev_hash)
            rows += [self._row(entry) for entry in entries]
            seqs.append([entry.seq for entry in entries])
            seq, prev_hash = entries[-1].seq, entries[-1].hash
        return rows, seqs, ChainHead(seq=seq, hash=prev_hash)

    async def _append(self, appends: list[_Append]) -> list[list[int]]:
        """Every append's entries after the head, in one transaction; each append's seqs."""
        last, self._last_head = self._last_head, None  # unknown until this one commits
        if last is not None:
            seqs = await self._append_after(last, appends)
            if seqs is not None:
                return seqs
        return await self._append_locked(appends)

    async def _append_after(
        self, head: ChainHead, appends: list[_Append]
    ) -> list[list[int]] | None:
        """One statement: the entries after `head` if it is still the head, else None
        (nothing written)."""
        rows, seqs, new_head = self._entries(appends, head)
        found = await self._database.tenant_rows(
            self._tenant, *self._after_statement(head, rows, new_head)
        )
        if int(found[0]["written"]) == 0:
            return None
        self._last_head = new_head
        return seqs

    def _after_statement(
        self, head: ChainHead, rows: list[dict[str, Any]], new_head: ChainHead
    ) -> tuple[str, dict[str, Any]]:
        return _APPEND_AFTER_SQL, {
            "tenant": self._tenant,
            "seq": new_head.seq,
            "hash": new_head.hash,
            "after_seq": head.seq,
            "after_hash": head.hash,
            **{plural: [row[column] for row in rows] for plural, column in _ARRAYS.items()},
        }

    async def _append_locked(self, appends: list[_Append]) -> list[list[int]]:
        """One transaction: lock the head, write every append's entries after it in order,
        move the head. Returns each append's seqs."""
        params = {"tenant": self._tenant, "genesis": GENESIS}
        async with self._database.pool.connection() as conn:
            try:
                async with conn.pipeline():
                    await conn.execute("BEGIN")
                    await conn.execute(SET_TENANT_SQL, {"tenant": self._tenant})
                    locked = await conn.execute(_LOCK_HEAD_SQL, params)
                row = await locked.fetchone()
                if row is None:  # the tenant's first entry; a concurrent first append waits
                    await conn.execute(_CREATE_HEAD_SQL, params)
                    row = await (await conn.execute(_LOCK_HEAD_SQL, params)).fetchone()
                    assert row is not None
                head = ChainHead(seq=int(row["seq"]), hash=str(row["hash"]))
                rows, seqs, new_head = self._entries(appends, head)
                async with conn.pipeline():
                    async with conn.cursor() as cursor:
                        await cursor.executemany(_INSERT_SQL, rows)
                    await conn.execute(
                        _ADVANCE_HEAD_SQL,
                        {"tenant": self._tenant, "seq": new_head.seq, "hash": new_head.hash},
                    )
                    await conn.execute("COMMIT")
            except BaseException:
                if conn.info.transaction_status in (
                    TransactionStatus.INTRANS,
                    TransactionStatus.INERROR,
                ):
                    with contextlib.suppress(psycopg.Error):
                        await conn.rollback()
                raise
        self._last_head = new_head
        return seqs

    def _row(self, entry: AuditEntry) -> dict[str, Any]:
        return {
            "tenant": entry.tenant,
            "seq": entry.seq,
            "at": entry.at,
            "action": entry.action,
            "actor": entry.actor,
            "subject": entry.subject,
            # The very bytes that were hashed; jsonb parses them back to equal values.
            "details": canonical_json(entry.details).decode("ascii"),
            "details_hash": entry.details_hash,
            "content_hash": entry.content_hash,
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
        }

    async def head(self) -> ChainHead | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_HEAD_SQL, {"tenant": self._tenant})).fetchone()
        return None if row is None else ChainHead(seq=int(row["seq"]), hash=str(row["hash"]))

    async def page(
        self,
        *,
        after_seq: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        upto_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries after `after_seq` in seq order, `since` ≤ at < `until`."""
        sql = _PAGE_SQL
        params: dict[str, Any] = {"tenant": self._tenant, "after": after_seq, "limit": limit}
        for fragment, name, value in (
            (_SINCE, "since", since),
            (_UNTIL, "until", until),
            (_UPTO, "upto", upto_seq),
        ):
            if value is not None:
                sql += fragment
                params[name] = value
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(sql + _ORDER, params)).fetchall()
        return [_entry(row) for row in rows]

    async def recent(
        self,
        *,
        before_seq: int | None = None,
        action_prefix: str | None = None,
        actor: str | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """Newest first, before `before_seq`: actions starting with `action_prefix`, actors
        containing `actor` (plain text: no LIKE wildcards to escape)."""
        sql = _RECENT_SQL
        params: dict[str, Any] = {"tenant": self._tenant, "limit": limit}
        for fragment, name, value in (
            (_BEFORE, "before", before_seq),
            (_ACTION_PREFIX, "action_prefix", action_prefix or None),
            (_ACTOR_CONTAINS, "actor", actor or None),
        ):
            if value is not None:
                sql += fragment
                params[name] = value
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(sql + _NEWEST_FIRST, params)).fetchall()
        return [_entry(row) for row in rows]

    async def iterate(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        batch: int = 1000,
        upto_seq: int | None = None,
    ) -> AsyncIterator[AuditEntry]:
        """Every matching entry in seq order, `batch` rows in memory at a time."""
        after = 0
        while True:
            entries = await self.page(
                after_seq=after, since=since, until=until, upto_seq=upto_seq, limit=batch
            )
            for entry in entries:
                yield entry
            if len(entries) < batch:
                return
            after = entries[-1].seq

    async def verify(
        self, *, anchors: Mapping[int, str] | None = None, batch: int = 1000
    ) -> VerifyReport:
        """Check the whole chain up to the head as it was when verification began."""
        head = await self.head() or ChainHead(seq=0, hash=GENESIS)
        verifier = ChainVerifier(anchors=anchors)
        # A missing head with entries present is itself a break: scan them all then.
        upto = head.seq if head.seq > 0 else None
        async for entry in self.iterate(batch=batch, upto_seq=upto):
            if not verifier.feed(entry):
                break
        return verifier.finish(head)

    async def redact_before(
        self, cutoff: datetime, *, at: datetime | None = None, batch: int = 5000
    ) -> int:
        """Drop the details of entries older than `cutoff`, keeping every hash, so the chain
        still verifies; records the redaction itself. Returns how many entries it redacted."""
        now = at or datetime.now(UTC)
        params = {
            "tenant": self._tenant,
            "cutoff": cutoff,
            "now": now,
            "batch": batch,
            "redacted": canonical_json(REDACTED).decode("ascii"),
        }
        total = 0
        while True:
            async with self._database.tenant_connection(self._tenant) as conn:
                await conn.execute(_MAINTENANCE_SQL)  # local to this transaction
                redacted = (await conn.execute(_REDACT_SQL, params)).rowcount
            total += redacted
            if redacted < batch:
                break
        if total:
            event = AuditEvent(
                action="audit.redacted",
                actor="system",
                details={"before": utc_iso(cutoff), "entries": total},
            )
            await self.record(event, at=now)
        return total


def _entry(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=int(row["seq"]),
        tenant=row["tenant"],
        at=row["at"],
        action=row["action"],
        actor=row["actor"],
        subject=row["subject"],
        details=row["details"],
        details_hash=row["details_hash"],
        content_hash=row["content_hash"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        redacted_at=row["redacted_at"],
    )
