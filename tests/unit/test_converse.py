"""Whole conversation runs on the shared in-memory ports: from a stored message to what the
provider was asked to send (the e2e suite proves the same on PostgreSQL and over HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wagate.domain.breaker import BreakerPolicy
from wagate.domain.capabilities import Capabilities
from wagate.domain.chat import AssistantUnavailable, Role
from wagate.domain.consent import CONSENT_BUTTON_ID, OPTOUT_BUTTON_ID, Keywords
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.identity import AccountView, IdentityPolicy
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.conversation.consent import ConsentGate
from wagate.pipeline.conversation.review import Decision, ReviewCase, Verdict
from wagate.pipeline.converse import Converse, ConversePolicy, Outcome
from wagate.pipeline.deliver import Deliver
from wagate.testing import (
    Clock,
    Directory,
    MemoryAudit,
    MemoryConversationStore,
    MemoryHealth,
    MemoryIdentityStore,
    MemoryOutbox,
    MemorySessionStore,
    MemoryVaultStore,
    ScriptedAssistant,
    ScriptedProvider,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTICES = Notices(
    disclosure="[AI]",
    disclaimer="[bukan nasihat hukum]",
    link_first="[hubungkan nomor]",
    rate_limited="[terlalu banyak]",
    apology="[maaf, gangguan]",
    consent_request="[balas {consent}]",
    consent_recorded="[tercatat]",
)


@dataclass
class World:
    converse: Converse
    clock: Clock
    store: MemoryConversationStore
    identities: MemoryIdentityStore
    sessions: MemorySessionStore
    vaults: MemoryVaultStore
    assistant: ScriptedAssistant
    provider: ScriptedProvider
    outbox: MemoryOutbox
    audit: MemoryAudit = field(default_factory=MemoryAudit)

    def say(self, text: str | None, *, kind: str = "text", name: str | None = None) -> None:
        self.store.receive(text, at=self.clock.now, kind=kind, contact_name=name)

    async def run(self, attempt: int = 0) -> Outcome:
        return await self.converse(1, attempt=attempt)


def world(
    *,
    identities: MemoryIdentityStore | None = None,
    identity: IdentityPolicy = IdentityPolicy.OPEN,
    consent: bool = False,
    rate_limit: int = 10,
    capabilities: Capabilities | None = None,
) -> World:
    clock = Clock(T0)
    outbox = MemoryOutbox(clock=clock)
    sessions = MemorySessionStore()
    store = MemoryConversationStore(sessions=sessions, outbox=outbox)
    identities = identities or MemoryIdentityStore()
    vaults = MemoryVaultStore()
    assistant = ScriptedAssistant()
    provider = ScriptedProvider()
    if capabilities is not None:
        provider.capabilities = capabilities
    audit = MemoryAudit()
    directory = Directory(provider)
    backoff = BackoffPolicy(max_attempts=3, base=timedelta(seconds=2))
    converse = Converse(
        store=store,
        identities=identities,
        sessions=sessions,
        assistant=assistant,
        vaults=vaults,
        deliver=Deliver(
            outbox=outbox,
            providers=directory,
            backoff=backoff,
            clock=clock,
            jitter=lambda: 0.0,
            health=MemoryHealth(),
            breaker=BreakerPolicy(),
            pacing=None,
        ),
        providers=directory,
        debounce=DebouncePolicy(quiet=timedelta(0), max_wait=timedelta(0)),
        backoff=backoff,
        policy=ConversePolicy(
            identity=identity, rate_limit=rate_limit, system_prompt="Anda asisten.", notices=NOTICES
        ),
        clock=clock,
        audit=audit,
        consent=ConsentGate(identities=identities, notices=NOTICES, keywords=Keywords())
        if consent
        else None,
        jitter=lambda: 0.0,
    )
    return World(
        converse, clock, store, identities, sessions, vaults, assistant, provider, outbox, audit
    )


async def test_a_question_is_answered_framed_and_the_burst_processed() -> None:
    w = world()
    w.assistant.script = ["Syaratnya **KTP** dan NPWP."]
    w.say("Apa syarat mendirikan PT?")
    assert await w.run() is Outcome.ANSWERED
    assert w.provider.sent == ["[AI]\n\nSyaratnya *KTP* dan NPWP.\n\n[bukan nasihat hukum]"]
    assert w.store.bursts[1].messages == []
    assert w.provider.read == ["wamid.in.1"]  # marked read, typing shown
    prompt = w.assistant.prompts[0]
    assert [t.role for t in prompt] == [Role.SYSTEM, Role.USER]
    run = [e for e in w.audit.events if e.action == "run.answered"]
    assert run and run[0].details["review"] == "send"
    assert run[0].details["reply_parts"] == 1


async def test_the_disclosure_opens_each_session_once() -> None:
    w = world()
    w.assistant.script = ["satu", "dua", "tiga"]
    w.say("halo")
    await w.run()
    w.clock.now += timedelta(minutes=5)
    w.say("lagi")
    await w.run()
    w.clock.now += timedelta(minutes=31)  # silence: a new session
    w.say("lagi")
    await w.run()
    assert [text.startswith("[AI]") for text in w.provider.sent] == [True, False, True]
    assert all(text.endswith("[bukan nasihat hukum]") for text in w.provider.sent)
    # The second run saw the first exchange as history.
    assert [t.content for t in w.assistant.prompts[1][1:]] == ["halo", "satu", "lagi"]
    # Recorded with each run's turns, in the run's own transaction: only the disclosing
    # runs say so.
    assert [r.disclosed for r in w.store.finished] == [True, False, True]


async def test_nothing_masked_writes_no_vault_and_the_first_placeholder_does() -> None:
    w = world()
    w.assistant.script = ["ya", "baik"]
    w.say("Apa syarat mendirikan PT?")
    await w.run()
    assert w.vaults.vaults == {}  # nothing to keep: no vault row, no transaction for it
    w.say("Kirim ke budi@contoh.co.id")
    await w.run()
    assert len(w.vaults.vaults[1]["entries"]) == 1  # type: ignore[arg-type]


async def test_an_unlinked_number_hears_the_link_notice_once_a_day_and_nothing_else() -> None:
    w = world(identity=IdentityPolicy.VERIFIED)
    w.say("halo")
    assert await w.run() is Outcome.UNLINKED
    w.clock.now += timedelta(hours=1)
    w.say("halo?")
    assert await w.run() is Outcome.UNLINKED
    assert w.provider.sent == ["[hubungkan nomor]"]
    assert w.assistant.prompts == []
    assert w.store.bursts[1].messages == []


async def test_a_linked_approved_account_is_answered_in_verified_policy() -> None:
    identities = MemoryIdentityStore(account=AccountView(id=7, username="budi", approved=True))
    w = world(identities=identities, identity=IdentityPolicy.VERIFIED)
    w.say("halo")
    assert await w.run() is Outcome.ANSWERED


async def test_nothing_reaches_the_ai_before_consent() -> None:
    w = world(consent=True)
    w.say("Berapa biaya akta?")
    assert await w.run() is Outcome.NO_QUESTION
    assert w.provider.sent == ["[AI]\n\n[balas SETUJU]"]
    assert w.assistant.prompts == []
    w.clock.now += timedelta(minutes=1)
    w.say("SETUJU")
    await w.run()
    w.say("Berapa biaya akta?")
    w.clock.now += timedelta(seconds=1)
    assert await w.run() is Outcome.ANSWERED
    assert w.provider.sent[1] == "[tercatat]"
    assert len(w.assistant.prompts) == 1


async def test_a_rate_limited_sender_gets_one_notice_and_no_answer() -> None:
    w = world(rate_limit=3)
    w.store.earlier = [T0 - timedelta(seconds=s) for s in (5, 10, 15)]
    w.say("halo")
    assert await w.run() is Outcome.NO_QUESTION
    assert w.provider.sent == ["[terlalu banyak]"]
    assert w.assistant.prompts == []
    w.say("halo lagi")
    await w.run()
    assert w.provider.sent == ["[terlalu banyak]"]  # at most one notice a minute


async def test_a_run_that_goes_through_clears_the_failure_count_only_when_there_is_one() -> None:
    w = world()
    w.assistant.script = ["Jawaban pertama.", "Jawaban kedua."]
    w.say("Pertanyaan pertama?")
    assert await w.run() is Outcome.ANSWERED
    assert w.store.failures_cleared == []  # never failed: nothing to clear, no statement
    w.say("Pertanyaan kedua?")
    w.store.bursts[1] = replace(w.store.bursts[1], failing=True)  # earlier runs failed
    assert await w.run() is Outcome.ANSWERED
    assert w.store.failures_cleared == [1]


async def test_a_run_that_raises_keeps_the_failure_count() -> None:
    w = world()
    w.say("Pertanyaan?")
    w.store.bursts[1] = replace(w.store.bursts[1], failing=True)
    w.assistant.script = [RuntimeError("a bug")]
    with pytest.raises(RuntimeError):
        await w.run()
    assert w.store.failures_cleared == []  # the worker counts this failure on top


async def test_ai_unavailable_apologises_once_keeps_the_burst_and_retries() -> None:
    w = world()
    w.assistant.script = [AssistantUnavailable("all models failed")]
    w.say("Apa syarat mendirikan PT?")
    assert await w.run() is Outcome.RETRY
    assert w.provider.sent == ["[maaf, gangguan]"]
    assert [m.text for m in w.store.bursts[1].messages] == ["Apa syarat mendirikan PT?"]
    delay = w.converse.backoff.delay(0, jitter=0.0)
    assert delay > timedelta(0)
    assert w.store.deferred == [(1, T0 + delay, 1)]
    # The retry answers; the apology (keyed on the burst) is not sent again.
    w.clock.now += delay
    w.assistant.script = [AssistantUnavailable("still down"), "Jawabannya."]
    assert await w.run(attempt=1) is Outcome.RETRY
    assert await w.run(attempt=2) is Outcome.ANSWERED
    assert w.provider.sent == ["[maaf, gangguan]", "[AI]\n\nJawabannya.\n\n[bukan nasihat hukum]"]


async def test_pii_is_masked_before_the_assistant_and_restored_after() -> None:
    w = world()
    w.say("Saya Budi Santoso, email budi@contoh.co.id, hp 081234567890", name="Budi Santoso")
    assert await w.run() is Outcome.ANSWERED  # the scripted assistant echoes the question
    asked = w.assistant.prompts[0][-1].content
    assert asked == "Saya [NAMA_1], email [EMAIL_1], hp [TELEPON_1]"
    assert "Budi Santoso, email budi@contoh.co.id, hp 081234567890" in w.provider.sent[0]
    assert len(w.vaults.vaults[1]["entries"]) == 3  # type: ignore[arg-type]
    # The same values keep their placeholders in the next run.
    w.say("Ulangi: budi@contoh.co.id")
    await w.run()
    assert w.assistant.prompts[1][-1].content == "Ulangi: [EMAIL_1]"


async def test_a_held_answer_is_recorded_and_nothing_of_it_is_sent() -> None:
    w = world()
    cases: list[ReviewCase] = []

    async def hold(case: ReviewCase) -> Decision:
        cases.append(case)
        return Decision(verdict=Verdict.HOLD, reason="legal_advice")

    w.converse.review = hold
    w.assistant.script = ["Jawaban berisiko."]
    w.say("Bisakah saya menggugat?")
    assert await w.run() is Outcome.HELD
    assert w.provider.sent == []
    assert [(c.question, c.answer) for c in cases] == [
        ("Bisakah saya menggugat?", "Jawaban berisiko.")
    ]
    held = [e for e in w.audit.events if e.action == "run.held"]
    assert held and held[0].details["reason"] == "legal_advice"
    assert w.store.bursts[1].messages == []


async def test_a_message_refused_as_too_long_is_marked_read_beside_its_notice() -> None:
    """Issue 16 item 7: the person got the notice but no read receipt."""
    w = world()
    w.say("x" * 5000)
    assert await w.run() is Outcome.NO_QUESTION
    [sent] = w.provider.sent
    assert "terlalu panjang" in sent and "1000" in sent
    assert w.provider.read == ["wamid.in.1"]
    assert w.provider.typing == [False]  # read, but nobody is writing an answer
    assert w.assistant.prompts == []


async def test_a_burst_with_nothing_to_answer_and_nothing_too_long_is_not_marked_read() -> None:
    w = world()
    w.say(None, kind="location")
    await w.run()
    assert w.provider.read == []


BUTTONS = Capabilities(window_24h=True, status_webhooks=True, templates=True, interactive=True)


async def test_the_consent_request_goes_with_buttons_and_a_tap_is_understood_by_its_id() -> None:
    """Issue 16 item 7: SETUJU/BERHENTI as reply buttons where the channel has them."""
    w = world(consent=True, capabilities=BUTTONS)
    w.say("Berapa biaya akta?")
    assert await w.run() is Outcome.NO_QUESTION
    assert w.provider.sent == []  # not as text: as buttons
    [request] = w.provider.interactive
    assert request.type == "button" and request.body == "[AI]\n\n[balas SETUJU]"
    assert [(c.id, c.title) for c in request.choices] == [
        (CONSENT_BUTTON_ID, "SETUJU"),
        (OPTOUT_BUTTON_ID, "BERHENTI"),
    ]
    w.clock.now += timedelta(minutes=1)
    # The title shown may differ from the keyword (a translated client): the id decides.
    w.store.receive("Ya", at=w.clock.now, kind="interactive", reply_id=CONSENT_BUTTON_ID)
    await w.run()
    assert w.provider.sent == ["[tercatat]"]
    assert w.assistant.prompts == []  # the tap itself is no question
    w.say("Berapa biaya akta?")
    w.clock.now += timedelta(seconds=1)
    assert await w.run() is Outcome.ANSWERED


async def test_the_optout_button_and_a_template_quick_reply_payload_count_as_keywords() -> None:
    w = world(consent=True, capabilities=BUTTONS)
    w.store.receive("Tidak", at=w.clock.now, kind="interactive", reply_id=OPTOUT_BUTTON_ID)
    await w.run()
    assert w.identities.consent_state is not None
    assert w.identities.consent_state.value == "withdrawn"
    w.clock.now += timedelta(minutes=1)
    # A quick reply of an approved template whose payload is the keyword.
    w.store.receive("Saya setuju", at=w.clock.now, kind="button", reply_id="setuju")
    await w.run()
    assert w.identities.consent_state.value == "granted"


async def test_a_channel_without_buttons_gets_the_consent_request_as_text() -> None:
    w = world(consent=True, capabilities=Capabilities())  # Fonnte's: no interactive
    w.say("halo")
    await w.run()
    assert w.provider.sent == ["[AI]\n\n[balas SETUJU]"]
    assert w.provider.interactive == []


async def test_the_delivery_s_opening_read_rides_in_the_run_s_finish_and_is_not_kept() -> None:
    """Issue 18: the run's finishing transaction answers the delivery's opening read (the
    memory store does it after writing the run's rows, as PostgreSQL's does), so the delivery
    reads nothing more; the answer serves that run only."""
    w = world()
    reads: list[str] = []
    due = w.outbox.due

    async def counted(conversation_id: int, **kwargs: Any) -> Any:
        reads.append("due")
        return await due(conversation_id, **kwargs)

    w.outbox.due = counted  # type: ignore[method-assign]
    w.assistant.script = ["Jawaban."]
    w.say("Apa syarat mendirikan PT?")
    assert await w.run() is Outcome.ANSWERED
    assert len(w.provider.sent) == 1 and "Jawaban." in w.provider.sent[0]
    read = w.store.finished[-1].due_read
    assert read is not None and read.found is not None  # answered by the finish
    assert reads == ["due"]  # that once: the delivery did not read again
    assert w.converse.record.take_due(1) is None  # taken by the delivery, nothing left
    # A run with nothing to answer reads for itself, and nothing stays behind either.
    assert await w.run() is Outcome.NOTHING_TO_DO
    assert reads == ["due", "due"]
    assert w.converse.record.take_due(1) is None


async def test_a_delivery_read_kept_from_an_earlier_step_does_not_hide_the_apology() -> None:
    """A read stored by an earlier step of the run (a settled form's) lists only that step's
    messages: the apology written by `keep_for_retry` after it must go out now, not after
    the retry's backoff (review of p18cpu)."""
    from wagate.pipeline.ports import DueMessages

    w = world()
    w.assistant.script = [AssistantUnavailable("all models failed")]
    w.say("Apa syarat mendirikan PT?")
    w.converse.record._due[1] = DueMessages(messages=[])  # what an earlier step left
    assert await w.run() is Outcome.RETRY
    assert w.provider.sent == ["[maaf, gangguan]"]
