"""Take-over by a human (issue 14, items 4 and 6, and the Check's take-over line) and the
on-duty alert mail (item 2's e-mail), over real HTTP, real processes, real PostgreSQL, the fake
Graph API, the fake AI endpoint and a real SMTP server (aiosmtpd).

A taken conversation gets no AI answer (the fake AI endpoint is not called); the human's
reply goes through the same delivery and reaches the fake Graph API exactly once, without AI
disclosure or disclaimer; after release the AI answers again; a hold lapses after
TAKEOVER_IDLE_MINUTES; a reply to a contact who opted out is a 409; an alert raised twice
reaches the SMTP server once per address, and the worker's sweep sends what failed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.e2e.faults import Mailbox
from tests.e2e.harness import (
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    fresh_database,
    gateway_on_fresh_database,
    wagate,
    wait_until,
)
from wagate.fakes.payloads import meta_text
from wagate.notify.smtp import SmtpMailer
from wagate.pipeline.ports import StaffAlert
from wagate.pipeline.staff_alerts import MailedStaffAlerts
from wagate.security.sealing import PlaintextSealer
from wagate.storage import migrate
from wagate.storage.database import Database
from wagate.storage.handover import PostgresHandover
from wagate.storage.roles import ensure_app_role
from wagate.storage.staff_alerts import PostgresAlertStore


class _Digest:
    def digest(self, value: str, *, purpose: str) -> str:
        return f"{purpose}:{value}"


HUMAN_TEXT = "Halo, saya Ani dari kantor hukum. Kami akan menelepon Anda pukul 10."


def _say(gateway: Gateway, sender: str, text: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
    assert gateway.post_meta(payload).status_code == 200


def _runs(url: str, conversation_id: int) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT outcome FROM conversation_runs WHERE conversation_id = %s ORDER BY id",
            (conversation_id,),
        ).fetchall()
    return [row[0] for row in rows]


def _cli(
    gateway: Gateway, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return wagate(*args, env=gateway.env, stdin=stdin)


def _metric(gateway: Gateway, line_start: str) -> float:
    response = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    response.raise_for_status()
    for line in response.text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {line_start!r} in:\n{response.text}")


def test_take_over_pauses_the_ai_and_the_human_reply_is_delivered_once(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai) as (gateway, url):
        _say(gateway, sender, "berapa biaya konsultasi?")
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 1, timeout=30)
        conversation = gateway.conversation_for(sender)
        assert conversation is not None
        cid = int(conversation["id"])

        taken = gateway.api_post(f"/api/conversations/{cid}/take", None)
        assert taken.status_code == 200, taken.text
        assert taken.json()["heldBy"] == "operator:api"
        held = gateway.api("/api/conversations", held="true")["items"]
        assert [h["conversationId"] for h in held] == [cid]
        assert _metric(gateway, 'wagate_conversations_held{tenant="default"}') == 1.0

        # The next message is recorded for the human, not answered: the AI is not called.
        ai_calls = len(fake_ai.requests("chat"))
        _say(gateway, sender, "tolong, saya butuh bicara dengan pengacara")
        wait_until(lambda: _runs(url, cid)[-1:] == ["held_by_human"], timeout=30)
        assert len(fake_ai.requests("chat")) == ai_calls
        assert len(fake_meta.texts_to(sender)) == 1

        # The human's reply, sent twice with one key: delivered once, as written.
        for _ in range(2):
            replied = gateway.api_post(
                f"/api/conversations/{cid}/reply", {"text": HUMAN_TEXT}, **{"Idempotency-Key": "r1"}
            )
            assert replied.status_code == 202, replied.text
        assert replied.json()["queued"] == 0  # the second was a replay
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 2, timeout=30)
        time.sleep(2)  # nothing else follows
        assert fake_meta.texts_to(sender)[1] == HUMAN_TEXT  # no disclosure, no disclaimer
        assert len(fake_meta.texts_to(sender)) == 2

        # The command line sees the same hold; a reply from stdin goes out too.
        listed = _cli(gateway, "conversations", "held", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [h["conversationId"] for h in json.loads(listed.stdout)] == [cid]
        by_cli = _cli(gateway, "conversations", "reply", str(cid), stdin="Sampai nanti.\n")
        assert by_cli.returncode == 0, by_cli.stderr
        wait_until(lambda: fake_meta.texts_to(sender)[2:] == ["Sampai nanti."], timeout=30)

        released = gateway.api_post(f"/api/conversations/{cid}/release", None)
        assert released.status_code == 200, released.text
        assert gateway.api_post(f"/api/conversations/{cid}/release", None).status_code == 409
        assert gateway.api("/api/conversations", held="true")["items"] == []

        _say(gateway, sender, "terima kasih, satu pertanyaan lagi: berapa lama prosesnya?")
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 4, timeout=30)
        assert len(fake_ai.requests("chat")) == ai_calls + 1
        assert "ECHO" in fake_meta.texts_to(sender)[3]

        # Bad requests get clear errors.
        assert gateway.api_post("/api/conversations/999999/take", None).status_code == 404
        empty = gateway.api_post(f"/api/conversations/{cid}/reply", {"text": "   "})
        assert empty.status_code == 422
        missing = _cli(gateway, "conversations", "take", "999999")
        assert missing.returncode == 1 and "no conversation" in missing.stderr

        with psycopg.connect(url) as conn:
            audit = conn.execute(
                "SELECT action, actor FROM audit_log WHERE action LIKE 'conversation.%%' "
                "ORDER BY seq"
            ).fetchall()
            kinds = conn.execute(
                "SELECT kind, count(*) FROM outbound_messages WHERE conversation_id = %s "
                "GROUP BY kind ORDER BY kind",
                (cid,),
            ).fetchall()
        assert audit == [
            ("conversation.taken", "operator:api"),
            ("conversation.replied", "operator:api"),
            ("conversation.replied", "operator:api"),
            ("conversation.replied", "operator:cli"),
            ("conversation.released", "operator:api"),
        ]
        assert dict(kinds)["human"] == 2


def test_a_hold_lapses_after_the_idle_time_and_an_opted_out_contact_gets_no_reply(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai, TAKEOVER_IDLE_MINUTES="0.1") as (
        gateway,
        url,
    ):
        _say(gateway, sender, "halo, jam berapa kantor buka?")
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 1, timeout=30)
        conversation = gateway.conversation_for(sender)
        assert conversation is not None
        cid = int(conversation["id"])
        assert gateway.api_post(f"/api/conversations/{cid}/take", None).status_code == 200
        time.sleep(7)  # the taker is idle past 6 s: the AI answers again
        assert gateway.api("/api/conversations", held="true")["items"] == []
        ai_calls = len(fake_ai.requests("chat"))
        _say(gateway, sender, "halo? ada orang?")
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 2, timeout=30)
        assert len(fake_ai.requests("chat")) == ai_calls + 1
        assert _runs(url, cid)[-1] == "answered"

        _say(gateway, sender, "BERHENTI")
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 3, timeout=30)
        refused = gateway.api_post(f"/api/conversations/{cid}/reply", {"text": "Halo?"})
        assert refused.status_code == 409 and "opted out" in refused.json()["detail"]
        time.sleep(2)
        assert len(fake_meta.texts_to(sender)) == 3
        with psycopg.connect(url) as conn:
            [(details,)] = conn.execute(
                "SELECT details::text FROM audit_log WHERE action = 'operator.refused_opted_out'"
            ).fetchall()
        assert '"path": "human"' in details and sender not in details


async def _raise_twice(owner_url: str, mailbox: Mailbox, addresses: tuple[str, ...]) -> None:
    """What a red run does (the triage step raises the alert; a retried run raises it again),
    against the gateway's own database and the real SMTP server."""
    database = Database(owner_url, pool_size=2)
    await database.open()
    try:
        alerts = MailedStaffAlerts(
            store=PostgresAlertStore(database, "default"),
            mailer=SmtpMailer(
                host="127.0.0.1", port=mailbox.port, sender="gateway@example.test", starttls=False
            ),
            addresses=addresses,
            tenant="default",
            clock=lambda: datetime.now(UTC),
            public_url="https://wagate.firma.test",
        )
        alert = StaffAlert(
            kind="urgent", key="urgent:7:run:7:1", conversation_id=7, summary="rule: kekerasan"
        )
        await alerts.alert(alert)
        await alerts.alert(alert)
    finally:
        await database.close()


def test_an_alert_reaches_the_smtp_server_once_and_the_sweep_sends_what_failed(
    workdir: Path, fake_meta: FakePeer
) -> None:
    staff = ("jaga@firma.test", "ani@firma.test")
    with (
        Mailbox(refuse_first=1) as mailbox,
        gateway_on_fresh_database(
            workdir,
            fake_meta,
            URGENT_NOTIFY_EMAILS=",".join(staff),
            PUBLIC_URL="https://wagate.firma.test",
            **mailbox.settings(),
        ) as (gateway, url),
    ):
        asyncio.run(_raise_twice(url, mailbox, staff))
        # The first mail was refused for now (451); raised twice, the other went once.
        assert [rcpt for rcpt, _ in mailbox.messages] == [[staff[1]]]
        with psycopg.connect(url, autocommit=True) as conn:
            # Skip the 30 s pause before the retry: the worker's sweep (every 2 s) takes it.
            conn.execute("UPDATE staff_alerts SET next_attempt_at = now()")
        wait_until(lambda: len(mailbox.messages) == 2, timeout=30)
        time.sleep(5)  # more sweeps: nothing is sent again
        assert sorted(rcpt[0] for rcpt, _ in mailbox.messages) == sorted(staff)
        assert mailbox.resent() == 1  # one Message-ID for the alert, to both addresses
        body = mailbox.texts()[0]
        assert "Percakapan: 7" in body
        assert "https://wagate.firma.test/console/conversations/7" in body
        with psycopg.connect(url) as conn:
            [(sent_at, attempts, failures, delivered)] = conn.execute(
                "SELECT sent_at, attempts, failures, delivered_to FROM staff_alerts"
            ).fetchall()
        assert sent_at is not None and attempts == 2 and failures == 1
        assert sorted(delivered) == sorted(staff)
        assert _metric(gateway, 'wagate_staff_alerts_total{outcome="sent",tenant="default"}') == 2
        assert _metric(gateway, 'wagate_staff_alerts_total{outcome="failed",tenant="default"}') == 1


def test_without_smtp_an_alert_is_counted_undeliverable(workdir: Path, fake_meta: FakePeer) -> None:
    with gateway_on_fresh_database(workdir, fake_meta) as (gateway, url):

        async def raise_once() -> None:
            database = Database(url, pool_size=2)
            await database.open()
            try:
                alerts = MailedStaffAlerts(
                    store=PostgresAlertStore(database, "default"),
                    mailer=None,
                    addresses=("jaga@firma.test",),
                    tenant="default",
                    clock=lambda: datetime.now(UTC),
                )
                await alerts.alert(
                    StaffAlert(kind="urgent", key="k1", conversation_id=1, summary="s")
                )
            finally:
                await database.close()

        asyncio.run(raise_once())
        assert (
            _metric(gateway, 'wagate_staff_alerts_total{outcome="undeliverable",tenant="default"}')
            == 1
        )
        response: Any = httpx.get(f"{gateway.url}/api/health", timeout=5)
        assert response.status_code == 200


# ---------------------------------------------------------------- storage on PostgreSQL


async def _holds_on_postgresql(owner_url: str, app_url: str) -> None:
    with psycopg.connect(owner_url, autocommit=True) as conn:
        ids = {
            tenant: conn.execute(
                "INSERT INTO conversations (tenant, provider, channel_id, contact_key)"
                " VALUES (%s, 'meta', 'ch', 'k') RETURNING id",
                (tenant,),
            ).fetchone()[0]  # type: ignore[index]
            for tenant in ("alpha", "beta")
        }
    database = Database(app_url, pool_size=6)
    await database.open()
    try:
        idle = timedelta(minutes=60)
        alpha = PostgresHandover(database, PlaintextSealer(), _Digest(), "alpha", idle=idle)
        beta = PostgresHandover(database, PlaintextSealer(), _Digest(), "beta", idle=idle)
        cid, now = ids["alpha"], datetime.now(UTC)

        # A red hand-off raised twice (a retried run) is one hold, the gateway's.
        await alpha.hand_to_human(cid, reason="red", now=now)
        await alpha.hand_to_human(cid, reason="red", now=now)
        assert [h.held_by for h in await alpha.held(now=now)] == ["gateway"]
        assert await alpha.held_by_human(cid, now=now + timedelta(days=3))  # never lapses
        assert await beta.held(now=now) == []  # row-level security: alpha's only

        # Five people take it at once: one open hold, the last taker's, the others recorded
        # as having held it before.
        results = await asyncio.gather(
            *(
                alpha.take(cid, held_by=f"user:{n}:console", reason="taken", now=now)
                for n in range(5)
            )
        )
        befores = sorted(str(before) for _, before in results)
        assert befores[0] == "gateway" and len(set(befores)) == 5
        open_holds = await alpha.held(now=now)
        assert len(open_holds) == 1 and open_holds[0].held_by.startswith("user:")

        # Idle: a human's hold lapses; the next take closes it as idle and opens a new one.
        later = now + idle
        assert not await alpha.held_by_human(cid, now=later)
        assert await alpha.release(cid, by="user:9:console", now=later) is None
        await alpha.take(cid, held_by="user:9:console", reason="taken", now=later)
        # The same person taking it again keeps when they took it; it counts as activity.
        again, before = await alpha.take(
            cid, held_by="user:9:console", reason="taken", now=later + timedelta(minutes=5)
        )
        assert before == "user:9:console" and again.taken_at == later
        assert again.last_human_at == later + timedelta(minutes=5)
        await alpha.touch(cid, now=later + timedelta(minutes=59))
        assert await alpha.held_by_human(cid, now=later + timedelta(minutes=118))
        released = await alpha.release(cid, by="user:9:console", now=later + timedelta(hours=1))
        assert released is not None and released.released_by == "user:9:console"
        assert not await alpha.held_by_human(cid, now=later + timedelta(hours=1))
        with psycopg.connect(owner_url) as conn:
            closed = conn.execute(
                "SELECT released_by FROM conversation_holds WHERE tenant = 'alpha' ORDER BY id"
            ).fetchall()
        assert [row[0] for row in closed] == ["idle", "user:9:console"]
    finally:
        await database.close()


def test_holds_on_postgresql_are_one_per_conversation_tenant_scoped_and_lapse() -> None:
    with fresh_database() as owner_url:
        migrate.upgrade(owner_url)
        app_url = ensure_app_role(owner_url, password="takeover-test-password")
        asyncio.run(_holds_on_postgresql(owner_url, app_url))


def test_migration_0014_goes_down_and_up_again() -> None:
    with fresh_database() as owner_url:
        migrate.upgrade(owner_url)

        def tables() -> set[str]:
            with psycopg.connect(owner_url) as conn:
                rows = conn.execute(
                    "SELECT relname FROM pg_class WHERE relrowsecurity"
                    " AND relname IN ('conversation_holds', 'staff_alerts')"
                ).fetchall()
            return {row[0] for row in rows}

        assert tables() == {"conversation_holds", "staff_alerts"}
        migrate.downgrade(owner_url, "0010_knowledge_search_scope")
        assert tables() == set()
        migrate.upgrade(owner_url)
        assert tables() == {"conversation_holds", "staff_alerts"}
        assert migrate.current_revision(owner_url) == migrate.head_revision()
