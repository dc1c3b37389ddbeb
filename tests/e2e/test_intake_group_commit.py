"""Group commit of webhook intake (issue 18) on PostgreSQL, as the application role.

Deliveries stored together in one transaction must leave exactly the rows, jobs and
per-delivery results that storing them one after the other leaves; a row PostgreSQL refuses
costs only its own delivery; a database error fails only its own group; and a group never
writes across tenants, even when one transaction carries several tenants' deliveries."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import gc
import random
import string
import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.e2e.harness import fresh_database
from wagate.domain.messages import WebhookBatch
from wagate.fakes.payloads import meta_envelope, meta_status, meta_text
from wagate.pipeline.ports import IntakeResult
from wagate.providers.meta.webhook import parse_payload
from wagate.security.sealing import PlaintextSealer
from wagate.storage import intake, migrate
from wagate.storage.database import Database, Statement
from wagate.storage.intake import IntakeStore
from wagate.storage.roles import ensure_app_role

CHANNEL = "106540352242922"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
T0 = int((NOW - timedelta(hours=1)).timestamp())


class _Digest:
    def digest(self, value: str, *, purpose: str) -> str:
        return f"{purpose}:{value}"


@dataclasses.dataclass(frozen=True)
class _Db:
    owner: str  # reads every tenant's rows
    app: str  # the gateway's role, under row-level security


@pytest.fixture
def databases() -> Iterator[tuple[_Db, _Db]]:
    """Two fresh migrated databases: one stores deliveries as a group, the other one by one."""
    with fresh_database() as first, fresh_database() as second:
        for owner in (first, second):
            migrate.upgrade(owner)
        yield (
            _Db(first, ensure_app_role(first, password="group-commit-test")),
            _Db(second, ensure_app_role(second, password="group-commit-test")),
        )


def _text(sender: str, wamid: str, at: int, **extra: Any) -> dict[str, Any]:
    return meta_text(
        phone_number_id=CHANNEL,
        sender=sender,
        text=f"pesan {wamid}",
        message_id=wamid,
        timestamp=at,
        **extra,
    )


def _image(sender: str, wamid: str, at: int) -> dict[str, Any]:
    message = {
        "from": sender,
        "id": wamid,
        "timestamp": str(at),
        "type": "image",
        "image": {"id": "media-" + wamid, "mime_type": "image/jpeg", "sha256": "x"},
    }
    contact = {"profile": {"name": "Foto"}, "wa_id": sender}
    return meta_envelope(CHANNEL, {"contacts": [contact], "messages": [message]})


def _joined(*payloads: dict[str, Any]) -> dict[str, Any]:
    """One delivery carrying the messages (and statuses) of several payloads."""
    joined = copy.deepcopy(payloads[0])
    value = joined["entry"][0]["changes"][0]["value"]
    for payload in payloads[1:]:
        more = payload["entry"][0]["changes"][0]["value"]
        for key in ("contacts", "messages", "statuses"):
            if key in more:
                value.setdefault(key, []).extend(more[key])
    return joined


def _batch(payload: dict[str, Any]) -> WebhookBatch:
    return parse_payload(payload, now=NOW)


class _Spy:
    """Records the statements of every transaction the intake sends."""

    def __init__(self, database: Database) -> None:
        self.transactions: list[list[str]] = []
        self.tenants: list[list[str]] = []  # each transaction's blocks' tenants, in order
        self._run = database.tenant_bound.run
        self._run_blocks = database.tenant_bound.run_blocks
        database.tenant_bound.run = self.run  # type: ignore[method-assign]
        database.tenant_bound.run_blocks = self.run_blocks  # type: ignore[method-assign]

    async def run(self, tenant: str, statements: Sequence[Statement]) -> Any:
        self.transactions.append([sql for sql, _ in statements])
        self.tenants.append([tenant])
        return await self._run(tenant, statements)

    async def run_blocks(self, blocks: Sequence[tuple[str, Sequence[Statement]]]) -> Any:
        self.transactions.append([sql for _, statements in blocks for sql, _ in statements])
        self.tenants.append([tenant for tenant, _ in blocks])
        return await self._run_blocks(blocks)

    @property
    def grouped(self) -> int:
        return sum(1 for t in self.transactions for sql in t if "unnest(" in sql)


async def _store(
    url: str, tenant: str, deliveries: Sequence[WebhookBatch], *, together: bool
) -> tuple[list[IntakeResult], _Spy]:
    database = Database(url, pool_size=4)
    await database.open()
    try:
        spy = _Spy(database)
        store = IntakeStore(database, PlaintextSealer(), _Digest(), tenant)
        run_at = [NOW + timedelta(seconds=3 + i) for i in range(len(deliveries))]
        if together:
            # All submitted in one tick: the first drain takes them as one group.
            results = await asyncio.gather(
                *(store.store(d, run_at=at) for d, at in zip(deliveries, run_at, strict=True))
            )
        else:
            results = [
                await store.store(d, run_at=at) for d, at in zip(deliveries, run_at, strict=True)
            ]
        return list(results), spy
    finally:
        await database.close()


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the intake writes (read as the owner at `url`), with conversations named by
    contact, not by id."""
    queries = {
        "conversations": """
            SELECT tenant, provider, channel_id, contact_key, contact_phone, contact_user_id,
                   profile, last_inbound_at FROM conversations ORDER BY tenant, contact_key""",
        "messages": """
            SELECT m.tenant, m.provider, m.provider_message_id, c.contact_key, m.kind, m.sent_at,
                   m.content, m.raw, m.processed_at
              FROM inbound_messages m JOIN conversations c ON c.id = m.conversation_id
             ORDER BY m.provider_message_id""",
        "jobs": """
            -- A file's fetch is due "now" (the wall clock when its row was prepared).
            SELECT j.queue_name, j.task_name, j.status,
                   CASE WHEN j.task_name <> 'wagate.media_fetch' THEN j.scheduled_at END,
                   c.contact_key,
                   j.args->>'attempt', j.args->>'tenant',
                   j.lock = 'conversation:' || c.id, j.queueing_lock = 'conversation:' || c.id
              FROM procrastinate_jobs j
              LEFT JOIN conversations c ON c.id = (j.args->>'conversation_id')::bigint
             ORDER BY j.task_name, c.contact_key, j.scheduled_at""",
        "media": """
            SELECT f.tenant, f.media_type, m.provider_message_id FROM media f
              JOIN inbound_messages m ON m.id = f.inbound_message_id ORDER BY 3""",
        "statuses": """
            SELECT tenant, provider, provider_message_id, status FROM delivery_statuses
             ORDER BY provider_message_id""",
        "events": """
            SELECT tenant, provider, field_name, dedup_key FROM provider_events ORDER BY 4""",
    }
    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}


def _deliveries() -> list[WebhookBatch]:
    a, b, c, d, e = (f"62812000000{n}" for n in range(1, 6))
    return [
        _batch(_text(a, "wamid.A1", T0)),
        _batch(_text(b, "wamid.B1", T0 + 1)),
        # Older than A1 (a late delivery): the window's time must not go backwards.
        _batch(_text(a, "wamid.A2", T0 - 30, name="Nama Lama")),
        _batch(_text(a, "wamid.A1", T0)),  # a redelivery inside the group: a duplicate
        _batch(_text(e, "wamid.before", T0 - 600)),  # stored before the group: a duplicate
        _batch(_image(c, "wamid.C1", T0 + 2)),  # a file keeps its own statement
        _batch(
            _joined(
                _text(d, "wamid.D1", T0 + 3),
                meta_status(
                    phone_number_id=CHANNEL, message_id="wamid.out1", status="read", recipient=d
                ),
            )
        ),
        # The profile last given wins, as the successive upserts leave it.
        _batch(
            _joined(_text(e, "wamid.E1", T0 + 4), _text(a, "wamid.A3", T0 + 5, name="Nama Baru"))
        ),
        _batch(_text(b, "wamid.B2", T0 + 6, user_id="ID.bsuid-b")),  # a user id, later
        _batch(_text(b, "wamid.B3", T0 + 7)),  # none given: the user id stays
        _batch(_text(d, "wamid.D0", T0 - 100)),  # late and older: D1's time stays
    ]


async def test_a_group_leaves_exactly_the_rows_and_results_of_one_by_one(
    databases: tuple[_Db, _Db],
) -> None:
    grouped_db, sequential_db = databases
    before = [_batch(_text("628120000005", "wamid.before", T0 - 600))]
    for db in databases:  # a contact and a message that exist before the group
        await _store(db.app, "alpha", before, together=False)
    deliveries = _deliveries()

    grouped, spy = await _store(grouped_db.app, "alpha", deliveries, together=True)
    one_by_one, alone = await _store(sequential_db.app, "alpha", deliveries, together=False)

    assert spy.grouped == 1 and len(spy.transactions) == 1  # one transaction for all eleven
    assert alone.grouped == 0 and len(alone.transactions) == len(deliveries)
    assert grouped == one_by_one
    assert [r.stored for r in grouped] == [1, 1, 1, 0, 0, 1, 1, 2, 1, 1, 1]
    assert [r.duplicates for r in grouped] == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    # One job per conversation: a, b, c, d (e's from before the group is still waiting).
    assert sum(r.queued for r in grouped) == 4
    assert grouped[5].files == ("image",) and grouped[6].statuses == 1
    got, expected = _rows(grouped_db.owner), _rows(sequential_db.owner)
    for table in expected:
        assert got[table] == expected[table], table
    conversations = {row[3]: row for row in got["conversations"]}
    a = conversations["contact:628120000001"]
    assert a[7] == datetime.fromtimestamp(T0 + 5, UTC)  # the latest of A1, A2, A3
    assert b"Nama Baru" in a[6]
    assert conversations["contact:628120000002"][5] == "user_id:ID.bsuid-b"
    assert conversations["contact:628120000004"][7] == datetime.fromtimestamp(T0 + 3, UTC)


async def test_a_refused_row_costs_only_its_own_delivery(databases: tuple[_Db, _Db]) -> None:
    db, _ = databases
    good = _batch(_text("628120000011", "wamid.G1", T0))
    # An identifier too large for its index, past the provider's own cleaning: PostgreSQL
    # refuses the row (54000), not the database.
    noise = "".join(random.choices(string.ascii_letters + string.digits, k=12000))
    bad = _batch(_text("628120000012", "wamid.X", T0 + 1))
    bad = dataclasses.replace(
        bad, messages=(dataclasses.replace(bad.messages[0], message_id=noise),)
    )
    also_good = _batch(_text("628120000011", "wamid.G2", T0 + 2))

    results, spy = await _store(db.app, "alpha", [good, bad, also_good], together=True)

    assert spy.grouped == 1  # the group was tried first, then each delivery alone
    assert [(r.stored, r.others) for r in results] == [(1, 0), (0, 1), (1, 0)]
    rows = _rows(db.owner)
    assert [m[2] for m in rows["messages"]] == ["wamid.G1", "wamid.G2"]
    assert [e[2] for e in rows["events"]] == ["refused_message"]
    assert len(rows["jobs"]) == 1  # one conversation, one job


async def test_a_refused_delivery_alone_in_its_group_goes_part_by_part_at_once(
    databases: tuple[_Db, _Db],
) -> None:
    db, _ = databases
    noise = "".join(random.choices(string.ascii_letters + string.digits, k=12000))
    bad = _batch(
        _joined(_text("628120000013", "wamid.Y", T0), _text("628120000013", "wamid.Z", T0 + 1))
    )
    bad = dataclasses.replace(
        bad, messages=(dataclasses.replace(bad.messages[0], message_id=noise), bad.messages[1])
    )

    [result], spy = await _store(db.app, "alpha", [bad], together=True)

    assert (result.stored, result.others) == (1, 1)
    # Its own transaction, then each part alone (the refused one once more, set aside): the
    # whole delivery is not tried a second time.
    assert len(spy.transactions) == 1 + 2 + 1
    rows = _rows(db.owner)
    assert [m[2] for m in rows["messages"]] == ["wamid.Z"]
    assert [e[2] for e in rows["events"]] == ["refused_message"]


async def test_a_database_error_fails_only_its_own_group(databases: tuple[_Db, _Db]) -> None:
    db, _ = databases
    database = Database(db.app, pool_size=4)
    await database.open()
    try:
        store = IntakeStore(database, PlaintextSealer(), _Digest(), "alpha")
        real, real_blocks = database.tenant_bound.run, database.tenant_bound.run_blocks
        calls = 0

        def fail_first() -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise psycopg.OperationalError("server closed the connection unexpectedly")

        async def run(tenant: str, statements: Sequence[Statement]) -> Any:
            fail_first()
            return await real(tenant, statements)

        async def run_blocks(blocks: Sequence[tuple[str, Sequence[Statement]]]) -> Any:
            fail_first()
            return await real_blocks(blocks)

        database.tenant_bound.run = run  # type: ignore[method-assign]
        database.tenant_bound.run_blocks = run_blocks  # type: ignore[method-assign]
        first = [_batch(_text("62812000002" + str(n), f"wamid.F{n}", T0)) for n in range(3)]
        outcomes = await asyncio.gather(
            *(store.store(d, run_at=NOW) for d in first), return_exceptions=True
        )
        assert all(isinstance(o, psycopg.OperationalError) for o in outcomes)
        # The provider delivers again: stored now, once each.
        again = await asyncio.gather(*(store.store(d, run_at=NOW) for d in first))
        assert [r.stored for r in again] == [1, 1, 1]
    finally:
        await database.close()
    assert [m[2] for m in _rows(db.owner)["messages"]] == ["wamid.F0", "wamid.F1", "wamid.F2"]


async def test_groups_of_two_tenants_never_write_across(databases: tuple[_Db, _Db]) -> None:
    db, _ = databases
    senders = [f"6281200003{n:02d}" for n in range(6)]

    def deliveries(tenant: str) -> list[WebhookBatch]:
        # The same people write to both tenants, so their contact keys are the same.
        return [
            _batch(_text(s, f"wamid.{tenant}.{i}", T0 + i)) for i, s in enumerate(senders + senders)
        ]

    (alpha, alpha_spy), (beta, beta_spy) = await asyncio.gather(
        _store(db.app, "alpha", deliveries("alpha"), together=True),
        _store(db.app, "beta", deliveries("beta"), together=True),
    )
    assert alpha_spy.grouped >= 1 and beta_spy.grouped >= 1
    assert sum(r.stored for r in alpha) == sum(r.stored for r in beta) == 12
    rows = _rows(db.owner)
    for tenant in ("alpha", "beta"):
        conversations = [c for c in rows["conversations"] if c[0] == tenant]
        messages = [m for m in rows["messages"] if m[0] == tenant]
        jobs = [j for j in rows["jobs"] if j[6] == tenant]
        assert len(conversations) == 6 and len(jobs) == 6
        assert sorted(m[2] for m in messages) == sorted(f"wamid.{tenant}.{i}" for i in range(12))
    # As the app role, each tenant sees only its own.
    with psycopg.connect(db.app) as conn:
        conn.execute("SELECT set_config('wagate.tenant', 'alpha', false)")
        seen = conn.execute("SELECT DISTINCT tenant FROM inbound_messages").fetchall()
    assert seen == [("alpha",)]


async def test_one_transaction_carries_several_tenants_each_under_its_own(
    databases: tuple[_Db, _Db],
) -> None:
    """Stores of two tenants on one database share their group commit: deliveries submitted
    together go as one transaction of per-tenant blocks, and each row lands in its tenant
    (row-level security checks every block against the tenant set before it)."""
    db, _ = databases
    senders = [f"6281200004{n:02d}" for n in range(4)]
    database = Database(db.app, pool_size=4)
    await database.open()
    try:
        spy = _Spy(database)
        stores = {
            tenant: IntakeStore(database, PlaintextSealer(), _Digest(), tenant)
            for tenant in ("alpha", "beta", "gamma")
        }
        # Interleaved: alpha, beta, alpha, gamma … in one tick; gamma has one delivery (the
        # one-message statements), alpha and beta several (the array statement).
        order = ["alpha", "beta", "alpha", "gamma", "beta", "alpha", "beta"]
        deliveries = [
            (tenant, _batch(_text(senders[i % 4], f"wamid.{tenant}.{i}", T0 + i)))
            for i, tenant in enumerate(order)
        ]
        results = await asyncio.gather(
            *(stores[t].store(d, run_at=NOW + timedelta(seconds=3)) for t, d in deliveries)
        )
        assert [r.stored for r in results] == [1] * len(order)
        # A redelivery of every one, again together: duplicates, each in its own tenant.
        again = await asyncio.gather(
            *(stores[t].store(d, run_at=NOW + timedelta(seconds=3)) for t, d in deliveries)
        )
        assert [r.duplicates for r in again] == [1] * len(order)
    finally:
        await database.close()
    assert any(len(set(tenants)) > 1 for tenants in spy.tenants), spy.tenants
    rows = _rows(db.owner)
    for tenant in ("alpha", "beta", "gamma"):
        mine = sorted(m[2] for m in rows["messages"] if m[0] == tenant)
        assert mine == sorted(f"wamid.{tenant}.{i}" for i, t in enumerate(order) if t == tenant)
        conversations = [c for c in rows["conversations"] if c[0] == tenant]
        assert {c[3] for c in conversations} == {
            f"contact:{senders[i % 4]}" for i, t in enumerate(order) if t == tenant
        }
        assert len([j for j in rows["jobs"] if j[6] == tenant]) == len(conversations)
    with psycopg.connect(db.owner) as conn:
        # Every job names the tenant of the conversation it runs.
        crossed = conn.execute(
            """SELECT count(*) FROM procrastinate_jobs j
                 JOIN conversations c ON c.id = (j.args->>'conversation_id')::bigint
                WHERE j.args->>'tenant' <> c.tenant"""
        ).fetchone()
    assert crossed == (0,)


async def test_a_refused_row_in_a_mixed_group_costs_only_its_own_delivery(
    databases: tuple[_Db, _Db],
) -> None:
    db, _ = databases
    database = Database(db.app, pool_size=4)
    await database.open()
    try:
        alpha = IntakeStore(database, PlaintextSealer(), _Digest(), "alpha")
        beta = IntakeStore(database, PlaintextSealer(), _Digest(), "beta")
        good_alpha = _batch(_text("628120000501", "wamid.ok.alpha", T0))
        good_beta = _batch(_text("628120000502", "wamid.ok.beta", T0))
        # An identifier too large for its index: PostgreSQL refuses the row (54000), and the
        # whole mixed transaction with it.
        noise = "".join(random.choices(string.ascii_letters + string.digits, k=12000))
        bad = _batch(_text("628120000503", "wamid.bad", T0))
        bad = dataclasses.replace(
            bad, messages=(dataclasses.replace(bad.messages[0], message_id=noise),)
        )
        outcomes = await asyncio.gather(
            alpha.store(good_alpha, run_at=NOW),
            beta.store(bad, run_at=NOW),
            beta.store(good_beta, run_at=NOW),
        )
    finally:
        await database.close()
    assert [(o.stored, o.others) for o in outcomes] == [(1, 0), (0, 1), (1, 0)]
    rows = _rows(db.owner)
    assert [(e[0], e[2]) for e in rows["events"]] == [("beta", "refused_message")]
    assert ("alpha", "wamid.ok.alpha") in {(m[0], m[2]) for m in rows["messages"]}
    assert ("beta", "wamid.ok.beta") in {(m[0], m[2]) for m in rows["messages"]}


async def test_two_groups_sharing_tenants_in_opposite_orders_never_deadlock(
    databases: tuple[_Db, _Db],
) -> None:
    """Two transactions in flight, [alpha, beta] and [beta, alpha], both updating the same
    two conversations: blocks go in a fixed tenant order, so their row locks do too (in
    arrival order about one round in five deadlocked)."""
    db, _ = databases
    database = Database(db.app, pool_size=6)
    await database.open()
    try:
        stores = {t: IntakeStore(database, PlaintextSealer(), _Digest(), t) for t in ("a", "b")}
        senders = {"a": "628120000601", "b": "628120000602"}
        for tenant, store in stores.items():  # the conversations exist: later ones update
            await store.store(_batch(_text(senders[tenant], f"wamid.{tenant}", T0)), run_at=NOW)

        def delivery(tenant: str, wamid: str, at: int) -> intake._Delivery:
            batch = _batch(_text(senders[tenant], wamid, at))
            return intake._Delivery(tenant, batch, *stores[tenant]._all_params(batch, NOW))

        for i in range(60):
            first = [delivery("a", f"a{i}x", T0 + i), delivery("b", f"b{i}x", T0 + i)]
            second = [delivery("b", f"b{i}y", T0 + i), delivery("a", f"a{i}y", T0 + i)]
            outcomes = await asyncio.gather(
                intake._store_group(database.tenant_bound, first),
                intake._store_group(database.tenant_bound, second),
                return_exceptions=True,
            )
            assert not [o for o in outcomes if isinstance(o, BaseException)], (i, outcomes)
    finally:
        await database.close()


def test_a_closed_database_leaves_no_group_behind() -> None:
    """The shared group is kept per connections object, weakly: a database dropped after
    use (every test makes one) takes its group with it."""
    database = Database("postgresql://postgres@127.0.0.1:5432/postgres")
    intake._shared_group(database.tenant_bound)  # as the first delivery makes it
    held = weakref.ref(database.tenant_bound)
    assert held() in intake._groups
    del database
    gc.collect()
    assert held() is None
