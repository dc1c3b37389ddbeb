"""Take-over (issue 14, item 4) on the in-memory ports: the hold rule, the conversation that
stays silent while a human holds it, and the operator's take / reply / release / list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.test_converse import NOTICES, World, world
from wagate.domain.consent import Keywords
from wagate.domain.handover import GATEWAY, Hold
from wagate.domain.operators import Role
from wagate.pipeline.conversation.consent import ConsentGate
from wagate.pipeline.converse import Outcome
from wagate.pipeline.operator import Actor, Conflict, Forbidden, NotFound, Rejected
from wagate.pipeline.operator.conversations import HUMAN_REPLY_KIND, Conversations
from wagate.pipeline.operator.recorder import Recorder
from wagate.testing import Clock, MemoryAudit, MemoryHandover, OptOutList

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=60)
LAWYER = Actor(via="console", user="ani", role=Role.LAWYER)
VIEWER = Actor(via="console", user="vino", role=Role.VIEWER)


# ---------------------------------------------------------------- the rule


def test_a_humans_hold_lasts_while_they_are_active_and_lapses_when_idle() -> None:
    hold = Hold(conversation_id=1, held_by="user:ani:console", reason="taken", taken_at=T0)
    assert hold.active(T0 + IDLE - timedelta(seconds=1), IDLE)
    assert not hold.active(T0 + IDLE, IDLE)
    assert hold.lapses_at(IDLE) == T0 + IDLE
    replied = Hold(
        conversation_id=1,
        held_by="user:ani:console",
        reason="taken",
        taken_at=T0,
        last_human_at=T0 + timedelta(minutes=50),
    )
    assert replied.active(T0 + timedelta(minutes=109), IDLE)  # a reply restarts the clock
    assert not replied.active(T0 + timedelta(minutes=110), IDLE)


def test_the_gateways_hold_never_lapses_and_a_released_hold_is_over() -> None:
    red = Hold(conversation_id=1, held_by=GATEWAY, reason="red", taken_at=T0)
    assert red.active(T0 + timedelta(days=30), IDLE)
    assert red.lapses_at(IDLE) is None
    released = Hold(
        conversation_id=1, held_by="x", reason="taken", taken_at=T0, released_at=T0, released_by="x"
    )
    assert not released.active(T0, IDLE)


# ---------------------------------------------------------------- the conversation


def _held_world() -> tuple[World, MemoryHandover]:
    w = world()
    handover = MemoryHandover(idle=IDLE)
    w.converse.handover = handover
    return w, handover


async def test_a_held_conversation_is_recorded_for_the_human_and_nothing_is_sent() -> None:
    w, handover = _held_world()
    await handover.take(1, held_by="user:ani:console", reason="taken", now=w.clock.now)
    w.say("Suami saya memukul saya lagi")
    assert await w.run() is Outcome.HELD_BY_HUMAN
    assert w.assistant.prompts == []  # no AI call
    assert w.provider.sent == [] and w.outbox.rows == {}  # nothing queued, nothing sent
    assert w.provider.read == []  # not even marked read: the human reads it
    assert w.store.bursts[1].messages == []  # processed
    [turns] = w.sessions.history.values()
    assert [(t.role.value, t.content) for t in turns] == [("user", "Suami saya memukul saya lagi")]
    [run] = [e for e in w.audit.events if e.action == "run.held_by_human"]
    assert run.details["for_human"] == 1 and "Suami" not in str(run.details)


async def test_after_release_or_idle_expiry_the_ai_answers_again() -> None:
    w, handover = _held_world()
    await handover.take(1, held_by="user:ani:console", reason="taken", now=w.clock.now)
    w.say("halo?")
    assert await w.run() is Outcome.HELD_BY_HUMAN
    await handover.release(1, by="user:ani:console", now=w.clock.now)
    w.say("masih ada?")
    assert await w.run() is Outcome.ANSWERED
    assert len(w.assistant.prompts) == 1

    await handover.take(1, held_by="user:ani:console", reason="taken", now=w.clock.now)
    w.clock.now += IDLE  # the human went quiet
    w.say("halo lagi")
    assert await w.run() is Outcome.ANSWERED
    assert await handover.held(now=w.clock.now) == []
    await handover.take(1, held_by="user:budi:console", reason="taken", now=w.clock.now)
    assert handover.holds[-2].released_by == "idle"  # the lapsed hold, closed on the next take
    assert handover.holds[-2].released_at == w.clock.now


async def test_an_opt_out_still_works_while_a_human_holds_the_conversation() -> None:
    w, handover = _held_world()
    # CONSENT_REQUIRED off, as wiring builds it: the opt-out keyword is still honoured.
    w.converse.consent = ConsentGate(
        identities=w.identities, notices=NOTICES, keywords=Keywords(), required=False
    )
    await handover.take(1, held_by="user:ani:console", reason="taken", now=w.clock.now)
    w.say("BERHENTI")
    assert await w.run() is Outcome.NO_QUESTION
    assert len(w.provider.sent) == 1 and "berhenti" in w.provider.sent[0].lower()
    assert w.assistant.prompts == []


# ---------------------------------------------------------------- the operator's actions


def _desk(refused: set[str] | None = None) -> tuple[Conversations, MemoryHandover, MemoryAudit]:
    handover = MemoryHandover(idle=IDLE)
    audit = MemoryAudit()
    clock = Clock(T0)
    return (
        Conversations(
            desk=handover,
            recorder=Recorder(audit=audit, clock=clock),
            check=OptOutList(refused or set()),
        ),
        handover,
        audit,
    )


async def test_take_and_release_are_audited_with_the_acting_user() -> None:
    desk, handover, audit = _desk()
    taken = await desk.take(1, by=LAWYER)
    assert taken["heldBy"] == "user:ani:console" and taken["lapsesAt"] is not None
    assert await handover.held_by_human(1, now=T0)
    released = await desk.release(1, by=LAWYER)
    assert released["releasedBy"] == "user:ani:console"
    assert not await handover.held_by_human(1, now=T0)
    assert [(e.action, e.actor, e.subject) for e in audit.events] == [
        ("conversation.taken", "user:ani:console", "conversation:1"),
        ("conversation.released", "user:ani:console", "conversation:1"),
    ]
    with pytest.raises(Conflict):  # nobody holds it now
        await desk.release(1, by=LAWYER)


async def test_taking_over_a_red_hand_off_names_the_gateway_as_the_previous_holder() -> None:
    desk, handover, audit = _desk()
    await handover.hand_to_human(1, reason="red", now=T0)
    await handover.hand_to_human(1, reason="red", now=T0)  # a retried run hands over once
    assert len(handover.holds) == 1
    await desk.take(1, by=LAWYER)
    assert audit.events[-1].details == {"previously_held_by": GATEWAY}
    assert [h.held_by for h in await handover.held(now=T0)] == ["user:ani:console"]


async def test_a_viewer_may_list_but_not_take_reply_or_release() -> None:
    desk, handover, audit = _desk()
    for action in (
        desk.take(1, by=VIEWER),
        desk.release(1, by=VIEWER),
        desk.reply(1, "halo", by=VIEWER),
    ):
        with pytest.raises(Forbidden):
            await action
    assert handover.holds == [] and handover.replies == [] and audit.events == []
    assert await desk.list(by=VIEWER) == []


async def test_an_unknown_conversation_is_not_found() -> None:
    desk, _, audit = _desk()
    for conversation_id in (2, 0, -1, 2**63):
        with pytest.raises(NotFound):
            await desk.take(conversation_id, by=LAWYER)
    with pytest.raises(NotFound):
        await desk.reply(2, "halo", by=LAWYER)
    assert audit.events == []


async def test_a_reply_takes_the_conversation_queues_once_per_key_and_restarts_idle() -> None:
    desk, handover, audit = _desk()
    receipt = await desk.reply(1, "  Kami akan menelepon Anda.  ", by=LAWYER, key="r1")
    assert receipt.taken and receipt.queued == 1
    assert receipt.idempotency_keys == ("human:1:console:r1",)
    assert handover.replies == [(1, "human:1:console:r1", "Kami akan menelepon Anda.", "human")]
    again = await desk.reply(1, "  Kami akan menelepon Anda.  ", by=LAWYER, key="r1")
    assert again.queued == 0 and not again.taken and len(handover.replies) == 1
    assert [e.action for e in audit.events] == ["conversation.replied", "conversation.replied"]
    assert audit.events[0].details == {"parts": 1, "queued": 1, "taken": True}
    assert "menelepon" not in str([e.details for e in audit.events])  # no text in the trail
    assert handover.holds[0].last_human_at == T0


async def test_a_long_reply_is_split_and_bad_text_is_rejected() -> None:
    desk, handover, _ = _desk()
    receipt = await desk.reply(1, "kata " * 1500, by=LAWYER)
    assert len(receipt.idempotency_keys) == 2 and receipt.queued == 2
    assert {kind for *_, kind in handover.replies} == {HUMAN_REPLY_KIND}
    for bad in ("", "   ", "a\x00b", "x" * 20_001):
        with pytest.raises(Rejected):
            await desk.reply(1, bad, by=LAWYER)
    with pytest.raises(Rejected):
        await desk.reply(1, "halo", by=LAWYER, key="k" * 201)


async def test_a_reply_to_an_opted_out_contact_is_refused_and_audited_without_the_number() -> None:
    desk, handover, audit = _desk(refused={"6281234567890"})
    with pytest.raises(Conflict, match="opted out"):
        await desk.reply(1, "halo", by=LAWYER)
    assert handover.replies == [] and handover.holds == []
    [refusal] = audit.events
    assert refusal.action == "operator.refused_opted_out"
    assert refusal.details["path"] == HUMAN_REPLY_KIND
    assert "6281234567890" not in str(refusal)


async def test_the_listing_shows_active_holds_only() -> None:
    desk, handover, _ = _desk()
    await desk.take(1, by=LAWYER)
    handover.contacts[2] = "6281200000002"
    await handover.hand_to_human(2, reason="red", now=T0 - timedelta(days=2))
    await handover.take(3, held_by="operator:cli", reason="taken", now=T0 - IDLE)  # lapsed
    listed = await desk.list(by=VIEWER)
    assert [(h["conversationId"], h["heldBy"]) for h in listed] == [
        (1, "user:ani:console"),
        (2, GATEWAY),
    ]


async def test_without_a_desk_the_actions_say_so() -> None:
    audit = MemoryAudit()
    desk = Conversations(desk=None, recorder=Recorder(audit=audit, clock=Clock(T0)))
    with pytest.raises(Rejected, match="not available"):
        await desk.take(1, by=LAWYER)
