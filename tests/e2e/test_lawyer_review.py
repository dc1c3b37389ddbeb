"""The lawyer in the loop end to end (AI7), over real HTTP with real PostgreSQL and the fake
Graph API and AI endpoint, each its own process; zones come from a test-only triage through
WAGATE_ZONE_TRIAGE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.faults import calm, chaos, held_sends, new_graph, post_statuses
from tests.e2e.harness import (
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    Process,
    fresh_database,
    start_worker,
    tag,
    wait_until,
)
from tests.e2e.harness import wagate as wagate_cli
from wagate.domain.review import DEFAULT_ACK_TEXT, DEFAULT_REJECT_TEXT, DEFAULT_URGENT_TEXT
from wagate.fakes.payloads import meta_text

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = json.dumps(
    [
        {
            "name": "balasan_umum",
            "language": "id",
            "parameters": ["pesan"],
            "purpose": "out_of_window",
        }
    ]
)
LAWYER_SETTINGS = {
    "WAGATE_ZONE_TRIAGE": "tests.plugins.zones:triage",
    "REVIEW_MODE": "yellow",
    "PYTHONPATH": str(ROOT),
    "WHATSAPP_TEMPLATES": TEMPLATES,
    "AI_DISCLAIMER_TEXT": "[bukan nasihat hukum]",
}


def _sends_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [r for r in fake_meta.requests("send") if r["body"].get("to") == number]


def _texts_to(fake_meta: FakePeer, number: str) -> list[str]:
    texts = []
    for r in _sends_to(fake_meta, number):
        body = r["body"]
        if body.get("type") == "template":
            texts.append(body["template"]["components"][0]["parameters"][0]["text"])
        else:
            texts.append(body["text"]["body"])
    return texts


def _ai_calls(fake_ai: FakePeer, marker: str) -> list[dict[str, Any]]:
    return [r for r in fake_ai.requests("chat") if marker in json.dumps(r["body"]["messages"])]


def _say(gateway: Gateway, sender: str, text: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
    assert gateway.post_meta(payload).status_code == 200


def _draft_of(gateway: Gateway, conversation: int) -> dict[str, Any]:
    items = gateway.api("/api/reviews", status="pending")["items"]
    return next(d for d in items if d["conversation"] == conversation)


def _pending_draft(gateway: Gateway, sender: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        conversation = gateway.conversation_for(sender)
        if conversation is None:
            return None
        items = gateway.api("/api/reviews", status="pending")["items"]
        return next((d for d in items if d["conversation"] == conversation["id"]), None)

    draft: dict[str, Any] = wait_until(found, timeout=30)
    return draft


@pytest.fixture(scope="module")
def lawyer_gateway(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer
) -> Iterator[tuple[Gateway, str]]:
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            **LAWYER_SETTINGS,
        ).start()
        yield gateway, url
        gateway.stop()


def test_a_green_question_is_answered_directly(
    lawyer_gateway: tuple[Gateway, str], fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    gateway, _ = lawyer_gateway
    _say(gateway, sender, f"jam buka kantor {tag(sender)}?")
    [answer] = wait_until(lambda: _texts_to(fake_meta, sender), timeout=30)
    assert "ECHO" in answer and answer.endswith("[bukan nasihat hukum]")
    assert gateway.api("/api/reviews")["items"] == []


def test_a_yellow_question_is_held_edited_approved_and_the_edit_delivered_once(
    lawyer_gateway: tuple[Gateway, str], fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    gateway, url = lawyer_gateway
    _say(gateway, sender, f"kasus cerai saya {tag(sender)}, bagaimana?")
    draft = _pending_draft(gateway, sender)
    assert wait_until(lambda: _texts_to(fake_meta, sender)) == [DEFAULT_ACK_TEXT]
    assert len(_ai_calls(fake_ai, tag(sender))) == 1  # the AI wrote the draft
    shown = gateway.api(f"/api/reviews/{draft['id']}")
    assert shown["zone"] == "yellow" and shown["rules"] == ["test_own_case"]
    assert "ECHO" in shown["draft"] and shown["windowClosesAt"] and shown["deadline"]
    # Sealed at rest: the draft's words are not in the table.
    with psycopg.connect(url) as conn:
        raw = conn.execute("SELECT draft::text FROM review_drafts WHERE id = %s", (draft["id"],))
        assert tag(sender) not in str(raw.fetchone())
    edited = f"Jawaban yang sudah ditinjau {tag(sender)}."
    response = gateway.api_post(f"/api/reviews/{draft['id']}/approve", {"text": edited})
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("approved", "sent")
    texts = wait_until(lambda: _texts_to(fake_meta, sender)[1:], timeout=30)
    assert texts == [f"{edited}\n\n[bukan nasihat hukum]"]
    again = gateway.api_post(f"/api/reviews/{draft['id']}/approve", {"text": "lagi"})
    assert again.status_code == 409
    wait_until(lambda: gateway.api(f"/api/reviews/{draft['id']}")["status"] == "sent")
    assert len(_texts_to(fake_meta, sender)) == 2
    audit = gateway.api("/api/audit", limit=1000)["items"]
    approved = [e for e in audit if e["action"] == "review.approved"]
    assert approved and approved[-1]["details"]["edited"] is True
    assert tag(sender) not in json.dumps(approved[-1])
    # The lawyer's answer is the AI's context for the next question.
    _say(gateway, sender, f"terima kasih, jam buka kantor {tag(sender)}?")
    wait_until(lambda: len(_ai_calls(fake_ai, tag(sender))) == 2, timeout=30)
    history = _ai_calls(fake_ai, tag(sender))[1]["body"]["messages"]
    assert {"role": "assistant", "content": edited} in [
        {"role": m["role"], "content": m["content"]} for m in history
    ]


def test_a_rejected_draft_sends_the_rejection_text(
    lawyer_gateway: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, _ = lawyer_gateway
    _say(gateway, sender, f"kasus tanah warisan {tag(sender)}")
    draft = _pending_draft(gateway, sender)
    assert gateway.api_post(f"/api/reviews/{draft['id']}/reject", {}).status_code == 422
    response = gateway.api_post(
        f"/api/reviews/{draft['id']}/reject", {"reason": "perlu konsultasi tatap muka"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rejectReason"] == "perlu konsultasi tatap muka"
    texts = wait_until(lambda: _texts_to(fake_meta, sender)[1:], timeout=30)
    assert texts == [DEFAULT_REJECT_TEXT]
    assert not any("ECHO" in t for t in _texts_to(fake_meta, sender))
    # The person's data export (UU PDP) holds the draft too.
    exported = gateway.api_post("/api/contacts/export", {"phone": sender}).json()
    [held] = exported["reviewDrafts"]
    assert held["status"] == "rejected" and tag(sender) in held["question"]


def test_a_red_message_never_reaches_the_ai_and_gets_the_holding_reply_at_once(
    lawyer_gateway: tuple[Gateway, str], fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    gateway, url = lawyer_gateway
    _say(gateway, sender, f"darurat {tag(sender)} suami saya memukul saya sekarang")
    texts = wait_until(lambda: _texts_to(fake_meta, sender), timeout=30)
    assert texts == [DEFAULT_URGENT_TEXT]
    assert _ai_calls(fake_ai, tag(sender)) == []
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    with psycopg.connect(url) as conn:
        runs = conn.execute(
            "SELECT outcome FROM conversation_runs WHERE conversation_id = %s",
            (conversation["id"],),
        ).fetchall()
    assert [r[0] for r in runs] == ["urgent"]  # the first run
    metrics = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"}).text
    assert 'wagate_red_handoffs_total{tenant="default"}' in metrics
    assert "wagate_review_drafts_waiting" in metrics
    assert "wagate_review_time_to_approval_seconds_bucket" in metrics


def test_a_draft_approved_after_the_window_closed_goes_out_as_the_template(
    lawyer_gateway: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, url = lawyer_gateway
    _say(gateway, sender, f"kasus utang piutang {tag(sender)}")
    draft = _pending_draft(gateway, sender)
    wait_until(lambda: _texts_to(fake_meta, sender) == [DEFAULT_ACK_TEXT])
    with psycopg.connect(url) as conn:  # a day and more passes without a word from them
        conn.execute(
            "UPDATE conversations SET last_inbound_at = now() - interval '25 hours' WHERE id = %s",
            (draft["conversation"],),
        )
    assert gateway.api_post(f"/api/reviews/{draft['id']}/approve", None).status_code == 200
    sends = wait_until(lambda: _sends_to(fake_meta, sender)[1:], timeout=30)
    assert [s["body"]["type"] for s in sends] == ["template"]
    assert sends[0]["body"]["template"]["name"] == "balasan_umum"
    carried = _texts_to(fake_meta, sender)[1]
    # Meta refuses a template parameter with a line break: the paragraphs share one line.
    assert "ECHO" in carried and "\n" not in carried
    assert carried.endswith(" · [bukan nasihat hukum]")


def test_the_review_commands_list_show_and_refuse_bad_input(
    lawyer_gateway: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, _ = lawyer_gateway
    _say(gateway, sender, f"kasus PHK saya {tag(sender)}")
    draft = _pending_draft(gateway, sender)
    env = gateway.env

    def wagate(*args: str) -> Any:
        return wagate_cli("review", *args, env=env)

    listed = wagate("list", "--status", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    assert draft["id"] in [d["id"] for d in json.loads(listed.stdout)]
    shown = wagate("show", str(draft["id"]))
    assert shown.returncode == 0 and json.loads(shown.stdout)["zone"] == "yellow"
    assert wagate("reject", str(draft["id"]), "--reason", " ").returncode == 1
    assert wagate("show", "999999").returncode == 1
    assert (
        gateway.http.get(
            "/api/reviews?status=bogus", headers={"Authorization": f"Bearer {API_TOKEN}"}
        ).status_code
        == 422
    )
    taken = wagate("take", str(draft["id"]))
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout)["status"] == "taken_over"


def test_a_worker_killed_between_approval_and_sending_delivers_exactly_once(
    workdir: Path, fake_ai: FakePeer, sender: str
) -> None:
    graph = new_graph(workdir)
    try:
        with fresh_database() as url:
            web = Gateway(
                workdir,
                database_url=url,
                graph_url=f"{graph.url}/v22.0",
                ai_url=f"{fake_ai.url}/v1",
                worker=False,
                SWEEP_INTERVAL_SECONDS="1",
                PROVIDER_TIMEOUT_SECONDS="2",
                SEND_RECONCILE_SECONDS="5",
                **LAWYER_SETTINGS,
            ).start()
            first: Process | None = None
            second: Process | None = None
            try:
                post_statuses(graph, web)
                first = start_worker(web, "review-a")
                _say(web, sender, f"kasus kontrak kerja {tag(sender)}")
                draft = _pending_draft(web, sender)
                wait_until(lambda: _texts_to(graph, sender) == [DEFAULT_ACK_TEXT], timeout=30)
                # The approved answer's send is taken by Meta but answered only after 3 s:
                # the worker is killed while it waits, between approval and a known outcome.
                chaos(graph, seed=1, rates={"timeout": 1.0}, timeout_seconds=3, kind="send")
                approved = web.api_post(
                    f"/api/reviews/{draft['id']}/approve", {"text": f"Disetujui {tag(sender)}."}
                )
                assert approved.status_code == 200, approved.text
                wait_until(lambda: held_sends(graph), timeout=30)
                first.kill()
                calm(graph)
                second = start_worker(web, "review-b")
                wait_until(
                    lambda: web.api(f"/api/reviews/{draft['id']}")["status"] == "sent",
                    timeout=60,
                )
                texts = [t for t in _texts_to(graph, sender) if tag(sender) in t]
                assert texts == [f"Disetujui {tag(sender)}.\n\n[bukan nasihat hukum]"]
            finally:
                for process in (first, second):
                    if process is not None:
                        process.kill()
                web.stop()
    finally:
        graph.stop()
