"""The learned detector in the running gateway (issue 14, TRIAGE_MODEL, on by default): a
danger told in words the rules do not know is red — the holding reply, no AI call at all —
while a plain question still reaches the AI. Real HTTP, PostgreSQL, fake Graph API and AI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, fresh_database, wait_until
from wagate.domain.review import DEFAULT_URGENT_TEXT
from wagate.domain.triage_rules import classify
from wagate.domain.zones import Zone
from wagate.fakes.payloads import meta_text
from wagate.triage_rules import load_rule_set

# A rape that has just happened, told as a question: no rule of the shipped set calls it red.
CALM_RED = (
    "Saya baru saja diperkosa teman kerja di mess, dia sekarang tidur di kamar sebelah. "
    "Saya harus ke mana dulu?"
)
PLAIN = "biaya konsultasi pertama di kantor berapa ya kak"


@pytest.fixture(scope="module")
def gateway(workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer) -> Iterator[Gateway]:
    with fresh_database() as url:
        running = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            TRIAGE_MODEL="on",
        ).start()
        try:
            yield running
        finally:
            running.stop()


def test_the_rules_alone_would_miss_it() -> None:
    # Guards the test's premise: if the rules learn this case, the test below proves less.
    assert classify(CALM_RED, (), load_rule_set(None)).zone is not Zone.RED


def test_a_danger_the_rules_miss_is_red_and_never_reaches_the_ai(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=CALM_RED)
    assert gateway.post_meta(payload).status_code == 200
    [reply] = wait_until(lambda: fake_meta.texts_to(sender), timeout=30)
    assert reply == DEFAULT_URGENT_TEXT
    asked = [r for r in fake_ai.requests() if "diperkosa" in json.dumps(r["body"])]
    assert asked == []
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    held = gateway.api("/api/conversations", held="true")["items"]
    assert conversation["id"] in [h["conversationId"] for h in held]


def test_a_plain_question_is_still_answered_by_the_ai(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=PLAIN)
    assert gateway.post_meta(payload).status_code == 200
    [reply] = wait_until(lambda: fake_meta.texts_to(sender), timeout=30)
    assert reply != DEFAULT_URGENT_TEXT
    assert [r for r in fake_ai.requests() if "konsultasi pertama" in json.dumps(r["body"])]
