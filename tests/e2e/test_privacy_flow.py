"""UU PDP in the conversation: PII masked before the AI and restored for the user, consent and
opt-out, the AI disclosure and disclaimer — over real HTTP, with the AI's requests recorded."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    gateway_on_fresh_database,
    wagate,
    wait_until,
)
from wagate.fakes.payloads import meta_button_reply, meta_text


def _sent_to(fake_meta: FakePeer, number: str) -> list[str]:
    """The texts sent to `number`: a text's body, a button message's body."""
    return [
        r["body"]["text"]["body"]
        if r["body"].get("type") == "text"
        else r["body"]["interactive"]["body"]["text"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number
    ]


def _requests_since(fake_ai: FakePeer, count: int) -> list[dict[str, Any]]:
    return fake_ai.requests("chat")[count:]


def test_personal_data_never_reaches_the_ai_and_comes_back_to_the_user(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    nik = "3171014508900003"  # DKI Jakarta, born 5 Aug 1990, a woman (+40 on the day)
    email = "budi.santoso@kantorhukum.co.id"
    other_phone = "0813-9876-5432"
    npwp = "01.234.567.8-901.000"
    name = "Budi Santoso"
    before = len(fake_ai.requests("chat"))
    question = (
        f"Halo, saya {name}. NIK saya {nik}, NPWP {npwp}, email {email}, "
        f"hubungi juga istri saya di {other_phone}. Bisa dibantu?"
    )
    assert (
        gateway.post_meta(
            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=question, name=name)
        ).status_code
        == 200
    )
    answer = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)[0]

    sent_to_ai = json.dumps(_requests_since(fake_ai, before))
    for secret in (nik, email, "9876-5432", "98765432", npwp, "Budi", "Santoso", sender):
        assert secret not in sent_to_ai, secret
    assert "[NIK_1]" in sent_to_ai and "[EMAIL_1]" in sent_to_ai
    # the echoing AI answered with the placeholders; the user sees the real values again
    for value in (nik, email, name):
        assert value in answer, value
    assert "[NIK_1]" not in answer

    # The console's view of the run: what the AI received, masked, and the zone; sealed at
    # rest (the stored column does not hold the question's text).
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    insights = gateway.api(f"/api/conversations/{conversation['id']}/insights")["items"]
    assert len(insights) == 1
    seen = insights[0]
    assert "[NIK_1]" in seen["maskedQuestion"] and nik not in json.dumps(seen)
    assert seen["zone"] in ("green", "yellow") and seen["outcome"] == "answered"
    assert seen["model"] and seen["review"] == "send"
    with psycopg.connect(gateway.env["DATABASE_URL"]) as db:
        stored = db.execute(
            "SELECT insight FROM conversation_runs WHERE conversation_id = %s",
            (conversation["id"],),
        ).fetchall()
    assert stored and all(b"NIK" not in bytes(row[0]) for row in stored if row[0])


def test_the_disclosure_opens_a_session_and_the_disclaimer_closes_every_answer(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    assert (
        gateway.post_meta(
            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="pertanyaan pertama")
        ).status_code
        == 200
    )
    first = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)[0]
    assert (
        gateway.post_meta(
            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="pertanyaan kedua")
        ).status_code
        == 200
    )
    second = wait_until(lambda: _sent_to(fake_meta, sender)[1:], timeout=30)[0]
    assert "asisten AI" in first and "asisten AI" not in second  # once per session
    assert "bukan merupakan nasihat hukum" in first and "bukan merupakan nasihat hukum" in second


def test_consent_gates_the_ai_and_opt_out_stops_everything_but_one_confirmation(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        fake_ai,
        CONSENT_REQUIRED="true",
    ) as (
        gateway,
        url,
    ):

        def say(text: str) -> None:
            assert (
                gateway.post_meta(
                    meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
                ).status_code
                == 200
            )

        before = len(fake_ai.requests("chat"))
        say("berapa biaya konsultasi?")
        request = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)[0]
        assert "SETUJU" in request and "asisten AI" in request
        # Issue 16 item 7: the request came with two reply buttons standing for the keywords.
        [prompt] = [r["body"] for r in fake_meta.requests("send") if r["body"].get("to") == sender]
        assert prompt["type"] == "interactive" and prompt["interactive"]["type"] == "button"
        buttons = [b["reply"] for b in prompt["interactive"]["action"]["buttons"]]
        assert [b["title"] for b in buttons] == ["SETUJU", "BERHENTI"]
        say("halo??")  # before consent: nothing processed, no second prompt today
        time.sleep(2)
        assert len(_sent_to(fake_meta, sender)) == 1
        assert len(fake_ai.requests("chat")) == before

        # A tap on SETUJU, understood by the button's id (its title is only what was shown).
        tap = meta_button_reply(
            phone_number_id=PHONE_NUMBER_ID,
            sender=sender,
            button_id=buttons[0]["id"],
            title="Setuju ✓",
        )
        assert gateway.post_meta(tap).status_code == 200
        wait_until(lambda: len(_sent_to(fake_meta, sender)) == 2, timeout=30)
        assert "dicatat" in _sent_to(fake_meta, sender)[1]
        say("berapa biaya konsultasi sekarang?")
        wait_until(lambda: len(_sent_to(fake_meta, sender)) == 3, timeout=30)
        assert "ECHO" in _sent_to(fake_meta, sender)[2]

        say("BERHENTI")
        wait_until(lambda: len(_sent_to(fake_meta, sender)) == 4, timeout=30)
        assert "berhenti" in _sent_to(fake_meta, sender)[3].lower()
        ai_calls = len(fake_ai.requests("chat"))
        say("masih di sana?")
        time.sleep(3)
        assert len(_sent_to(fake_meta, sender)) == 4
        assert len(fake_ai.requests("chat")) == ai_calls

        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT state, provider_message_id, evidence FROM consents ORDER BY id"
            ).fetchall()
        assert [r[0] for r in rows] == ["granted", "withdrawn"]
        assert all(r[1].startswith("wamid.") for r in rows)
        assert b"setuju" not in bytes(rows[0][2]).lower()  # the evidence is sealed

        # CP3: the decisions are in the audit trail, as facts without text
        with psycopg.connect(url) as conn:
            audit = conn.execute(
                "SELECT action, details::text FROM audit_log ORDER BY seq"
            ).fetchall()
        actions = {row[0] for row in audit}
        assert {
            "message.received",
            "consent.granted",
            "consent.withdrawn",
            "run.answered",
            "message.sent",
        } <= actions
        assert not any("biaya" in row[1] or sender in row[1] for row in audit)
        verify = wagate("audit", "verify", env=gateway.env, timeout=60)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "intact" in verify.stdout
