"""Case intake in whole conversation runs on the in-memory ports (FL1): a Flow completion
becomes one intake, confirmed once, audited, alerted and counted, never sent to the AI; the
keyword sends the Flow message, or is an ordinary question where there is no Flow."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wagate.domain.breaker import BreakerPolicy
from wagate.domain.capabilities import Capabilities
from wagate.domain.case_intake import IntakeFlow
from wagate.domain.consent import ConsentState, Keywords
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.messages import Provider
from wagate.domain.retry import BackoffPolicy
from wagate.domain.window import TemplateSet
from wagate.pipeline.conversation.case_intake import CaseIntakeStep
from wagate.pipeline.conversation.consent import ConsentGate
from wagate.pipeline.converse import Converse, ConversePolicy, Outcome
from wagate.pipeline.deliver import Deliver
from wagate.pipeline.ports import OutboundMessage
from wagate.testing import (
    Clock,
    Directory,
    MemoryAlerts,
    MemoryAudit,
    MemoryCaseIntakes,
    MemoryConversationStore,
    MemoryHealth,
    MemoryIdentityStore,
    MemoryOutbox,
    MemorySessionStore,
    MemoryVaultStore,
    Row,
    ScriptedAssistant,
    ScriptedProvider,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FLOW = IntakeFlow(
    flow_id="400000000000001",
    confirmation_text="[diterima {reference}]",
    problem_text="[kurang {reference}]",
)
GOOD = json.dumps(
    {
        "flow_token": "wagate-intake-x",
        "full_name": "Budi Santoso",
        "nik": "3171011203850001",
        "phone": "081200000001",
        "case_type": "tanah",
        "story": "Batas tanah digeser tetangga.",
        "documents": [{"id": "m1", "file_name": "sertifikat.pdf", "mime_type": "application/pdf"}],
        "privacy_consent": True,
    }
)


@dataclass
class World:
    converse: Converse
    clock: Clock
    store: MemoryConversationStore
    intakes: MemoryCaseIntakes
    assistant: ScriptedAssistant
    provider: ScriptedProvider
    outbox: MemoryOutbox
    alerts: MemoryAlerts
    audit: MemoryAudit
    counted: list[int] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.store.receive(text, at=self.clock.now)

    def complete_flow(self, response: str | None) -> None:
        self.store.receive(
            None,
            at=self.clock.now,
            kind="interactive",
            flow_completion=True,
            flow_response=response,
        )

    async def run(self) -> Outcome:
        return await self.converse(1)


def world(
    *,
    flow: IntakeFlow = FLOW,
    capabilities: Capabilities | None = None,
    identities: MemoryIdentityStore | None = None,
    consent: bool = False,
) -> World:
    clock = Clock(T0)
    outbox = MemoryOutbox(clock=clock)
    sessions = MemorySessionStore()
    store = MemoryConversationStore(sessions=sessions, outbox=outbox)
    identities = identities or MemoryIdentityStore()
    assistant = ScriptedAssistant()
    provider = ScriptedProvider()
    if capabilities is not None:
        provider.capabilities = capabilities
    directory = Directory(provider)
    audit, alerts, intakes = MemoryAudit(), MemoryAlerts(), MemoryCaseIntakes()
    backoff = BackoffPolicy(max_attempts=3, base=timedelta(seconds=2))
    counted: list[int] = []
    notices = Notices(disclosure="[AI]", disclaimer="[bukan nasihat hukum]")
    converse = Converse(
        store=store,
        identities=identities,
        sessions=sessions,
        assistant=assistant,
        vaults=MemoryVaultStore(),
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
        policy=ConversePolicy(system_prompt="Anda asisten.", notices=notices),
        clock=clock,
        audit=audit,
        consent=ConsentGate(
            identities=identities, notices=notices, keywords=Keywords(), required=consent
        ),
        jitter=lambda: 0.0,
        case_intakes=CaseIntakeStep(
            store=intakes,
            flow=flow,
            providers=directory,
            clock=clock,
            audit=audit,
            alerts=alerts,
            counted=lambda: counted.append(1),
        ),
    )
    return World(
        converse, clock, store, intakes, assistant, provider, outbox, alerts, audit, counted
    )


async def test_a_completed_flow_becomes_one_confirmed_intake_and_never_reaches_the_ai() -> None:
    w = world()
    w.complete_flow(GOOD)
    assert await w.run() is Outcome.CASE_INTAKE
    [(intake_id, intake)] = w.intakes.rows.items()
    assert intake.parsed.complete and intake.parsed.answers["case_type"] == "tanah"
    assert intake.provider_message_id == "wamid.in.1" and intake.conversation_id == 1
    assert w.provider.sent == [f"[diterima {intake_id}]"]
    assert w.assistant.prompts == []  # no AI call for a form
    assert w.store.bursts[1].messages == []  # processed
    [run] = w.store.finished
    assert run.run.outcome == "case_intake" and run.run.message_ids == [1]
    [alert] = w.alerts.alerts
    assert alert.kind == "case_intake" and alert.key == f"case_intake:{intake_id}"
    assert "Budi" not in alert.summary and "tanah" not in alert.summary
    created = [e for e in w.audit.events if e.action == "case_intake.created"]
    assert [e.subject for e in created] == [f"case_intake:{intake_id}"]
    assert created[0].details["documents"] == 1 and created[0].details["complete"] is True
    assert "Budi" not in json.dumps([e.details for e in w.audit.events], default=str)
    assert w.counted == [1]


async def test_a_retried_run_keeps_one_intake_and_confirms_once() -> None:
    w = world()
    w.complete_flow(GOOD)
    burst = w.store.bursts[1]
    await w.run()
    w.store.bursts[1] = burst  # the same burst again: the run was retried after a crash
    await w.run()
    assert len(w.intakes.rows) == 1
    assert w.provider.sent == ["[diterima 1]"]
    assert len(w.alerts.alerts) == 1 and w.counted == [1]


async def test_a_malformed_completion_is_kept_raw_and_the_person_told_it_is_followed_up() -> None:
    w = world()
    w.complete_flow('{"full_name": "Budi", broken')
    assert await w.run() is Outcome.CASE_INTAKE
    [intake] = w.intakes.rows.values()
    assert intake.parsed.problems == ("not_json",)
    assert intake.parsed.raw == '{"full_name": "Budi", broken'
    assert w.provider.sent == ["[kurang 1]"]
    shown = await w.intakes.show(1)
    assert shown is not None and shown["response"] == '{"full_name": "Budi", broken'


async def test_a_completion_without_a_response_is_still_an_intake() -> None:
    w = world()
    w.complete_flow(None)
    await w.run()
    assert [i.parsed.problems for i in w.intakes.rows.values()] == [("missing_response",)]
    assert w.provider.sent == ["[kurang 1]"]


async def test_a_question_beside_the_completion_is_answered_as_usual() -> None:
    w = world()
    w.assistant.script = ["Jam 8 sampai 16."]
    w.complete_flow(GOOD)
    w.say("jam buka kantor?")
    assert await w.run() is Outcome.ANSWERED
    assert len(w.intakes.rows) == 1
    assert w.provider.sent[0] == "[diterima 1]"
    assert any("Jam 8 sampai 16." in text for text in w.provider.sent[1:])
    assert [r.run.outcome for r in w.store.finished] == ["case_intake", "answered"]
    asked = w.assistant.prompts[0][-1].content
    assert "jam buka kantor" in asked and "Budi" not in asked


async def test_an_unlinked_number_under_the_verified_policy_still_has_its_form_kept() -> None:
    from wagate.domain.identity import IdentityPolicy

    w = world()
    w.converse.policy = ConversePolicy(identity=IdentityPolicy.VERIFIED)
    w.converse.__post_init__()
    w.complete_flow(GOOD)
    assert await w.run() is Outcome.CASE_INTAKE
    assert len(w.intakes.rows) == 1 and w.provider.sent == ["[diterima 1]"]


async def test_the_keyword_sends_the_flow_and_nothing_else() -> None:
    w = world()
    w.say(" Daftar ")
    assert await w.run() is Outcome.INTAKE_INVITED
    [flow] = w.provider.flows
    assert flow.flow_id == "400000000000001" and flow.screen == "DATA_DIRI"
    assert flow.flow_token.startswith("wagate-intake-")
    assert w.provider.sent == [] and w.assistant.prompts == []
    [row] = w.outbox.rows.values()
    assert row.message.kind == "intake_flow" and "DAFTAR" in row.message.text


async def test_the_keyword_waits_for_consent_where_consent_is_required() -> None:
    w = world(consent=True)
    w.say("DAFTAR")
    await w.run()
    assert w.provider.flows == []  # the consent request went instead
    granted = world(
        identities=MemoryIdentityStore(consent_state=ConsentState.GRANTED), consent=True
    )
    granted.say("DAFTAR")
    await granted.run()
    assert len(granted.provider.flows) == 1


async def test_without_a_flow_or_a_provider_that_sends_flows_the_keyword_is_a_question() -> None:
    for w in (
        world(flow=IntakeFlow()),
        world(capabilities=Capabilities(window_24h=True, templates=True)),
    ):
        w.assistant.script = ["Silakan ceritakan perkara Anda."]
        w.say("DAFTAR")
        assert await w.run() is Outcome.ANSWERED
        assert w.provider.flows == [] and len(w.assistant.prompts) == 1


def flow_row(outbox: MemoryOutbox, *, last_inbound_at: datetime) -> None:
    key = "intake:operator-1"
    outbox.rows[1] = Row(
        OutboundMessage(
            id=1,
            conversation_id=1,
            provider=Provider.META,
            channel_id="pn",
            recipient="6281234567890",
            idempotency_key=key,
            text=FLOW.fallback_text(),
            attempts=0,
            kind="intake_flow",
            flow=FLOW.invitation(key).as_json(),
            last_inbound_at=last_inbound_at,
        )
    )


def deliver_with(provider: ScriptedProvider, outbox: MemoryOutbox, clock: Clock) -> Deliver:
    return Deliver(
        outbox=outbox,
        providers=Directory(provider),
        backoff=BackoffPolicy(max_attempts=3),
        clock=clock,
        jitter=lambda: 0.0,
        templates=TemplateSet.parse(
            [
                {
                    "name": "umum",
                    "language": "id",
                    "parameters": ["pesan"],
                    "purpose": "out_of_window",
                }
            ]
        ),
        pacing=None,
    )


async def test_inside_the_window_delivery_sends_the_flow_itself() -> None:
    clock = Clock(T0)
    outbox, provider = MemoryOutbox(clock=clock), ScriptedProvider()
    flow_row(outbox, last_inbound_at=T0 - timedelta(hours=1))
    assert await deliver_with(provider, outbox, clock)(1) == 1
    assert [f.flow_token for f in provider.flows] == [
        FLOW.invitation("intake:operator-1").flow_token
    ]
    assert provider.sent == [] and provider.templates == []


async def test_outside_the_window_the_flow_goes_as_the_template_with_the_keyword() -> None:
    clock = Clock(T0)
    outbox, provider = MemoryOutbox(clock=clock), ScriptedProvider(allow_templates=True)
    flow_row(outbox, last_inbound_at=T0 - timedelta(hours=25))
    assert await deliver_with(provider, outbox, clock)(1) == 1
    assert provider.flows == []
    [template] = provider.templates
    assert template["name"] == "umum" and "DAFTAR" in template["parameters"][0]


async def test_a_provider_that_cannot_send_flows_gets_the_text() -> None:
    clock = Clock(T0)
    outbox = MemoryOutbox(clock=clock)
    provider = ScriptedProvider(capabilities=Capabilities(window_24h=True, templates=True))
    flow_row(outbox, last_inbound_at=T0 - timedelta(hours=1))
    assert await deliver_with(provider, outbox, clock)(1) == 1
    assert provider.flows == [] and provider.sent == [FLOW.fallback_text()]
