"""Dead letters (OU3): a message that failed for good is kept with its error, visible, and
replayed once on request — never as a duplicate of something delivered."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, wagate, wait_until
from wagate.fakes.payloads import meta_text


def _sends(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [r for r in fake_meta.requests("send") if r["body"].get("to") == number]


def test_a_permanently_failed_message_is_listed_shown_and_replayed_once(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    assert (
        gateway.post_meta(
            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
        ).status_code
        == 200
    )  # opens the window
    wait_until(lambda: _sends(fake_meta, sender), timeout=30)
    fake_meta.fail(kind="send", code=131026, times=1)  # undeliverable: permanent
    assert (
        gateway.api_post(
            "/api/whatsapp/send", {"target": sender, "message": "Dokumen siap"}
        ).status_code
        == 202
    )

    def dead() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = gateway.api("/api/dead-letters")["items"]
        return [d for d in items if d["errorCode"] == "131026"]

    [letter] = wait_until(dead, timeout=30)
    shown = gateway.api(f"/api/dead-letters/{letter['id']}")
    assert shown["text"] == "Dokumen siap" and shown["to"] == sender

    replayed = gateway.api_post(f"/api/dead-letters/{letter['id']}/replay", {})
    assert replayed.status_code == 200
    wait_until(
        lambda: [
            r
            for r in _sends(fake_meta, sender)
            if r["body"]["text"]["body"] == "Dokumen siap" and "wamid" in r
        ],
        timeout=30,
    )
    assert dead() == []
    # delivered now: a second replay is refused, so it can never be sent twice
    again = gateway.api_post(f"/api/dead-letters/{letter['id']}/replay", {})
    assert again.status_code == 409
    cli = wagate("dead-letters", "replay", str(letter["id"]), env=gateway.env, timeout=60)
    assert cli.returncode == 1 and "not a dead letter" in cli.stderr
    delivered = [
        r
        for r in _sends(fake_meta, sender)
        if r["body"]["text"]["body"] == "Dokumen siap" and "wamid" in r
    ]
    assert len(delivered) == 1
    listed = json.loads(
        wagate("dead-letters", "list", env=gateway.env, timeout=60, check=True).stdout
    )
    assert all(item["id"] != letter["id"] for item in listed)
