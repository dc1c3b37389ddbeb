"""Reliability features end to end (OU3, OU5, OU7): a refused token degrades the channel and
`wagate tenants set-token` resumes it; a provider outage opens the breaker, visible in status
and metrics, and the queue drains once it ends; a burst that keeps failing is dead-lettered and
replayed. Each message is counted: answered once, never twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.faults import Mailbox
from tests.e2e.harness import (
    ACCESS_TOKEN,
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    gateway_on_fresh_database,
    tag,
    wagate,
    wait_until,
)
from wagate.fakes.payloads import meta_status, meta_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_meta(workdir: Path) -> Iterator[FakePeer]:
    """A Graph API of this test's own: these tests change which token it accepts."""
    peer = FakePeer("meta", workdir, "--access-token", ACCESS_TOKEN)
    yield peer
    peer.stop()


def _answers(fake: FakePeer, number: str, marker: str) -> list[dict[str, Any]]:
    return [
        r
        for r in fake.requests("send")
        if r["body"].get("to") == number
        and "wamid" in r
        and marker in r["body"].get("text", {}).get("body", "")
    ]


def _ask(gateway: Gateway, number: str, text: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=number, text=text)
    assert gateway.post_meta(payload).status_code == 200


def _channel(gateway: Gateway) -> dict[str, Any]:
    [meta] = [c for c in gateway.api("/api/whatsapp/status")["channels"] if c["provider"] == "meta"]
    return meta


def _metrics(gateway: Gateway) -> str:
    response = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    response.raise_for_status()
    return response.text


def test_refused_token_pauses_sends_and_set_token_resumes_them_once(
    workdir: Path, own_meta: FakePeer, fake_ai: FakePeer
) -> None:
    with gateway_on_fresh_database(
        workdir, own_meta, fake_ai, DEGRADED_PROBE_SECONDS="2", SEND_ATTEMPTS="2"
    ) as (gateway, _):
        assert gateway.http.get("/metrics").status_code == 401  # behind the API token
        # The token expires at Meta: every send is refused with 190.
        httpx.post(f"{own_meta.url}/_fake/token", json={"access_token": "rotated-token"})
        numbers = [f"62812700000{i:02d}" for i in range(3)]
        for number in numbers:
            _ask(gateway, number, f"pertanyaan {tag(number)}")

        wait_until(lambda: _channel(gateway)["state"] == "degraded", timeout=30)
        health = gateway.http.get("/api/health").json()
        assert health["status"] == "degraded"
        assert health["pausedChannels"][0]["state"] == "degraded"
        assert "wagate_channel_degraded" in _metrics(gateway)
        assert (
            'wagate_channel_degraded{channel="200000000000001",provider="meta",tenant="default"}'
            " 1.0" in (_metrics(gateway))
        )
        # Several probe periods (2 s) pass with SEND_ATTEMPTS=2: the token check keeps saying
        # no, nothing is failed or lost, and the messages keep waiting.
        time.sleep(6)
        assert gateway.api("/api/dead-letters")["items"] == []
        assert _channel(gateway)["state"] == "degraded"
        for number in numbers:
            assert _answers(own_meta, number, tag(number)) == []

        # The operator replaces the token; every process picks it up from the database.
        result = wagate(
            "tenants", "set-token", "meta", stdin="rotated-token\n", env=gateway.env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert "rotated-token" not in result.stdout + result.stderr
        for number in numbers:
            wait_until(lambda n=number: _answers(own_meta, n, tag(n)), timeout=30)
        assert _channel(gateway)["state"] == "closed"
        assert gateway.http.get("/api/health").json()["status"] == "ok"
        for number in numbers:
            assert len(_answers(own_meta, number, tag(number))) == 1
        assert "rotated-token" not in gateway.log()


def test_provider_outage_opens_the_breaker_and_the_queue_drains_after_it(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer
) -> None:
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        fake_ai,
        BREAKER_FAILURES="3",
        BREAKER_COOLDOWN_SECONDS="2",
        SEND_ATTEMPTS="30",
    ) as (gateway, _):
        fake_meta.fail(kind="send", code=131000, http_status=500, times=6)
        numbers = [f"62812710000{i:02d}" for i in range(5)]
        for number in numbers:
            _ask(gateway, number, f"pertanyaan {tag(number)}")

        wait_until(lambda: _channel(gateway)["state"] in ("open", "half_open"), timeout=30)
        assert (
            "wagate_channel_breaker_open"
            '{channel="200000000000001",provider="meta",tenant="default"} 1.0'
            in (_metrics(gateway))
        )
        for number in numbers:
            wait_until(lambda n=number: _answers(fake_meta, n, tag(n)), timeout=60)
        wait_until(lambda: _channel(gateway)["state"] == "closed", timeout=30)
        for number in numbers:
            assert len(_answers(fake_meta, number, tag(number))) == 1
        assert gateway.api("/api/dead-letters")["items"] == []


def test_a_burst_that_keeps_failing_is_dead_lettered_and_replayed_once(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer
) -> None:
    with gateway_on_fresh_database(
        workdir, fake_meta, fake_ai, INBOUND_ATTEMPTS="2", DEBOUNCE_SECONDS="3"
    ) as (gateway, url):
        poisoned, healthy = "6281272000001", "6281272000002"
        _ask(gateway, poisoned, f"pesan rusak {tag(poisoned)}")
        # Poison: the stored message can no longer be opened (as if its key were lost), so
        # every run of the burst fails. Done inside the debounce, before any run starts.
        with psycopg.connect(url, autocommit=True) as conn:
            [(row_id, original)] = conn.execute(
                "SELECT id, content FROM inbound_messages ORDER BY id DESC LIMIT 1"
            ).fetchall()
            conn.execute(
                "UPDATE inbound_messages SET content = %s WHERE id = %s", (b"garbage", row_id)
            )

        def letters() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = gateway.api("/api/dead-letters")["items"]
            return [d for d in items if d["direction"] == "inbound"]

        [letter] = wait_until(letters, timeout=60)
        assert letter["id"].startswith("in-")
        assert letter["messages"] == 1 and letter["failures"] == 2
        assert "garbage" not in str(letter)
        shown = gateway.api(f"/api/dead-letters/{letter['id']}")
        assert shown["messageIds"] == [row_id]

        # The conversation is not held hostage and the sweep does not retry it forever.
        _ask(gateway, healthy, f"sehat {tag(healthy)}")
        wait_until(lambda: _answers(fake_meta, healthy, tag(healthy)), timeout=30)
        assert _answers(fake_meta, poisoned, tag(poisoned)) == []

        # The operator repairs the cause and replays: answered, once.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "UPDATE inbound_messages SET content = %s WHERE id = %s", (original, row_id)
            )
        replayed = gateway.api_post(f"/api/dead-letters/{letter['id']}/replay", {})
        assert replayed.status_code == 200
        assert replayed.json()["replayed"] == [letter["id"]]
        wait_until(lambda: _answers(fake_meta, poisoned, tag(poisoned)), timeout=30)
        assert letters() == []
        again = gateway.api_post(f"/api/dead-letters/{letter['id']}/replay", {})
        assert again.status_code == 409
        assert len(_answers(fake_meta, poisoned, tag(poisoned))) == 1


@pytest.mark.parametrize("case", ["reconciled", "resent", "unsettled"])
def test_a_send_whose_answer_is_lost_is_reconciled_by_its_status_or_resent_and_counted(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, case: str
) -> None:
    """OU9: Meta accepts the message but answers after our timeout. A status webhook naming our
    key settles it (never resent). Without one, while other statuses do arrive, it is resent
    once the reconcile time is over, and counted as a possible duplicate; when no status
    webhook arrives at all, silence proves nothing and it is kept as a dead letter instead."""
    status_arrives = case == "reconciled"
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        fake_ai,
        PROVIDER_TIMEOUT_SECONDS="1",
        SEND_RECONCILE_SECONDS="4",
    ) as (gateway, _):
        number = {"reconciled": "6281273000001", "resent": "6281273000002"}.get(
            case, "6281273000003"
        )
        marker = tag(number)
        if case == "resent":
            # Evidence that status webhooks reach the gateway (for some other message).
            other = meta_status(
                phone_number_id=PHONE_NUMBER_ID,
                message_id="wamid.OTHER",
                status="delivered",
                recipient="6281273009999",
            )
            assert gateway.post_meta(other).status_code == 200
        fake_meta.fail(kind="send", delay_seconds=2, http_status=200, times=1)
        _ask(gateway, number, f"pertanyaan {marker}")

        def sends() -> list[dict[str, Any]]:
            return [
                r
                for r in fake_meta.requests("send")
                if r["body"].get("to") == number
                and marker in r["body"].get("text", {}).get("body", "")
            ]

        [first] = wait_until(lambda: [r for r in sends() if "wamid" in r], timeout=30)
        tracker = first["body"]["biz_opaque_callback_data"]
        if status_arrives:
            status = meta_status(
                phone_number_id=PHONE_NUMBER_ID,
                message_id=first["wamid"],
                status="sent",
                recipient=number,
                tracker=tracker,
            )
            assert gateway.post_meta(status).status_code == 200
            time.sleep(6)  # past the reconcile time: a resend would have happened by now
            assert len(sends()) == 1
            assert 'wagate_outbound_resent_after_unknown_outcome{tenant="default"} 0.0' in _metrics(
                gateway
            )
            [conversation] = [c for c in gateway.conversations() if c["contact"]["key"] == number]
            page = gateway.api(f"/api/conversations/{conversation['id']}/messages")
            [reply] = page["outbound"]
            assert reply["status"] == "sent"
            assert reply["providerMessageId"] == first["wamid"]
        elif case == "resent":
            wait_until(lambda: len(sends()) == 2, timeout=30)
            time.sleep(2)
            assert len(sends()) == 2
            assert 'wagate_outbound_resent_after_unknown_outcome{tenant="default"} 1.0' in _metrics(
                gateway
            )
            events = gateway.api("/api/audit", limit=500)["items"]
            assert any(e["action"] == "message.resent_unknown_outcome" for e in events)
        else:
            [letter] = wait_until(
                lambda: [
                    d
                    for d in gateway.api("/api/dead-letters")["items"]
                    if d.get("errorCode") == "outcome_unknown"
                ],
                timeout=30,
            )
            assert letter["email"] == "skipped"
            assert len(sends()) == 1


def test_an_undeliverable_reply_reaches_the_account_by_email_once(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer
) -> None:
    """OU4: WhatsApp refuses for good (131026); the account an operator added with this phone
    and an e-mail address gets the answer by SMTP, once; the dead letter says so."""
    number = "6281274000001"
    marker = tag(number)
    with (
        Mailbox() as mailbox,
        gateway_on_fresh_database(workdir, fake_meta, fake_ai, **mailbox.settings()) as (
            gateway,
            _,
        ),
    ):
        added = wagate(
            *("accounts", "add", "sari", "--name", "Sari"),
            *("--email", "sari@example.co.id", "--phone", "0" + number[2:], "--approved"),
            env=gateway.env,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        fake_meta.fail(kind="send", code=131026, times=1)
        _ask(gateway, number, f"pertanyaan {marker}")

        [mail] = wait_until(lambda: [t for t in mailbox.texts() if marker in t], timeout=30)
        assert "To: sari@example.co.id" in mail
        [letter] = wait_until(
            lambda: [
                d for d in gateway.api("/api/dead-letters")["items"] if d.get("email") == "sent"
            ],
            timeout=30,
        )
        assert letter["errorCode"] == "131026"
        time.sleep(3)  # the sweep runs every 2 s here: a second e-mail would show by now
        assert len([t for t in mailbox.texts() if marker in t]) == 1
        assert len(mailbox.messages) == 1
        assert _answers(fake_meta, number, marker) == []
