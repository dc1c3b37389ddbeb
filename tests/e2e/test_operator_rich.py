"""An operator sends a document and reply buttons through `POST /api/whatsapp/send` (issue 16,
item 3): each reaches the fake Graph API exactly once, as Meta expects it; outside the 24-hour
window the same request is refused, never turned into a template."""

from __future__ import annotations

import random
import time
from typing import Any

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, wait_until
from wagate.fakes.payloads import meta_text, new_wamid

DOCUMENT = {
    "type": "document",
    "link": "https://berkas.contoh.id/surat-kuasa.pdf",
    "caption": "Mohon ditandatangani",
    "filename": "surat-kuasa.pdf",
}
BUTTONS = {
    "type": "button",
    "body": "Apakah jadwal sidang 12 Desember cocok?",
    "buttons": [{"id": "ya", "title": "Ya, cocok"}, {"id": "tidak", "title": "Minta ganti"}],
}


def _sends_to(fake_meta: FakePeer, number: str, kind: str) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number and r["body"].get("type") == kind
    ]


def test_an_operator_sends_a_document_and_reply_buttons_each_exactly_once(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    wrote = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
    assert gateway.post_meta(wrote).status_code == 200  # opens the 24-hour window
    wait_until(lambda: _sends_to(fake_meta, sender, "text"), timeout=20)

    for part, key in ((DOCUMENT, "media"), (BUTTONS, "interactive")):
        body = {"target": sender, "provider": "meta", key: part}
        for _ in range(2):  # the same Idempotency-Key again: queued once
            answer = gateway.api_post("/api/whatsapp/send", body, **{"Idempotency-Key": key})
            assert answer.status_code == 202, answer.text

    document = wait_until(lambda: _sends_to(fake_meta, sender, "document"), timeout=20)
    buttons = wait_until(lambda: _sends_to(fake_meta, sender, "interactive"), timeout=20)
    time.sleep(1)  # a duplicate would have arrived by now
    assert len(_sends_to(fake_meta, sender, "document")) == 1
    assert len(_sends_to(fake_meta, sender, "interactive")) == 1
    assert document[0]["document"] == {
        "link": DOCUMENT["link"],
        "caption": DOCUMENT["caption"],
        "filename": DOCUMENT["filename"],
    }
    interactive = buttons[0]["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": BUTTONS["body"]}
    assert [b["reply"] for b in interactive["action"]["buttons"]] == BUTTONS["buttons"]

    # Broken rules are 422 with the rule named; a number that never wrote gets 409.
    bad = {"target": sender, "media": DOCUMENT | {"link": "http://berkas.contoh.id/a.pdf"}}
    refused = gateway.api_post("/api/whatsapp/send", bad)
    assert refused.status_code == 422 and "https" in refused.json()["detail"]
    stranger = "62813" + "".join(random.choices("0123456789", k=8))
    closed = gateway.api_post(
        "/api/whatsapp/send", {"target": stranger, "provider": "meta", "interactive": BUTTONS}
    )
    assert closed.status_code == 409 and "template" in closed.json()["detail"]
    assert _sends_to(fake_meta, stranger, "interactive") == []


def test_an_operator_reacts_to_the_persons_message_once(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    """Issue 16 item 7: a 👍 on the question itself, through `POST /api/whatsapp/send`'s
    `reaction` part; the message id is the one the conversation's messages show."""
    question = new_wamid()
    wrote = meta_text(
        phone_number_id=PHONE_NUMBER_ID,
        sender=sender,
        text="dokumen sudah saya kirim",
        message_id=question,
    )
    assert gateway.post_meta(wrote).status_code == 200
    wait_until(lambda: _sends_to(fake_meta, sender, "text"), timeout=20)
    shown = wait_until(
        lambda: [m for m in gateway.messages_of(sender) if m.get("providerMessageId") == question],
        timeout=20,
    )
    body = {
        "target": sender,
        "reaction": {"messageId": shown[0]["providerMessageId"], "emoji": "👍"},
    }
    for _ in range(2):  # the same Idempotency-Key again: queued once
        answer = gateway.api_post("/api/whatsapp/send", body, **{"Idempotency-Key": "react"})
        assert answer.status_code == 202, answer.text
    sent = wait_until(lambda: _sends_to(fake_meta, sender, "reaction"), timeout=20)
    time.sleep(1)
    assert len(_sends_to(fake_meta, sender, "reaction")) == 1
    assert sent[0]["reaction"] == {"message_id": question, "emoji": "👍"}
    refused = gateway.api_post(
        "/api/whatsapp/send", {"target": sender, "reaction": {"messageId": question, "emoji": "ok"}}
    )
    assert refused.status_code == 422 and "emoji" in refused.json()["detail"]
