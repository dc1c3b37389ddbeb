"""Each conversation step alone, on the shared in-memory ports (wagate.testing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wagate.domain import errors as e
from wagate.domain.chat import AssistantUnavailable, ChatTurn, Role
from wagate.domain.consent import OPTOUT_CONFIRMATION_KIND, ConsentState, Keywords
from wagate.domain.conversation import Notices
from wagate.domain.identity import AccountView, IdentityPolicy
from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.conversation.assistant import (
    Answer,
    ApologiseAndRetry,
    AskAssistant,
    Unavailable,
)
from wagate.pipeline.conversation.compose import Compose
from wagate.pipeline.conversation.consent import ConsentGate
from wagate.pipeline.conversation.context import BuildPrompt, HookSource
from wagate.pipeline.conversation.presence import ShowTyping
from wagate.pipeline.conversation.record import Outcome, RunRecorder, Turns, notice
from wagate.pipeline.conversation.review import ReviewCase, SendEverything, Verdict
from wagate.pipeline.conversation.triage import TriageStep
from wagate.pipeline.conversation.who import WhoIsWriting
from wagate.pipeline.ports import Burst, Identity, ReplyRecord
from wagate.testing import (
    Clock,
    Directory,
    MemoryAudit,
    MemoryConversationStore,
    MemoryIdentityStore,
    MemorySessionStore,
    MemoryVaultStore,
    ScriptedAssistant,
    ScriptedProvider,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTICES = Notices(
    disclosure="[AI]",
    disclaimer="[disclaimer]",
    link_first="[link]",
    rate_limited="[rate]",
    too_long="[max {max_chars}]",
    non_text="[teks saja]",
    apology="[maaf]",
)
ACCOUNT = AccountView(id=7, username="budi", approved=True)


def burst_of(*texts: str | None, kinds: list[str] | None = None) -> Burst:
    store = MemoryConversationStore()
    for i, text in enumerate(texts):
        store.receive(text, at=T0 + timedelta(seconds=i), kind=(kinds or ["text"] * 9)[i])
    return store.bursts[1]


def identity(**fields: object) -> Identity:
    base: dict[str, object] = {
        "contact_id": 1,
        "account": ACCOUNT,
        "link_notice_at": None,
        "rate_notice_at": None,
    }
    return Identity(**{**base, **fields})  # type: ignore[arg-type]


# ------------------------------------------------------------------ 1. who is writing


async def test_open_policy_creates_the_account_and_lets_it_converse() -> None:
    identities = MemoryIdentityStore()
    who = WhoIsWriting(identities=identities, policy=IdentityPolicy.OPEN, notices=NOTICES)
    writer = await who(burst_of("halo"), T0)
    assert writer.may_converse and writer.notices == []
    assert writer.identity.account is not None


async def test_verified_policy_sends_the_link_notice_at_most_daily() -> None:
    identities = MemoryIdentityStore()
    who = WhoIsWriting(identities=identities, policy=IdentityPolicy.VERIFIED, notices=NOTICES)
    first = await who(burst_of("halo"), T0)
    assert not first.may_converse
    assert [d.text for d in first.notices] == ["[link]"]
    assert identities.notices == [("link", T0)]
    later = await who(burst_of("halo"), T0 + timedelta(hours=23))
    assert later.notices == []
    next_day = await who(burst_of("halo"), T0 + timedelta(days=1))
    assert [d.text for d in next_day.notices] == ["[link]"]


# ------------------------------------------------------------------ 2. consent


async def test_consent_keyword_is_recorded_with_evidence_and_opt_out_confirmed() -> None:
    identities = MemoryIdentityStore()
    gate = ConsentGate(
        identities=identities,
        notices=Notices(consent_recorded="[ok]", optout_confirmed="[stop {consent}]"),
        keywords=Keywords(),
    )
    burst = burst_of("SETUJU", "apa itu PT?")
    answerable, drafts = await gate.apply(burst, identity(), T0, notice)
    assert [m.text for m in answerable] == ["apa itu PT?"]
    assert [d.text for d in drafts] == ["[ok]"]
    assert identities.consents == [(ConsentState.GRANTED, "wamid.in.1", "SETUJU")]
    stopped = identity(consent_state=ConsentState.GRANTED)
    answerable, drafts = await gate.apply(burst_of("BERHENTI"), stopped, T0, notice)
    assert answerable == [] and [d.text for d in drafts] == ["[stop SETUJU]"]


async def test_without_consent_required_only_the_opt_out_is_honoured() -> None:
    """Opting out is a right, not a setting: with CONSENT_REQUIRED off the gate lets ordinary
    messages through and asks for nothing, but BERHENTI stops everything except its one
    confirmation, and the consent keyword is the way back."""
    identities = MemoryIdentityStore()
    gate = ConsentGate(
        identities=identities,
        notices=Notices(consent_recorded="[ok]", optout_confirmed="[stop {consent}]"),
        keywords=Keywords(),
        required=False,
    )
    answerable, drafts = await gate.apply(burst_of("halo", "setuju"), identity(), T0, notice)
    assert [m.text for m in answerable] == ["halo", "setuju"] and drafts == []
    assert identities.consents == [] and identities.notices == []

    answerable, drafts = await gate.apply(
        burst_of("apa itu PT?", "berhenti!"), identity(), T0, notice
    )
    assert [m.text for m in answerable] == ["apa itu PT?"]
    assert [(d.text, d.kind) for d in drafts] == [("[stop SETUJU]", OPTOUT_CONFIRMATION_KIND)]
    assert identities.consents == [(ConsentState.WITHDRAWN, "wamid.in.2", "berhenti!")]

    stopped = identity(consent_state=ConsentState.WITHDRAWN)
    answerable, drafts = await gate.apply(burst_of("halo lagi"), stopped, T0, notice)
    assert answerable == [] and drafts == []
    answerable, drafts = await gate.apply(burst_of("SETUJU", "halo"), stopped, T0, notice)
    assert [m.text for m in answerable] == ["halo"] and [d.text for d in drafts] == ["[ok]"]


# ------------------------------------------------------------------ 3. triage and policy


def triage_step(store: MemoryConversationStore, identities: MemoryIdentityStore) -> TriageStep:
    return TriageStep(
        store=store, identities=identities, notices=NOTICES, max_chars=10, rate_limit=2
    )


async def test_triage_notices_over_long_and_non_text_and_keeps_the_rest_for_the_ai() -> None:
    store, identities = MemoryConversationStore(), MemoryIdentityStore()
    burst = burst_of("pendek", "x" * 11)
    triaged = await triage_step(store, identities)(burst, identity(), burst.messages, T0)
    assert triaged.question == "pendek"
    assert [d.text for d in triaged.notices] == ["[max 10]"]
    media = burst_of(None, kinds=["image"])
    triaged = await triage_step(store, identities)(media, identity(), media.messages, T0)
    assert triaged.question is None
    assert [d.idempotency_key.rsplit(":", 1)[1] for d in triaged.notices] == ["non_text"]


async def test_triage_rate_notice_once_a_minute() -> None:
    store, identities = MemoryConversationStore(), MemoryIdentityStore()
    store.earlier = [T0 - timedelta(seconds=20), T0 - timedelta(seconds=10)]
    burst = burst_of("halo")
    step = triage_step(store, identities)
    triaged = await step(burst, identity(), burst.messages, T0)
    assert triaged.question is None and [d.text for d in triaged.notices] == ["[rate]"]
    assert identities.notices == [("rate", T0)]
    recently = identity(rate_notice_at=T0 - timedelta(seconds=30))
    assert (await step(burst, recently, burst.messages, T0)).notices == []


async def test_triage_uses_the_arrivals_read_with_the_burst_while_its_first_message_holds() -> None:
    store, identities = MemoryConversationStore(), MemoryIdentityStore()
    store.earlier = []  # the store would say: nothing earlier
    read = [T0 - timedelta(seconds=20), T0 - timedelta(seconds=10)]
    burst = replace(burst_of("halo"), earlier_arrivals=read, earlier_before=T0)
    step = triage_step(store, identities)
    triaged = await step(burst, identity(), burst.messages, T0)
    assert triaged.question is None and [d.text for d in triaged.notices] == ["[rate]"]
    # Read before another first message: not this burst's window, the store is asked.
    stale = replace(burst, earlier_before=T0 - timedelta(seconds=5))
    assert (await step(stale, identity(), stale.messages, T0)).question == "halo"


# ------------------------------------------------------------------ 4. context and retrieval


async def test_the_prompt_is_system_context_history_then_the_question() -> None:
    asked: list[int] = []

    async def hook(account_id: int) -> str | None:
        asked.append(account_id)
        return "Paket: Premium"

    class Knowledge:
        async def context(self, *, account_id: int | None, question: str) -> str | None:
            return f"Pasal untuk: {question}"

    build = BuildPrompt(
        system_prompt="Anda asisten.",
        history_turns=2,
        sources=[HookSource(hook=hook), Knowledge()],
    )
    history = [ChatTurn(role=Role.USER, content=str(i)) for i in range(5)]
    turns = await build(identity(), history, "apa itu PT?")
    assert turns[0] == ChatTurn(
        role=Role.SYSTEM,
        content="Anda asisten.\n\nPaket: Premium\n\nPasal untuk: apa itu PT?",
    )
    assert [t.content for t in turns[1:]] == ["3", "4", "apa itu PT?"]
    assert asked == [7]
    # No account: the hook is not asked; no system prompt and no context: no system turn.
    bare = await BuildPrompt(system_prompt="", history_turns=2, sources=[HookSource(hook=hook)])(
        identity(account=None), [], "q"
    )
    assert bare == [ChatTurn(role=Role.USER, content="q")] and asked == [7]


# ------------------------------------------------------------------ 5. assistant


async def test_the_assistant_sees_only_placeholders_and_the_answer_is_restored() -> None:
    assistant, vaults = ScriptedAssistant(), MemoryVaultStore()
    ask = AskAssistant(assistant=assistant, vaults=vaults)
    burst = burst_of("x")
    prompt = [ChatTurn(role=Role.USER, content="email saya budi@contoh.co.id")]
    answer = await ask(burst, identity(), prompt)
    assert assistant.prompts[0][0].content == "email saya [EMAIL_1]"
    assert answer == Answer(
        text="email saya budi@contoh.co.id",
        model="scripted",
        attempts=1,
        placeholders=1,
        masked_text="email saya [EMAIL_1]",  # what a held draft keeps
        masked_question="email saya [EMAIL_1]",
    )
    assert vaults.vaults[1]


async def test_extra_recognisers_mask_across_all_turns_of_the_call() -> None:
    """A model stage (here a stub) adds what the built-in recognisers miss, and a name it finds
    in the question is hidden in the history sent with it too (the turns are masked together)."""

    def stub_model(text: str) -> list[Span]:
        at = text.find("Reza")  # a lone name with no cue: the built-in recognisers miss it
        return [Span(start=at, end=at + 4, kind=EntityType.NAMA, value="Reza")] * (at >= 0)

    assistant, vaults = ScriptedAssistant(), MemoryVaultStore()
    ask = AskAssistant(assistant=assistant, vaults=vaults, stages=[stub_model])
    prompt = [
        ChatTurn(role=Role.USER, content="kemarin reza datang lagi"),
        ChatTurn(role=Role.USER, content="saya ditipu Reza"),
    ]
    await ask(burst_of("x"), identity(), prompt)
    sent = " ".join(turn.content for turn in assistant.prompts[0])
    assert "reza" not in sent.lower()
    assert "[NAMA_1]" in sent


async def test_an_unavailable_assistant_is_an_outcome_and_the_vault_is_kept() -> None:
    assistant = ScriptedAssistant(script=[AssistantUnavailable("down")])
    vaults = MemoryVaultStore()
    answer = await AskAssistant(assistant=assistant, vaults=vaults)(
        burst_of("x"), identity(), [ChatTurn(role=Role.USER, content="hp 081234567890")]
    )
    assert answer == Unavailable(error="AssistantUnavailable")
    assert vaults.vaults[1]  # saved before the call: placeholders stable across retries


async def test_apology_keeps_the_burst_and_queues_a_retry_with_backoff() -> None:
    store, clock = MemoryConversationStore(), Clock(T0)
    store.receive("halo", at=T0)
    burst = store.bursts[1]
    backoff = BackoffPolicy(max_attempts=3, base=timedelta(seconds=4))
    retry = ApologiseAndRetry(
        store=store,
        recorder=RunRecorder(store=store, clock=clock),
        backoff=backoff,
        notices=NOTICES,
        clock=clock,
        jitter=lambda: 0.5,
    )
    await retry(burst, [notice(burst, "too_long", "[max]")], 3, Unavailable(error="X"))
    record = store.finished[0]
    assert [d.text for d in record.drafts] == ["[max]", "[maaf]"]
    assert record.run.outcome == "retry" and record.run.message_ids == []
    assert record.run.error == "X"
    assert store.deferred == [(1, T0 + backoff.delay(3, jitter=0.5), 4)]
    assert len(store.bursts[1].messages) == 1


# ------------------------------------------------------------------ 6. review


async def test_without_a_reviewer_every_answer_is_sent() -> None:
    case = ReviewCase(
        conversation_id=1, run_key="run:1:1", account=None, question="q", answer="a", model="m"
    )
    assert (await SendEverything()(case)).verdict is Verdict.SEND


# ------------------------------------------------------------------ 7. compose


def test_compose_frames_the_answer_and_keys_each_part() -> None:
    burst = burst_of("x")
    composed = Compose(notices=NOTICES)(burst, "**Ya**.", session_disclosed=False)
    assert composed.disclosed
    assert [d.text for d in composed.parts] == ["[AI]\n\n*Ya*.\n\n[disclaimer]"]
    assert composed.parts[0].idempotency_key == f"{burst.run_key}:reply:0"
    quiet = Compose(notices=Notices(disclosure="", disclaimer=""))
    plain = quiet(burst, "Ya.", session_disclosed=False)
    assert [d.text for d in plain.parts] == ["Ya."] and not plain.disclosed


def test_a_long_answer_is_split_into_ordered_parts() -> None:
    burst = burst_of("x")
    answer = "\n\n".join("kalimat " * 100 for _ in range(12))
    composed = Compose(notices=NOTICES)(burst, answer, session_disclosed=True)
    assert len(composed.parts) > 1 and not composed.disclosed
    assert [d.part_index for d in composed.parts] == list(range(len(composed.parts)))
    assert all(len(d.text) <= 4096 for d in composed.parts)
    assert not composed.parts[0].text.startswith("[AI]")


def test_the_answer_quotes_the_last_message_of_the_burst_in_its_first_part_only() -> None:
    burst = burst_of("pertanyaan satu", "pertanyaan dua")
    answer = "\n\n".join("kalimat " * 100 for _ in range(12))
    parts = Compose(notices=NOTICES)(burst, answer, session_disclosed=True).parts
    assert len(parts) > 1
    last = burst.messages[-1].provider_message_id
    assert last != burst.messages[0].provider_message_id
    assert [d.reply_to for d in parts] == [last] + [None] * (len(parts) - 1)


# ------------------------------------------------------------------ recording and presence


async def test_a_finished_run_is_one_record_and_audited_without_text() -> None:
    store, sessions, audit = MemoryConversationStore(), MemorySessionStore(), MemoryAudit()
    store.sessions = sessions
    store.receive("rahasia", at=T0)
    burst = store.bursts[1]
    recorder = RunRecorder(store=store, clock=Clock(T0), audit=audit)
    reply = Compose(notices=NOTICES)(burst, "jawab", session_disclosed=True).parts
    await recorder.finish(
        burst,
        Outcome.ANSWERED,
        T0,
        reply,
        turns=Turns(session_id=1, user="rahasia", assistant="jawab"),
        facts={"ai_model": "m"},
    )
    assert store.bursts[1].messages == []
    assert [t.content for t in sessions.history[1]] == ["rahasia", "jawab"]
    assert audit.actions() == ["message.received", "run.answered"]
    assert audit.events[1].details["reply_parts"] == 1
    assert "rahasia" not in repr(audit.events) and "jawab" not in repr(audit.events)


async def test_a_store_that_carries_the_run_s_audit_events_is_not_audited_twice() -> None:
    """The events go to the store with the record; only when it says it did not append them
    does the recorder append them itself (the same events, once)."""

    class Carrying(MemoryConversationStore):
        carried: list[str]

        async def finish(self, record: ReplyRecord) -> bool:
            await super().finish(record)
            self.carried = [event.action for event in record.audit]
            return True

    for store in (Carrying(), MemoryConversationStore()):
        audit = MemoryAudit()
        store.receive("halo", at=T0)
        recorder = RunRecorder(store=store, clock=Clock(T0), audit=audit)
        await recorder.finish(store.bursts[1], Outcome.NO_QUESTION, T0, [])
        if isinstance(store, Carrying):
            assert store.carried == ["message.received", "run.no_question"]
            assert audit.actions() == []
        else:
            assert list(store.finished[0].audit) == audit.events
            assert audit.actions() == ["message.received", "run.no_question"]


async def test_typing_is_best_effort() -> None:
    burst = burst_of("x")
    provider = ScriptedProvider()
    assert await ShowTyping(providers=Directory(provider))(burst)
    assert provider.read == ["wamid.in.1"]
    assert not await ShowTyping(providers=Directory(None))(burst)

    class Failing(ScriptedProvider):
        async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
            raise e.ProviderUnavailable("503")

    assert not await ShowTyping(providers=Directory(Failing()))(burst)
