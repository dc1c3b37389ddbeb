"""Triage by a model (AI7) against the fake OpenAI server over real HTTP on loopback: what is
sent (masked question, one-word instruction, temperature 0), how the answer is read, and the
combined triage falling back to the rules when the model fails or stalls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.contract.conftest import serve
from wagate.assistants.zone_classifier import (
    ONE_WORD_INSTRUCTION,
    AssistantZoneClassifier,
    UnclearZone,
    classifier_assistant,
    zone_of_answer,
)
from wagate.domain.assistant_port import Assistant
from wagate.domain.zones import Zone
from wagate.fakes.openai import TRIAGE_INSTRUCTION, FakeOpenAI
from wagate.triage_rules.factory import build_zone_triage


@dataclass
class Endpoint:
    fake: FakeOpenAI
    url: str
    control: httpx.AsyncClient

    def assistant(self, timeout: float = 2.0) -> Assistant:
        return classifier_assistant(
            base_url=f"{self.url}/v1", api_key="k", model="fake-small", timeout_seconds=timeout
        )

    def classifier(self, timeout: float = 2.0) -> AssistantZoneClassifier:
        return AssistantZoneClassifier(self.assistant(timeout), timeout_seconds=timeout)

    def classifications(self) -> list[dict[str, object]]:
        return self.fake.recorder.listing("classify")


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    fake = FakeOpenAI()
    async with serve(fake.app) as url, httpx.AsyncClient(base_url=url) as control:
        yield Endpoint(fake=fake, url=url, control=control)


class _Settings:
    triage_rules_file = None
    triage_ai = True
    triage_ai_timeout_seconds = 0.5
    # The AI path is what these tests watch; the learned detector (tests/unit/test_triage_model)
    # could raise a question to red first, and then no AI is asked.
    triage_model = False


def test_the_fake_and_the_classifier_agree_on_the_instruction() -> None:
    assert TRIAGE_INSTRUCTION == ONE_WORD_INSTRUCTION


async def test_only_the_masked_question_is_sent_with_temperature_zero(endpoint: Endpoint) -> None:
    classifier = endpoint.classifier()
    try:
        zone = await classifier.classify("NIK sy 3174012505900003, no hp 081234567890, yellow")
    finally:
        await classifier.aclose()
    assert zone is Zone.YELLOW
    [request] = endpoint.classifications()
    body = request["body"]
    assert isinstance(body, dict)
    assert (body["temperature"], body["max_tokens"]) == (0.0, 5)
    system, user = body["messages"]
    assert system["role"] == "system" and ONE_WORD_INSTRUCTION in system["content"]
    assert "3174012505900003" not in user["content"]
    assert "081234567890" not in user["content"]
    assert "[NIK_1]" in user["content"]


@pytest.mark.parametrize(
    ("answer", "zone"),
    [("red", Zone.RED), (" Yellow.", Zone.YELLOW), ("GREEN\n", Zone.GREEN), ("merah", Zone.RED)],
)
def test_the_answer_is_read_by_its_first_word(answer: str, zone: Zone) -> None:
    assert zone_of_answer(answer) is zone


def test_an_answer_that_names_no_zone_is_unclear() -> None:
    with pytest.raises(UnclearZone):
        zone_of_answer("Saya tidak yakin")


async def test_red_by_rule_never_reaches_the_endpoint(endpoint: Endpoint) -> None:
    triage = build_zone_triage(_Settings(), endpoint.assistant())
    call = await triage("tolong suami sy lg mukulin sy skrg")
    assert (call.zone, call.source) == (Zone.RED, "rules")
    assert endpoint.classifications() == []


async def test_the_model_raises_green_to_red_over_http(endpoint: Endpoint) -> None:
    triage = build_zone_triage(_Settings(), endpoint.assistant())
    call = await triage("pertanyaan umum, tapi model bilang red")
    assert (call.zone, call.source) == (Zone.RED, "ai")
    assert len(endpoint.classifications()) == 1


async def test_a_failing_or_slow_or_unclear_model_leaves_the_rules(endpoint: Endpoint) -> None:
    triage = build_zone_triage(_Settings(), endpoint.assistant())
    question = "tanah kami diserobot tetangga, red"  # rules: yellow; the fake would say red
    failing = {"model": "classify", "http_status": 500}
    (await endpoint.control.post("/_fake/fail", json=failing)).raise_for_status()
    assert (await triage(question)).source == "rules"
    stalling = {"model": "classify", "delay_seconds": 2}
    (await endpoint.control.post("/_fake/fail", json=stalling)).raise_for_status()
    slow = await triage(question)
    assert (slow.zone, slow.source) == (Zone.YELLOW, "rules")
    unclear = {"model": "classify", "text": "hmm"}
    (await endpoint.control.post("/_fake/reply", json=unclear)).raise_for_status()
    assert (await triage(question)).source == "rules"
    # and with nothing planned, the model is heard again
    assert (await triage(question)).zone is Zone.RED
