"""The delivery's opening read on a real PostgreSQL (issue 18): `PostgresOutbox.due` returns in
one statement what three reads returned before (the pending messages, the pair's recent sends
for pacing, the channel's breaker state), with the same answers, and only the tenant's rows;
asked to screen a number, the opt-out check's answer for it too, as `OptOuts.refusal` gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.harness import fresh_database
from wagate.domain.breaker import ChannelHealth, ChannelState
from wagate.domain.messages import Provider
from wagate.security.keyfile_sealer import FixedKeyring
from wagate.security.keys import Keyring
from wagate.storage import blind, migrate
from wagate.storage.database import Database
from wagate.storage.outbound import PostgresOutbox
from wagate.storage.provider_health import PostgresChannelHealth
from wagate.storage.recipients import OptOuts
from wagate.storage.roles import ensure_app_role
from wagate.storage.tenant_keys import TenantKeys

pytestmark = pytest.mark.e2e

MASTERS = Keyring.parse("m1:" + "B" * 43)
T0 = datetime.now(UTC).replace(microsecond=0)
TENANTS = ("firm-a", "firm-b")


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    with fresh_database() as owner_url:
        migrate.upgrade(owner_url)
        with psycopg.connect(owner_url, autocommit=True) as conn:
            for tenant in TENANTS:
                conn.execute(
                    "INSERT INTO tenants (id, name, created_at, updated_at) "
                    "VALUES (%s, %s, now(), now())",
                    (tenant, tenant),
                )
        yield owner_url, ensure_app_role(owner_url, password="outbox-due-password")


@pytest.fixture
async def outboxes(urls: tuple[str, str]) -> AsyncIterator[dict[str, PostgresOutbox]]:
    database = Database(urls[1], pool_size=3)
    await database.open()
    keys = TenantKeys(database, FixedKeyring(MASTERS), master_indexed=set())
    await keys.load()
    for tenant in TENANTS:
        await keys.ensure(tenant)
    yield {
        tenant: PostgresOutbox(
            database,
            keys.sealer,
            keys.indexer_for(tenant),
            tenant,
            opt_outs=OptOuts(database, keys.indexer_for(tenant), tenant),
        )
        for tenant in TENANTS
    }
    await database.close()


async def _queue(outbox: PostgresOutbox, target: str, key: str) -> tuple[int, int]:
    message_id, conversation_id = await outbox.enqueue(
        provider=Provider.META,
        channel_id="ch-1",
        target=target,
        text=f"text {key}",
        key=key,
        kind="operator",
        run_at=T0,
    )
    assert message_id is not None
    return message_id, conversation_id


async def test_due_reads_messages_recent_sends_and_health_as_the_separate_reads_did(
    outboxes: dict[str, PostgresOutbox], urls: tuple[str, str]
) -> None:
    outbox = outboxes["firm-a"]
    first, conversation = await _queue(outbox, "6281234500001", "due-1")
    second, same = await _queue(outbox, "6281234500001", "due-2")
    assert same == conversation

    # Nothing sent, no health row: both messages, no recent sends, a healthy channel.
    due = await outbox.due(conversation, recent_since=T0 - timedelta(minutes=1))
    assert [m.id for m in due.messages] == [first, second]
    assert [m.text for m in due.messages] == ["text due-1", "text due-2"]
    assert due.recent == []
    assert due.health == ChannelHealth()

    # The first goes out: it leaves `pending`, its attempt counts as a recent send.
    sent_at = T0 + timedelta(seconds=1)
    await outbox.start_attempt(first, at=sent_at)
    await outbox.accepted(first, provider_message_id="wamid.due-1", at=sent_at)
    # The channel's breaker has a stored state.
    health = PostgresChannelHealth(outbox._database, "firm-a")
    await health.change(
        Provider.META,
        "ch-1",
        lambda h: ChannelHealth(state=ChannelState.OPEN, failures=3, trips=1, reason="down"),
    )

    due = await outbox.due(conversation, recent_since=T0)
    assert [m.id for m in due.messages] == [second]
    assert due.recent == await outbox.recent_sends(conversation, since=T0) == [sent_at]
    assert due.health == await health.load(Provider.META, "ch-1")
    assert due.health is not None and due.health.state is ChannelState.OPEN
    assert due.health.failures == 3
    # Sends before `recent_since` are not recent; no pacing asks for none at all.
    assert (
        await outbox.due(conversation, recent_since=sent_at + timedelta(seconds=1))
    ).recent == []
    assert (await outbox.due(conversation, recent_since=None)).recent is None
    assert [m.id for m in (await outbox.pending(conversation))] == [second]

    # Another tenant sees none of it.
    other = await outboxes["firm-b"].due(conversation, recent_since=T0)
    assert other.messages == []


async def test_an_unreadable_message_becomes_a_dead_letter_and_is_not_returned(
    outboxes: dict[str, PostgresOutbox], urls: tuple[str, str]
) -> None:
    outbox = outboxes["firm-a"]
    broken, conversation = await _queue(outbox, "6281234500002", "due-broken")
    fine, _ = await _queue(outbox, "6281234500002", "due-fine")
    with psycopg.connect(urls[0], autocommit=True) as conn:
        conn.execute(
            "UPDATE outbound_messages SET content = 'garbage'::bytea WHERE id = %s", (broken,)
        )
        due = await outbox.due(conversation, recent_since=None)
        assert [m.id for m in due.messages] == [fine]
        row = conn.execute(
            "SELECT status, error_code FROM outbound_messages WHERE id = %s", (broken,)
        ).fetchone()
    assert row == ("failed", "unreadable")


async def test_due_screens_a_number_as_the_opt_out_check_does(
    outboxes: dict[str, PostgresOutbox], urls: tuple[str, str]
) -> None:
    outbox = outboxes["firm-a"]
    number = "6281234500077"
    _, conversation = await _queue(outbox, number, "screen-1")
    opt_outs = outbox._opt_outs
    assert opt_outs is not None

    async def both() -> tuple[dict[str, str | None], str | None]:
        due = await outbox.due(conversation, recent_since=None, screen=number)
        return dict(due.screened), await opt_outs.refusal(number)

    assert await both() == ({number: None}, None)  # no contact with that number
    # Not screened unless asked.
    assert (await outbox.due(conversation, recent_since=None)).screened == {}
    digest = opt_outs._indexer.digest(number, purpose=blind.PHONE)
    with psycopg.connect(urls[0], autocommit=True) as conn:
        [(contact,)] = conn.execute(
            "INSERT INTO contacts (tenant, phone) VALUES ('firm-a', %s) RETURNING id", (digest,)
        ).fetchall()
        assert await both() == ({number: None}, None)  # a contact who did not opt out
        conn.execute("UPDATE contacts SET consent_state = 'withdrawn' WHERE id = %s", (contact,))
        assert await both() == ({number: "opted_out"}, "opted_out")
        # Another tenant's contact with that digest is not this tenant's opt-out.
        conn.execute("UPDATE contacts SET tenant = 'firm-b' WHERE id = %s", (contact,))
        assert await both() == ({number: None}, None)
