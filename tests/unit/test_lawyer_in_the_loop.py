"""The lawyer in the loop on the conversation's steps (AI7), on in-memory ports: red never
reaches the knowledge base or the AI, yellow waits as a draft with an acknowledgement, green
is answered; REVIEW_MODE off / yellow / all / unset; retried runs double nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.unit.test_converse import T0, World, world
from wagate.domain.review import (
    DEFAULT_ACK_TEXT,
    DEFAULT_URGENT_TEXT,
    REVIEW_DUE,
    WINDOW_CLOSING,
    change_of,
    effective_mode,
    escalations_due,
    must_hold,
)
from wagate.domain.zones import ReviewMode, Zone
from wagate.pipeline.conversation.review import LawyerReview
from wagate.pipeline.converse import Outcome
from wagate.testing import (
    FixedZones,
    MemoryAlerts,
    MemoryDrafts,
    MemoryHandover,
    MemoryKnowledgeBase,
)


@dataclasses.dataclass
class Loop:
    w: World
    zones: FixedZones
    handover: MemoryHandover
    alerts: MemoryAlerts
    drafts: MemoryDrafts
    review: LawyerReview


def loop(
    zone: Zone = Zone.GREEN,
    *,
    mode: ReviewMode | None = ReviewMode.YELLOW,
    lawyer: bool = False,
    knowledge: MemoryKnowledgeBase | None = None,
) -> Loop:
    w = world()
    zones = FixedZones(zone=zone, rules=("rule_a",))
    handover, alerts, drafts = MemoryHandover(), MemoryAlerts(), MemoryDrafts()

    async def lawyer_exists() -> bool:
        return lawyer

    review = LawyerReview(
        drafts=drafts,
        clock=w.clock,
        mode=mode,
        knowledge=knowledge,
        lawyer_exists=lawyer_exists,
    )
    w.converse = dataclasses.replace(
        w.converse,
        zone_triage=zones,
        handover=handover,
        alerts=alerts,
        review=review,
        knowledge=knowledge,
    )
    return Loop(w, zones, handover, alerts, drafts, review)


async def test_red_never_calls_the_assistant_and_hands_over_with_the_holding_reply() -> None:
    kb = MemoryKnowledgeBase()
    lp = loop(Zone.RED, knowledge=kb)
    lp.w.say("suami saya sedang memukul saya sekarang")
    assert await lp.w.run() is Outcome.URGENT
    assert lp.w.assistant.prompts == []
    assert kb.searches == []
    assert lp.w.provider.sent == [DEFAULT_URGENT_TEXT]  # a notice: no disclosure, no disclaimer
    assert "112" in DEFAULT_URGENT_TEXT and "129" in DEFAULT_URGENT_TEXT
    assert lp.handover.open_reasons() == {1: "red:rule_a"}
    assert [(a.kind, a.key) for a in lp.alerts.alerts] == [("urgent", "urgent:run:1:1")]
    assert "suami" not in lp.alerts.alerts[0].summary
    run = next(e for e in lp.w.audit.events if e.action == "run.urgent")
    assert run.details["zone"] == "red" and run.details["zone_rules"] == ["rule_a"]
    assert "memukul" not in str(run.details)


async def test_red_goes_to_a_human_even_with_review_off() -> None:
    lp = loop(Zone.RED, mode=ReviewMode.OFF)
    lp.w.say("tolong, anak saya dibawa paksa")
    assert await lp.w.run() is Outcome.URGENT
    assert lp.w.assistant.prompts == [] and 1 in lp.handover.open_reasons()


async def test_a_red_run_retried_after_a_crash_replies_alerts_and_hands_over_once() -> None:
    lp = loop(Zone.RED)
    store = lp.w.store
    real_finish = store.finish
    crashes = [RuntimeError("worker killed")]

    async def finish_once_crashing(record):  # type: ignore[no-untyped-def]
        if crashes:
            raise crashes.pop()
        await real_finish(record)

    store.finish = finish_once_crashing  # type: ignore[method-assign]
    lp.w.say("ada yang mengancam akan membunuh saya")
    with pytest.raises(RuntimeError):
        await lp.w.run()
    assert await lp.w.run() is Outcome.URGENT
    assert lp.w.provider.sent == [DEFAULT_URGENT_TEXT]
    assert len(lp.alerts.alerts) == 1 and len(lp.alerts.raised) == 2
    assert list(lp.handover.open_reasons()) == [1]


async def test_a_failing_alert_does_not_hold_back_the_holding_reply() -> None:
    lp = loop(Zone.RED)
    lp.alerts.failing = True
    lp.w.say("saya ditangkap polisi sekarang tanpa surat")
    assert await lp.w.run() is Outcome.URGENT
    assert lp.w.provider.sent == [DEFAULT_URGENT_TEXT]


async def test_yellow_is_held_as_a_masked_draft_and_the_person_gets_the_acknowledgement() -> None:
    lp = loop(Zone.YELLOW)
    lp.w.assistant.script = ["Pak [NAMA_1], gugatan cerai diajukan ke Pengadilan Agama."]
    lp.w.say("Saya Budi Santoso, bagaimana cara cerai dengan istri saya?")
    assert await lp.w.run() is Outcome.HELD
    assert lp.w.provider.sent == [DEFAULT_ACK_TEXT]
    assert "Pengadilan" not in " ".join(lp.w.provider.sent)
    [draft] = lp.drafts.drafts.values()
    assert draft.zone is Zone.YELLOW and draft.rules == ("rule_a",)
    assert "[NAMA_1]" in draft.text and "Budi" not in draft.text
    assert "Budi" not in draft.question and "[NAMA_1]" in draft.question
    assert draft.deadline - draft.created_at == timedelta(minutes=30)
    run = next(e for e in lp.w.audit.events if e.action == "run.held")
    assert run.details["draft"] == 1 and run.details["zone"] == "yellow"


async def test_a_held_run_retried_keeps_one_draft_and_acknowledges_once() -> None:
    lp = loop(Zone.YELLOW)
    store = lp.w.store
    real_finish = store.finish
    crashes = [RuntimeError("worker killed")]

    async def finish_once_crashing(record):  # type: ignore[no-untyped-def]
        if crashes:
            raise crashes.pop()
        await real_finish(record)

    store.finish = finish_once_crashing  # type: ignore[method-assign]
    lp.w.assistant.script = ["draf pertama", "draf kedua"]
    lp.w.say("tanah warisan saya diserobot tetangga, apa yang harus saya lakukan?")
    with pytest.raises(RuntimeError):
        await lp.w.run()
    assert await lp.w.run() is Outcome.HELD
    assert len(lp.drafts.drafts) == 1 and lp.drafts.drafts[1].text == "draf pertama"
    assert lp.w.provider.sent == [DEFAULT_ACK_TEXT]


async def test_green_is_answered_directly_in_yellow_mode() -> None:
    lp = loop(Zone.GREEN)
    lp.w.assistant.script = ["Kantor buka pukul 09.00."]
    lp.w.say("Jam berapa kantor buka?")
    assert await lp.w.run() is Outcome.ANSWERED
    assert lp.drafts.drafts == {}
    assert lp.w.provider.sent[0].endswith("[bukan nasihat hukum]")


async def test_mode_all_holds_green_too_and_mode_off_holds_nothing() -> None:
    held = loop(Zone.GREEN, mode=ReviewMode.ALL)
    held.w.say("Jam berapa kantor buka?")
    assert await held.w.run() is Outcome.HELD
    off = loop(Zone.YELLOW, mode=ReviewMode.OFF)
    off.w.say("bagaimana cara cerai?")
    assert await off.w.run() is Outcome.ANSWERED
    assert off.drafts.drafts == {}


async def test_unset_mode_reviews_once_a_lawyer_exists_or_the_knowledge_base_is_loaded() -> None:
    nobody = loop(Zone.YELLOW, mode=None)
    nobody.w.say("bagaimana cara cerai?")
    assert await nobody.w.run() is Outcome.ANSWERED
    with_lawyer = loop(Zone.YELLOW, mode=None, lawyer=True)
    with_lawyer.w.say("bagaimana cara cerai?")
    assert await with_lawyer.w.run() is Outcome.HELD
    kb = MemoryKnowledgeBase()
    kb.add_text("Panduan Cerai", "# Gugatan\n\nGugatan cerai diajukan ke Pengadilan Agama.")
    with_kb = loop(Zone.YELLOW, mode=None, knowledge=kb)
    with_kb.w.say("bagaimana cara gugatan cerai?")
    assert await with_kb.w.run() is Outcome.HELD
    [draft] = with_kb.drafts.drafts.values()
    assert [s.as_json() for s in draft.sources] == [
        {"document": 1, "title": "Panduan Cerai", "section": "Gugatan"}
    ]
    assert "Sumber: Panduan Cerai" in draft.text


async def test_a_conversation_held_by_a_human_gets_no_ai_answer() -> None:
    lp = loop(Zone.GREEN)
    await lp.handover.take(1, held_by="user:ani:api", reason="taken", now=lp.w.clock())
    lp.w.say("halo?")
    assert await lp.w.run() is Outcome.HELD_BY_HUMAN
    assert lp.w.assistant.prompts == [] and lp.w.provider.sent == []


async def test_the_triage_sees_the_earlier_user_turns() -> None:
    lp = loop(Zone.GREEN)
    lp.w.assistant.script = ["a", "b"]
    lp.w.say("pertama")
    await lp.w.run()
    lp.w.clock.now += timedelta(minutes=1)
    lp.w.say("kedua")
    await lp.w.run()
    assert lp.zones.calls == [("pertama", ()), ("kedua", ("pertama",))]


def test_review_mode_rules() -> None:
    assert effective_mode(None, knowledge_loaded=False, lawyer_exists=False) is ReviewMode.OFF
    assert effective_mode(None, knowledge_loaded=True, lawyer_exists=False) is ReviewMode.YELLOW
    assert effective_mode(None, knowledge_loaded=False, lawyer_exists=True) is ReviewMode.YELLOW
    assert effective_mode(ReviewMode.OFF, knowledge_loaded=True, lawyer_exists=True) is (
        ReviewMode.OFF
    )
    assert must_hold(Zone.YELLOW, ReviewMode.YELLOW)
    assert not must_hold(Zone.GREEN, ReviewMode.YELLOW)
    assert must_hold(Zone.GREEN, ReviewMode.ALL)
    assert not must_hold(Zone.YELLOW, ReviewMode.OFF)


def test_escalation_is_due_in_the_last_fifth_and_an_hour_before_the_window_closes() -> None:
    deadline = T0 + timedelta(minutes=30)
    far = T0 + timedelta(hours=20)
    assert escalations_due(created_at=T0, deadline=deadline, window_closes=far, now=T0) == []
    near = T0 + timedelta(minutes=23, seconds=59)
    assert escalations_due(created_at=T0, deadline=deadline, window_closes=far, now=near) == []
    due = T0 + timedelta(minutes=24)
    assert escalations_due(created_at=T0, deadline=deadline, window_closes=far, now=due) == [
        REVIEW_DUE
    ]
    closing = T0 + timedelta(minutes=5)
    assert escalations_due(
        created_at=T0, deadline=deadline, window_closes=closing + timedelta(minutes=59), now=closing
    ) == [WINDOW_CLOSING]


def test_a_change_is_described_without_the_text() -> None:
    same = change_of("Jawaban.", "Jawaban. ")
    assert not same.edited
    edited = change_of("Jawaban.", "Jawaban yang diperbaiki.")
    assert edited.edited and edited.length_after == 24
    assert "diperbaiki" not in str(edited.as_details())


def test_the_review_settings_parse_and_a_tenant_may_hold_its_own() -> None:
    from wagate.settings import ConfigurationError, load_settings, tenant_settings

    platform = load_settings(review_mode="yellow", review_sla_minutes=45)
    assert platform.review_mode is ReviewMode.YELLOW and platform.review_sla_minutes == 45
    assert load_settings().review_mode is None  # unset: decided by the knowledge base
    own = tenant_settings(platform, {"review_mode": "all", "review_ack_text": "Sebentar."})
    assert own.review_mode is ReviewMode.ALL and own.review_ack_text == "Sebentar."
    with pytest.raises(ValueError, match="REVIEW_MODE"):
        tenant_settings(platform, {"review_mode": "sometimes"})
    with pytest.raises(ConfigurationError, match="WAGATE_ZONE_TRIAGE"):
        load_settings(wagate_zone_triage="no.such.module:triage")
    with pytest.raises(ConfigurationError, match="REVIEW_SLA_MINUTES"):
        load_settings(review_sla_minutes=0)


def test_a_text_carried_by_a_template_has_no_line_break_tab_or_long_run_of_spaces() -> None:
    from wagate.domain.template_text import one_line

    framed = "Jawaban pengacara.\n\n  Langkah:\t1\r\n\n[bukan nasihat hukum]     ya"
    assert one_line(framed) == ("Jawaban pengacara. · Langkah: · 1 · [bukan nasihat hukum] ya")
    assert one_line("Berkas Anda siap.") == "Berkas Anda siap."
