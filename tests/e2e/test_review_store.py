"""Review drafts on a real PostgreSQL (migration 0013), through the non-owner app role as the
gateway uses them: sealed at rest, one per run key, decided once with their outbound rows, the
session's turn and the delivery job in one transaction, escalated once per kind, and invisible
to another tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.harness import fresh_database
from wagate.domain.review import DraftStatus, NewDraft, Source
from wagate.domain.zones import Zone
from wagate.pipeline.operator.reviews import Decided
from wagate.pipeline.ports import OutboundDraft
from wagate.pipeline.review_escalation import ReviewEscalation
from wagate.security.keyfile_sealer import FixedKeyring
from wagate.security.keys import Keyring
from wagate.storage import migrate
from wagate.storage.database import Database
from wagate.storage.reviews import PostgresReviewDrafts
from wagate.storage.roles import ensure_app_role
from wagate.storage.tenant_keys import TenantKeys
from wagate.testing import Clock, MemoryAlerts

MASTERS = Keyring.parse("m1:" + "A" * 43)
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    with fresh_database() as owner_url:
        migrate.upgrade(owner_url)
        with psycopg.connect(owner_url, autocommit=True) as conn:
            for tenant in ("firm-a", "firm-b"):
                conn.execute(
                    "INSERT INTO tenants (id, name, created_at, updated_at) "
                    "VALUES (%s, %s, now(), now())",
                    (tenant, tenant),
                )
        yield owner_url, ensure_app_role(owner_url, password="review-test-password")


@pytest.fixture
async def stores(urls: tuple[str, str]) -> AsyncIterator[tuple[Database, TenantKeys]]:
    database = Database(urls[1], pool_size=3)
    await database.open()
    keys = TenantKeys(database, FixedKeyring(MASTERS), master_indexed=set())
    await keys.load()
    for tenant in ("firm-a", "firm-b"):
        await keys.ensure(tenant)
    yield database, keys
    await database.close()


def _conversation(owner_url: str, contact: str, *, last_inbound: datetime) -> tuple[int, int]:
    with psycopg.connect(owner_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO conversations (tenant, provider, channel_id, contact_key, "
            "last_inbound_at) VALUES ('firm-a', 'meta', 'ch', %s, %s) RETURNING id",
            (contact, last_inbound),
        ).fetchone()
        assert row is not None
        session = conn.execute(
            "INSERT INTO sessions (tenant, conversation_id) VALUES ('firm-a', %s) RETURNING id",
            (row[0],),
        ).fetchone()
        assert session is not None
        return int(row[0]), int(session[0])


def _draft(conversation: int, session: int, run_key: str, text: str) -> NewDraft:
    return NewDraft(
        conversation_id=conversation,
        run_key=run_key,
        zone=Zone.YELLOW,
        rules=("own_case",),
        question="Saya [NAMA_1], bagaimana cerai?",
        text=text,
        sources=(Source(document_id=3, title="Panduan Cerai", section="Gugatan"),),
        created_at=T0,
        deadline=T0 + timedelta(minutes=30),
        session_id=session,
    )


async def test_a_draft_is_sealed_kept_once_decided_once_with_its_rows_turn_and_job(
    urls: tuple[str, str], stores: tuple[Database, TenantKeys]
) -> None:
    owner_url, _ = urls
    database, keys = stores
    store = PostgresReviewDrafts(database, keys.sealer, keys.indexer_for("firm-a"), "firm-a")
    conversation, session = _conversation(owner_url, "6281100000001", last_inbound=T0)
    first = await store.keep(_draft(conversation, session, "run:x:1", "Draf rahasia pertama."))
    again = await store.keep(_draft(conversation, session, "run:x:1", "Draf kedua."))
    assert again == first
    shown = await store.show(first)
    assert shown is not None
    assert shown["draft"] == "Draf rahasia pertama." and shown["status"] == "pending"
    assert shown["sources"] == [{"document": 3, "title": "Panduan Cerai", "section": "Gugatan"}]
    assert shown["windowClosesAt"] == T0 + timedelta(hours=24)
    with psycopg.connect(owner_url) as conn:
        raw = conn.execute("SELECT draft, question FROM review_drafts").fetchall()
    assert b"rahasia" not in b"".join(bytes(c) for r in raw for c in r)

    decided = Decided(
        draft_id=first,
        status=DraftStatus.APPROVED,
        by="user:7:api",
        at=T0 + timedelta(minutes=5),
        final_text="Jawaban [NAMA_1].",
        edited=True,
        messages=[
            OutboundDraft(
                idempotency_key=f"review:{first}:reply:0", text="Jawaban Budi.", kind="reply"
            )
        ],
        history_text="Jawaban Budi.",
    )
    assert await store.decide(decided)
    assert not await store.decide(decided)  # decided once
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, status FROM outbound_messages WHERE conversation_id = %s",
            (conversation,),
        ).fetchall()
        jobs = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE lock = %s",
            (f"conversation:{conversation}",),
        ).fetchone()
        turns = conn.execute(
            "SELECT role, run_key FROM turns WHERE session_id = %s", (session,)
        ).fetchall()
    assert rows == [(f"review:{first}:reply:0", "pending")]
    assert jobs == (1,)
    assert turns == [("assistant", "run:x:1")]
    shown = await store.show(first)
    assert shown is not None
    assert shown["status"] == "approved" and shown["finalText"] == "Jawaban [NAMA_1]."
    assert shown["decidedBy"] == "user:7:api" and shown["edited"] is True
    with psycopg.connect(owner_url, autocommit=True) as conn:  # the provider accepted it
        conn.execute("UPDATE outbound_messages SET status = 'delivered'")
    assert [d["status"] for d in await store.listing(status="sent")] == ["sent"]
    figures = await store.figures()
    assert figures["approval_seconds"] == [300.0]
    # Another tenant sees none of it.
    other = PostgresReviewDrafts(database, keys.sealer, keys.indexer_for("firm-b"), "firm-b")
    assert await other.show(first) is None and await other.listing(status=None) == []


async def test_pending_drafts_are_escalated_once_per_kind_and_stay_pending(
    urls: tuple[str, str], stores: tuple[Database, TenantKeys]
) -> None:
    owner_url, _ = urls
    database, keys = stores
    store = PostgresReviewDrafts(database, keys.sealer, keys.indexer_for("firm-a"), "firm-a")
    closing = T0 - timedelta(hours=23, minutes=30)
    conversation, session = _conversation(owner_url, "6281100000002", last_inbound=closing)
    draft_id = await store.keep(_draft(conversation, session, "run:y:1", "Draf."))
    alerts = MemoryAlerts()
    clock = Clock(T0 + timedelta(minutes=26))
    sweep = ReviewEscalation(drafts=store, alerts=alerts, clock=clock)
    assert await sweep.sweep() == 2
    assert await sweep.sweep() == 0
    assert sorted(a.key for a in alerts.alerts) == [
        f"review_due:review:{draft_id}",
        f"window_closing:review:{draft_id}",
    ]
    shown = await store.show(draft_id)
    assert shown is not None
    assert shown["status"] == "pending" and shown["escalated"] == ["review_due", "window_closing"]
    assert (await store.figures())["escalations"] == 2


async def test_a_draft_of_a_new_session_stores_the_session_with_it(
    urls: tuple[str, str], stores: tuple[Database, TenantKeys]
) -> None:
    """Issue 18: a run's new session is stored by the first transaction that refers to it;
    when the answer is held, that is the draft's."""
    owner_url, _ = urls
    database, keys = stores
    store = PostgresReviewDrafts(database, keys.sealer, keys.indexer_for("firm-a"), "firm-a")
    conversation, _ = _conversation(owner_url, "6281100000077", last_inbound=T0)
    [row] = await database.tenant_rows(
        "firm-a", "SELECT nextval(pg_get_serial_sequence('sessions', 'id')) AS id", {}
    )
    new_id = int(row["id"])
    draft = replace(
        _draft(conversation, new_id, "run:new-session:1", "Draf."), session_opened_at=T0
    )
    first = await store.keep(draft)
    assert await store.keep(draft) == first  # retried: the same draft, the session once
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "SELECT s.id, s.started_at FROM review_drafts d JOIN sessions s ON s.id = d.session_id"
            " WHERE d.id = %s",
            (first,),
        ).fetchall()
    assert rows == [(new_id, T0)]
