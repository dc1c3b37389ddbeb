"""Triage by a model (AI7): ask an OpenAI-compatible endpoint for one word, green, yellow or red.

Only masked text leaves: structured personal data (NIK, phone numbers, e-mail, account
numbers…) is replaced by placeholders with a fresh vault, the stateless masking the knowledge
reference block gets (`mask_reference`). Names are not masked here: the conversation's vault
and known names belong to the assistant step, and a classification needs no name.

Only the question is sent, never the history: the rules already keep a follow-up to a red
message red, and less text leaving is less to leak.

The call is bounded by its own timeout (beside the assistant's): triage runs before every
answer, and a slow classifier must not hold up the person waiting. Any failure — no model
answered, a timeout, an answer that is not one of the three words — raises, and the combined
triage (pipeline/zone_triage.py) falls back to the rules alone.
"""

from __future__ import annotations

import asyncio
import re

from wagate.assistants.openai_compatible import OpenAICompatibleAssistant
from wagate.domain.assistant_port import Assistant
from wagate.domain.chat import ChatTurn, Role
from wagate.domain.privacy.masking import mask_reference
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.domain.zones import Zone

# The fake OpenAI server recognises a classification request by this sentence (fakes/openai.py):
# keep them in step.
ONE_WORD_INSTRUCTION = "Answer with one word: green, yellow or red."

CLASSIFY_PROMPT = f"""You sort messages sent to an Indonesian legal-aid office on WhatsApp.
green: general information (office hours, fees, procedures, what the law says in general).
yellow: advice on the writer's own case or a relative's (their divorce, land, dismissal, debt,
a report against them).
red: danger now: violence happening or just happened and may recur, an arrest or detention in
progress, a threat to someone's life, a child at risk, self-harm or suicide, someone kidnapped or
locked in. When unsure between red and another zone, answer red.
{ONE_WORD_INSTRUCTION}"""

_WORDS = {
    "green": Zone.GREEN,
    "hijau": Zone.GREEN,
    "yellow": Zone.YELLOW,
    "kuning": Zone.YELLOW,
    "red": Zone.RED,
    "merah": Zone.RED,
}
_FIRST_WORD = re.compile(r"[a-z]+")


class UnclearZone(ValueError):
    """The model answered, but not with one of the three zones."""


def zone_of_answer(text: str) -> Zone:
    """The zone a model's answer names: its first word, in English or Indonesian."""
    match = _FIRST_WORD.search(text.strip().lower())
    zone = _WORDS.get(match[0]) if match else None
    if zone is None:
        raise UnclearZone(f"not a zone: {text[:40]!r}")
    return zone


class AssistantZoneClassifier:
    """A ZoneClassifier (pipeline/ports.py) over any Assistant."""

    def __init__(self, assistant: Assistant, *, timeout_seconds: float = 5.0) -> None:
        self._assistant = assistant
        self._timeout = timeout_seconds

    async def classify(self, question: str) -> Zone:
        masked = mask_reference(question, vault=PlaceholderVault())
        turns = [
            ChatTurn(role=Role.SYSTEM, content=CLASSIFY_PROMPT),
            ChatTurn(role=Role.USER, content=masked),
        ]
        # A timeout scope, not wait_for: on Python 3.11 wait_for runs the call as a task of
        # its own, one more task and loop round per message for the same deadline.
        async with asyncio.timeout(self._timeout):
            reply = await self._assistant.reply(turns)
        return zone_of_answer(reply.text)

    async def aclose(self) -> None:
        await self._assistant.aclose()


def classifier_assistant(
    *, base_url: str, api_key: str, model: str, timeout_seconds: float
) -> OpenAICompatibleAssistant:
    """The assistant a classification wants: one model, temperature 0, a few tokens, a short
    timeout (no fallback chain: the rules are the fallback)."""
    return OpenAICompatibleAssistant(
        base_url=base_url,
        api_key=api_key,
        model=model,
        timeout_seconds=timeout_seconds,
        temperature=0.0,
        max_tokens=5,
    )
