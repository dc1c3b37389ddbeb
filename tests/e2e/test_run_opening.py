"""The run's opening reads (issue 18) on PostgreSQL: read with the burst in one round trip,
they give the stores the same answers as their own reads, need no database afterwards, and
see only the tenant's own rows."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg

from tests.e2e.harness import fresh_database
from wagate.domain.chat import Role
from wagate.pipeline.ports import DueRead, OutboundDraft, ReplyRecord, RunRecord
from wagate.security.sealing import PlaintextSealer, SealContext
from wagate.storage import migrate
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.handover import PostgresHandover
from wagate.storage.outbound import PostgresOutbox
from wagate.storage.roles import ensure_app_role
from wagate.storage.run_opening import SINGLE_ROW_READS
from wagate.storage.sessions import PostgresSessionStore
from wagate.storage.vaults import PostgresVaultStore


class _Digest:
    def digest(self, value: str, *, purpose: str) -> str:
        return f"{purpose}:{value}"


async def _opening(owner_url: str, app_url: str) -> None:
    sealer = PlaintextSealer()
    now = datetime.now(UTC)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        cid = conn.execute(
            "INSERT INTO conversations (tenant, provider, channel_id, contact_key)"
            " VALUES ('alpha', 'meta', 'ch', 'k') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        sid = conn.execute(
            "INSERT INTO sessions (tenant, conversation_id, started_at, last_activity_at)"
            " VALUES ('alpha', %s, %s, %s) RETURNING id",
            (cid, now - timedelta(minutes=3), now - timedelta(minutes=1)),
        ).fetchone()[0]  # type: ignore[index]
        for n, (role, text) in enumerate(
            [("user", "Apa syarat cerai?"), ("assistant", "Syaratnya ..."), ("user", "Biaya?")]
        ):
            key = f"{sid}:run:{n}:{role}"
            sealed = sealer.seal(text.encode(), SealContext(tenant="alpha", table="turns", key=key))
            conn.execute(
                "INSERT INTO turns (tenant, session_id, role, content, run_key)"
                " VALUES ('alpha', %s, %s, %s, %s)",
                (sid, role, sealed, f"run:{n}"),
            )
    database = Database(app_url, pool_size=4)
    await database.open()
    try:
        store = PostgresConversationStore(database, sealer, _Digest(), "alpha")
        sessions = PostgresSessionStore(database, sealer, "alpha")
        vaults = PostgresVaultStore(database, sealer, "alpha")
        handover = PostgresHandover(database, sealer, _Digest(), "alpha")
        await vaults.save(cid, {"entries": [["[NAMA_1]", "Siti"]]})
        await handover.hand_to_human(cid, reason="red:test", now=now)

        burst = await store.load_burst(cid, history=2)
        assert burst is not None and burst.opening is not None
        plain = await store.load_burst(cid)
        assert plain is not None and plain.opening is None  # asked for nothing more
        assert burst.opened("identity") == []  # no contact recorded on it yet
        # Another tenant's job reads nothing of it (row-level security).
        beta = PostgresConversationStore(database, sealer, _Digest(), "beta")
        assert await beta.load_burst(cid, history=2) is None

        idle = timedelta(minutes=30)
        own = await sessions.current(cid, now=now, idle_timeout=idle, history=2)
        own_vault = await vaults.load(cid)
        own_held = await handover.held_by_human(cid, now=now)
        assert own.id == sid and [t.role for t in own.history] == [Role.ASSISTANT, Role.USER]
        assert own_vault == {"entries": [["[NAMA_1]", "Siti"]]} and own_held

        # The single-row reads, joined to the conversation's row, give each store the rows its
        # own statement gives: with a contact and a linked account recorded too.
        with psycopg.connect(owner_url, autocommit=True) as conn:
            account = conn.execute(
                "INSERT INTO accounts (tenant, username, approved, pii, linked_phone)"
                " VALUES ('alpha', 'u', true, '\\x00', 'phone:62811') RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            contact = conn.execute(
                "INSERT INTO contacts (tenant, phone, account_id, consent_state)"
                " VALUES ('alpha', 'phone:62811', %s, 'given') RETURNING id",
                (account,),
            ).fetchone()[0]  # type: ignore[index]
            conn.execute("UPDATE conversations SET contact_id = %s WHERE id = %s", (contact, cid))
        burst = await store.load_burst(cid, history=2)
        assert burst is not None
        params = {"conversation_id": cid, "limit": 2, "session_fresh_since": None}
        for name, (sql, _) in SINGLE_ROW_READS.items():
            assert burst.opened(name) == await database.tenant_rows("alpha", sql, params), name
        assert [r["linked_id"] for r in burst.opened("identity") or []] == [account]
    finally:
        await database.close()

    # The database closed: what was read with the burst answers alone, as the reads did.
    opened = await sessions.current(
        cid, now=now, idle_timeout=idle, history=2, opening=burst.opening
    )
    assert (opened.id, opened.history, opened.disclosed) == (own.id, own.history, own.disclosed)
    assert await vaults.load(cid, opening=burst.opening) == own_vault
    assert await handover.held_by_human(cid, now=now, opening=burst.opening) is True
    # A gateway's hold never lapses; what the opening read is judged at the time asked.
    later = now + timedelta(days=3)
    assert await handover.held_by_human(cid, now=later, opening=burst.opening) is True


def test_the_opening_reads_answer_as_the_stores_do_and_stay_in_the_tenant() -> None:
    with fresh_database() as owner_url:
        migrate.upgrade(owner_url)
        app_url = ensure_app_role(owner_url, password="opening-test-password")
        asyncio.run(_opening(owner_url, app_url))


async def _new_session(owner_url: str, app_url: str) -> None:
    """A new session's id is drawn with the burst when the latest session has expired; the
    run's finish stores it (with its turns), once however often the run is retried."""
    sealer = PlaintextSealer()
    now = datetime.now(UTC)
    idle = timedelta(minutes=30)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        cid = conn.execute(
            "INSERT INTO conversations (tenant, provider, channel_id, contact_key)"
            " VALUES ('alpha', 'meta', 'ch', 'k2') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
    database = Database(app_url, pool_size=4)
    await database.open()
    try:
        outbox = PostgresOutbox(database, sealer, _Digest(), "alpha")  # type: ignore[arg-type]
        store = PostgresConversationStore(database, sealer, _Digest(), "alpha", outbox=outbox)
        sessions = PostgresSessionStore(database, sealer, "alpha")

        async def opened(at: datetime) -> tuple[list[int], object]:
            burst = await store.load_burst(cid, history=2, session_fresh_since=at - idle)
            assert burst is not None and burst.opening is not None
            return [r["id"] for r in burst.opened("new_session") or []], burst.opening

        drawn, opening = await opened(now)  # no session yet: an id is drawn
        assert len(drawn) == 1
        assert (await store.load_burst(cid, history=2)).opened("new_session") == []  # type: ignore[union-attr]
        session = await sessions.current(
            cid,
            now=now,
            idle_timeout=idle,
            history=2,
            opening=opening,  # type: ignore[arg-type]
        )
        assert (session.id, session.history, session.opened_at) == (drawn[0], [], now)

        def stored() -> list[tuple[int, datetime, datetime]]:
            with psycopg.connect(owner_url) as conn:
                return conn.execute(
                    "SELECT id, started_at, last_activity_at FROM sessions"
                    " WHERE conversation_id = %s ORDER BY id",
                    (cid,),
                ).fetchall()

        assert stored() == []  # not stored until something refers to it
        finished = now + timedelta(seconds=2)
        record = ReplyRecord(
            run=RunRecord(
                conversation_id=cid,
                message_ids=[],
                started_at=now,
                finished_at=finished,
                last_message_id=None,
                marked_read=False,
                outcome="answered",
            ),
            run_key="run:new:1",
            recipient="62811",
            drafts=[
                OutboundDraft(idempotency_key="run:new:1:reply:0", text="Halo juga.", kind="reply")
            ],
            session_id=session.id,
            session_opened_at=session.opened_at,
            user_turn="Halo?",
            assistant_turn="Halo juga.",
        )
        read = DueRead(conversation_id=cid, recent_since=now - idle, screen=None)
        await store.finish(replace(record, due_read=read))
        # The delivery's opening read, carried by the finish: what `due` reads after it.
        alone = await outbox.due(cid, recent_since=now - idle)
        assert read.found is not None and read.found.messages
        assert read.found == alone
        await store.finish(record)  # a retried run: the same session, the same turns
        assert stored() == [(session.id, now, finished)]
        again = await sessions.current(cid, now=finished, idle_timeout=idle, history=2)
        assert again.id == session.id and [t.content for t in again.history] == [
            "Halo?",
            "Halo juga.",
        ]
        assert again.opened_at is None

        # Still fresh: no id drawn, the session goes on. Expired: a new, larger id.
        assert (await opened(finished + timedelta(minutes=1)))[0] == []
        later, _ = await opened(finished + idle)
        assert len(later) == 1 and later[0] > session.id
    finally:
        await database.close()


def test_a_new_session_is_drawn_with_the_burst_and_stored_by_the_finish() -> None:
    with fresh_database() as owner_url:
        migrate.upgrade(owner_url)
        app_url = ensure_app_role(owner_url, password="opening-test-password")
        asyncio.run(_new_session(owner_url, app_url))
