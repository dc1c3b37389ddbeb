"""Issue 11, items 4 and 5, over real HTTP and the real CLI.

BERHENTI everywhere: with CONSENT_REQUIRED off, a contact who opts out gets the one
confirmation and nothing else — operator sends, templates, link codes and dead-letter replays
to the number are refused (409 on the API, exit 1 on the CLI) and audited without the number.
The same by the consent request's reply buttons (issue 16): a tap on BERHENTI opts out, a tap
on SETUJU opts in again.

Linking proves the phone: the operator API never shows a link code's text; the code read off the
phone (the fake Graph API's recorded send) still verifies."""

from __future__ import annotations

import json
import re
import subprocess
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

TEMPLATES = json.dumps(
    [{"name": "pengingat_sidang", "language": "id", "parameters": ["nama", "tanggal"]}]
)


def _say(gateway: Gateway, sender: str, text: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
    assert gateway.post_meta(payload).status_code == 200


def _cli(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    return wagate(*args, env=gateway.env)


def test_berhenti_without_consent_required_stops_every_path_but_one_confirmation(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai, WHATSAPP_TEMPLATES=TEMPLATES) as (
        gateway,
        url,
    ):
        _say(gateway, sender, "berapa biaya konsultasi?")  # no consent asked: answered
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 1, timeout=30)
        assert "ECHO" in fake_meta.texts_to(sender)[0]

        _say(gateway, sender, "BERHENTI")
        wait_until(lambda: len(fake_meta.texts_to(sender)) == 2, timeout=30)
        assert "berhenti" in fake_meta.texts_to(sender)[1].lower()
        ai_calls = len(fake_ai.requests("chat"))
        _say(gateway, sender, "masih di sana?")

        refused: list[str] = []

        def conflict(response: Any, path: str) -> None:
            assert response.status_code == 409, (path, response.text)
            assert "opted out" in response.json()["detail"]
            refused.append(path)

        conflict(
            gateway.api_post("/api/whatsapp/send", {"target": sender, "message": "halo"}),
            "operator",
        )
        cli = _cli(gateway, "send", sender, "halo dari CLI")
        assert cli.returncode == 1 and "opted out" in cli.stderr, cli.stderr
        refused.append("operator")
        conflict(
            gateway.api_post(
                "/api/whatsapp/send-template",
                {"target": sender, "template": "pengingat_sidang", "parameters": ["A", "B"]},
            ),
            "template",
        )
        assert gateway.api_post("/api/accounts", {"username": "siti"}).status_code == 201
        conflict(gateway.api_post("/api/accounts/siti/link", {"phone": sender}), "link_code")
        # The AI's answer from before the opt-out, made a dead letter: its replay is refused.
        with psycopg.connect(url, autocommit=True) as conn:
            [(dead,)] = conn.execute(
                "UPDATE outbound_messages SET status = 'failed' WHERE id = "
                "(SELECT min(id) FROM outbound_messages WHERE kind = 'reply') RETURNING id"
            ).fetchall()
        conflict(gateway.api_post(f"/api/dead-letters/{dead}/replay", None), "replay")

        time.sleep(3)  # the later message was not answered, nothing else went out
        assert len(fake_meta.texts_to(sender)) == 2
        assert not [r for r in fake_meta.requests("send") if r["body"].get("to") == sender][2:]
        assert len(fake_ai.requests("chat")) == ai_calls

        with psycopg.connect(url) as conn:
            audit = conn.execute(
                "SELECT action, actor, details::text FROM audit_log ORDER BY seq"
            ).fetchall()
            [(state,)] = conn.execute("SELECT consent_state FROM contacts").fetchall()
            [(status,)] = conn.execute(
                "SELECT status FROM outbound_messages WHERE id = %s", (dead,)
            ).fetchall()
        assert state == "withdrawn" and status == "failed"
        refusals = [r for r in audit if r[0] == "operator.refused_opted_out"]
        assert [json.loads(r[2])["path"] for r in refusals] == refused
        assert [r[1] for r in refusals] == ["operator:api", "operator:cli"] + ["operator:api"] * 3
        assert "consent.withdrawn" in {r[0] for r in audit}
        assert not any(sender in r[2] for r in audit)
        verify = _cli(gateway, "audit", "verify")
        assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout


def test_a_link_code_is_never_shown_by_the_api_and_still_verifies(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    out_of_window = json.dumps(
        [
            {
                "name": "balasan_umum",
                "language": "id",
                "parameters": ["pesan"],
                "purpose": "out_of_window",
            }
        ]
    )
    with gateway_on_fresh_database(workdir, fake_meta, WHATSAPP_TEMPLATES=out_of_window) as (
        gateway,
        _,
    ):
        assert gateway.api_post("/api/accounts", {"username": "siti"}).status_code == 201
        started = gateway.api_post("/api/accounts/siti/link", {"phone": sender})
        assert started.status_code == 202, started.text
        assert not re.search(r"\b\d{6}\b", started.text)
        # Read off the phone: the number never wrote, so the code went as the template.
        sent = wait_until(
            lambda: [r for r in fake_meta.requests("send") if r["body"].get("to") == sender],
            timeout=30,
        )
        text = sent[0]["body"]["template"]["components"][0]["parameters"][0]["text"]
        code = re.search(r"\b\d{6}\b", text).group()  # type: ignore[union-attr]

        conversation = gateway.conversation_for(sender)
        assert conversation is not None
        page = gateway.api(f"/api/conversations/{conversation['id']}/messages", limit=5000)
        assert code not in json.dumps(page)
        [shown] = [m for m in page["outbound"] if m["kind"] == "link_code"]
        assert shown["content"]["text"] == "[kode verifikasi]"

        verified = gateway.api_post("/api/accounts/siti/verify", {"code": code})
        assert verified.status_code == 200 and verified.json()["linked"] is True, verified.text


def _bodies_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [r["body"] for r in fake_meta.requests("send") if r["body"].get("to") == number]


def _shown(body: dict[str, Any]) -> str:
    """What the person reads: a text's body, a button message's body."""
    if body["type"] == "interactive":
        return str(body["interactive"]["body"]["text"])
    return str(body["text"]["body"])


def test_tapping_berhenti_opts_out_and_tapping_setuju_opts_in_again(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai, CONSENT_REQUIRED="true") as (
        gateway,
        url,
    ):

        def tap(button: dict[str, str], title: str) -> None:
            # The title is what the phone showed (a tenant may word it otherwise): the id is
            # what counts.
            payload = meta_button_reply(
                phone_number_id=PHONE_NUMBER_ID,
                sender=sender,
                button_id=button["id"],
                title=title,
                replying_to=prompt_id,
            )
            assert gateway.post_meta(payload).status_code == 200

        def consent_state() -> str:
            with psycopg.connect(url) as conn:
                [(state,)] = conn.execute("SELECT consent_state FROM contacts").fetchall()
            return str(state)

        ai_calls = len(fake_ai.requests("chat"))
        _say(gateway, sender, "berapa biaya konsultasi?")
        [prompt] = wait_until(lambda: _bodies_to(fake_meta, sender), timeout=30)
        assert prompt["type"] == "interactive" and prompt["interactive"]["type"] == "button"
        optin, optout = [b["reply"] for b in prompt["interactive"]["action"]["buttons"]]
        assert (optin["title"], optout["title"]) == ("SETUJU", "BERHENTI")
        sent = [r for r in fake_meta.requests("send") if r["body"].get("to") == sender]
        prompt_id = str(sent[0]["wamid"])  # what the tap replies to

        # BERHENTI: the one confirmation, as text (it passes the opt-out; nothing else does).
        tap(optout, "Berhenti")
        wait_until(lambda: len(_bodies_to(fake_meta, sender)) == 2, timeout=30)
        confirmation = _bodies_to(fake_meta, sender)[1]
        assert confirmation["type"] == "text"
        assert "berhenti" in _shown(confirmation).lower() and "SETUJU" in _shown(confirmation)
        assert consent_state() == "withdrawn"
        _say(gateway, sender, "masih di sana?")
        refused = gateway.api_post("/api/whatsapp/send", {"target": sender, "message": "halo"})
        assert refused.status_code == 409, refused.text
        time.sleep(3)  # the question was not answered, the operator's text not sent
        assert len(_bodies_to(fake_meta, sender)) == 2
        assert len(fake_ai.requests("chat")) == ai_calls

        # SETUJU on the same message: opted in again, and questions are answered once more.
        tap(optin, "Setuju ✓")
        wait_until(lambda: len(_bodies_to(fake_meta, sender)) == 3, timeout=30)
        assert "dicatat" in _shown(_bodies_to(fake_meta, sender)[2])
        assert consent_state() == "granted"
        _say(gateway, sender, "berapa biaya konsultasi sekarang?")
        wait_until(lambda: len(_bodies_to(fake_meta, sender)) == 4, timeout=30)
        assert "ECHO" in _shown(_bodies_to(fake_meta, sender)[3])
        assert len(fake_ai.requests("chat")) > ai_calls
        allowed = gateway.api_post("/api/whatsapp/send", {"target": sender, "message": "halo"})
        assert allowed.status_code in (200, 202), allowed.text

        with psycopg.connect(url) as conn:
            consents = conn.execute("SELECT state FROM consents ORDER BY id").fetchall()
            audit = conn.execute("SELECT action FROM audit_log ORDER BY seq").fetchall()
            kinds = conn.execute(
                "SELECT kind FROM outbound_messages ORDER BY id LIMIT 3"
            ).fetchall()
        assert [row[0] for row in consents] == ["withdrawn", "granted"]
        actions = [row[0] for row in audit]
        assert actions.index("consent.withdrawn") < actions.index("consent.granted")
        assert [row[0] for row in kinds][1] == "optout_confirmed"
