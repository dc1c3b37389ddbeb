"""The lawyer in the loop as a firm runs it (AI7): the built-in triage rules (no plugin), on-duty
staff over a real SMTP server, and people with roles — over real HTTP and PostgreSQL, with the
fake Graph API and AI endpoint as their own processes.

A red message never reaches the AI (not even the classification call), gets the holding reply
in its first run, hands the conversation to a human and mails the staff once; a yellow one
waits as a draft that a viewer may read but not approve, and a lawyer approves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.faults import Mailbox
from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, fresh_database, wait_until
from wagate.domain.review import DEFAULT_ACK_TEXT, DEFAULT_URGENT_TEXT
from wagate.fakes.payloads import meta_text

STAFF = ("jaga@firma.test", "ani@firma.test")
RED = "tolong, suami saya sedang memukul saya sekarang, saya dikunci di kamar"
YELLOW = "saya di-PHK kemarin tanpa pesangon, apa yang harus saya lakukan?"


def _asked_about(fake_ai: FakePeer, words: str) -> list[dict[str, Any]]:
    """Every request to the AI endpoint (answers and classifications) that carried `words`."""
    return [r for r in fake_ai.requests() if words in json.dumps(r["body"], ensure_ascii=False)]


def _say(gateway: Gateway, sender: str, text: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
    assert gateway.post_meta(payload).status_code == 200


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _person(gateway: Gateway, name: str, role: str) -> str:
    """An operator user with `role`, and their personal token."""
    added = gateway.api_post("/api/users", {"name": name, "role": role, "password": "kata-sandi-1"})
    assert added.status_code == 201, added.text
    issued = gateway.api_post(f"/api/users/{name}/tokens", {"label": "e2e"})
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["token"]
    return token


@pytest.fixture(scope="module")
def firm(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer
) -> Iterator[tuple[Gateway, Mailbox]]:
    with Mailbox() as mailbox, fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            REVIEW_MODE="yellow",
            URGENT_NOTIFY_EMAILS=",".join(STAFF),
            **mailbox.settings(),
        ).start()
        try:
            yield gateway, mailbox
        finally:
            gateway.stop()


def test_red_by_the_built_in_rules_never_reaches_the_ai_and_mails_the_staff_once(
    firm: tuple[Gateway, Mailbox], fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    gateway, mailbox = firm
    _say(gateway, sender, RED)
    [reply] = wait_until(lambda: fake_meta.texts_to(sender), timeout=30)
    assert reply == DEFAULT_URGENT_TEXT and "112" in reply
    wait_until(lambda: len(mailbox.messages) == len(STAFF), timeout=30)
    assert _asked_about(fake_ai, "memukul") == []  # neither an answer nor a classification
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    held = gateway.api("/api/conversations", held="true")["items"]
    assert [h["conversationId"] for h in held] == [conversation["id"]]
    assert sorted(rcpt[0] for rcpt, _ in mailbox.messages) == sorted(STAFF)
    [mail] = mailbox.texts()
    assert f"Percakapan: {conversation['id']}" in mail
    assert "memukul" not in mail and sender not in mail  # no personal data in the mail

    # The person writes again, calmly: a short follow-up to a red message stays red (the
    # triage reads the session's earlier words), so it never reaches the AI either; each red
    # message is its own alert (the danger may have changed), mailed once.
    before = len(fake_ai.requests())
    _say(gateway, sender, "dia sudah tidur sekarang")
    wait_until(lambda: len(fake_meta.texts_to(sender)) == 2, timeout=30)
    assert fake_meta.texts_to(sender)[1] == DEFAULT_URGENT_TEXT
    wait_until(lambda: len(mailbox.messages) == 2 * len(STAFF), timeout=30)
    assert len(fake_ai.requests()) == before
    assert len(mailbox.texts()) == 2


def test_a_viewer_may_read_a_draft_but_not_approve_it_and_a_lawyer_approves(
    firm: tuple[Gateway, Mailbox], fake_meta: FakePeer, sender: str
) -> None:
    gateway, _ = firm
    viewer = _person(gateway, "vivi", "viewer")
    lawyer = _person(gateway, "lala", "lawyer")
    _say(gateway, sender, YELLOW)
    [ack] = wait_until(lambda: fake_meta.texts_to(sender), timeout=30)
    assert ack == DEFAULT_ACK_TEXT
    conversation = gateway.conversation_for(sender)
    assert conversation is not None

    def pending() -> dict[str, Any] | None:
        listed = gateway.http.get("/api/reviews", params={"status": "pending"}, headers=_as(viewer))
        assert listed.status_code == 200, listed.text  # a viewer reads
        items = listed.json()["items"]
        return next((d for d in items if d["conversation"] == conversation["id"]), None)

    draft = wait_until(pending, timeout=30)
    refused = gateway.http.post(f"/api/reviews/{draft['id']}/approve", json={}, headers=_as(viewer))
    assert refused.status_code == 403, refused.text
    assert len(fake_meta.texts_to(sender)) == 1  # nothing went out

    approved = gateway.http.post(
        f"/api/reviews/{draft['id']}/approve",
        json={"text": "Simpan surat PHK Anda; kami hubungi besok pagi."},
        headers=_as(lawyer),
    )
    assert approved.status_code == 200, approved.text
    texts = wait_until(lambda: fake_meta.texts_to(sender)[1:] or None, timeout=30)
    assert texts[0].startswith("Simpan surat PHK Anda; kami hubungi besok pagi.")
    trail = gateway.api("/api/audit", action="review.approved")["items"]
    assert any(e["actor"] == "user:lala:api" for e in trail)
    me = httpx.get(f"{gateway.url}/api/me", headers=_as(lawyer)).json()
    assert me["role"] == "lawyer"
