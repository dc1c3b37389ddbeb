"""The operator's side of the review (AI7) on in-memory ports: who may do what, what an
approval queues (restored, framed, keyed on the draft), rejection and take-over, and the SLA
sweep's escalations (once per kind and draft)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wagate.domain.operators import Role
from wagate.domain.privacy.spans import EntityType
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.pipeline.operator import Actor, Conflict, Forbidden, NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.reviews import Decided, Reviews
from wagate.pipeline.review_escalation import ReviewEscalation
from wagate.testing import Clock, MemoryAlerts, MemoryAudit, MemoryHandover, MemoryVaultStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LAWYER = Actor(via="api", user="7", role=Role.LAWYER)
STAFF = Actor(via="api", user="8", role=Role.STAFF)
VIEWER = Actor(via="api", user="9", role=Role.VIEWER)


@dataclass
class Store:
    """Drafts as storage shows them; `decided` keeps what each decision wrote."""

    drafts: dict[int, dict[str, Any]] = field(default_factory=dict)
    decided: list[Decided] = field(default_factory=list)

    async def listing(self, *, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        return [d for d in self.drafts.values() if status is None or d["status"] == status]

    async def show(self, draft_id: int) -> dict[str, Any] | None:
        return self.drafts.get(draft_id)

    async def decide(self, decided: Decided) -> bool:
        draft = self.drafts[decided.draft_id]
        if draft["status"] != "pending":
            return False
        draft["status"] = decided.status.value
        self.decided.append(decided)
        return True

    # what the SLA sweep reads
    async def pending(self) -> list[dict[str, Any]]:
        return [d for d in self.drafts.values() if d["status"] == "pending"]

    async def mark_escalated(self, draft_id: int, kind: str, *, at: datetime) -> bool:
        column = {"review_due": "escalated_due_at", "window_closing": "escalated_window_at"}
        self.drafts[draft_id][column[kind]] = at
        return True


def draft(draft_id: int = 1, **changes: Any) -> dict[str, Any]:
    base = {
        "id": draft_id,
        "conversation": 5,
        "conversation_id": 5,
        "status": "pending",
        "draft": "Pak [NAMA_1], ajukan **gugatan** ke Pengadilan Agama.",
        "question": "Saya [NAMA_1], bagaimana cerai?",
        "createdAt": T0,
        "created_at": T0,
        "deadline": T0 + timedelta(minutes=30),
        "last_inbound_at": T0,
        "escalated_due_at": None,
        "escalated_window_at": None,
    }
    return base | changes


@dataclass
class Setup:
    reviews: Reviews
    store: Store
    audit: MemoryAudit
    handover: MemoryHandover
    clock: Clock


async def setup() -> Setup:
    clock = Clock(T0 + timedelta(minutes=10))
    store = Store(drafts={1: draft()})
    vaults = MemoryVaultStore()
    vault = PlaceholderVault()
    vault.placeholder_for(EntityType.NAMA, "Budi Santoso")
    await vaults.save(5, vault.to_dict())
    audit = MemoryAudit()
    handover = MemoryHandover()
    reviews = Reviews(
        store=store,
        vaults=vaults,
        recorder=Recorder(audit=audit, clock=clock),
        disclaimer="[bukan nasihat hukum]",
        reject_text="[ditolak]",
        handover=handover,
    )
    return Setup(reviews, store, audit, handover, clock)


async def test_approval_restores_the_placeholders_frames_and_keys_on_the_draft() -> None:
    s = await setup()
    await s.reviews.approve(1, by=LAWYER)
    [decided] = s.store.decided
    assert decided.status.value == "approved" and decided.by == "user:7:api"
    assert decided.edited is False
    assert [(m.idempotency_key, m.kind, m.text) for m in decided.messages] == [
        (
            "review:1:reply:0",
            "reply",
            "Pak Budi Santoso, ajukan *gugatan* ke Pengadilan Agama.\n\n[bukan nasihat hukum]",
        )
    ]
    assert decided.final_text == s.store.drafts[1]["draft"]  # kept masked
    [event] = s.audit.events
    assert event.action == "review.approved" and event.actor == "user:7:api"
    assert event.details["edited"] is False and event.details["waited_seconds"] == 600.0
    assert "Budi" not in str(event.details) and "gugatan" not in str(event.details)


async def test_an_edited_approval_sends_the_edit_and_records_that_it_changed() -> None:
    s = await setup()
    await s.reviews.approve(1, by=LAWYER, text="Pak [NAMA_1], silakan datang ke kantor.")
    [decided] = s.store.decided
    assert decided.edited is True
    assert decided.messages[0].text.startswith("Pak Budi Santoso, silakan datang ke kantor.")
    details = s.audit.events[0].details
    assert details["edited"] is True and details["length_after"] == 39
    assert "kantor" not in str(details)


async def test_a_decided_draft_cannot_be_decided_again() -> None:
    s = await setup()
    await s.reviews.approve(1, by=LAWYER)
    with pytest.raises(Conflict):
        await s.reviews.approve(1, by=LAWYER)
    with pytest.raises(Conflict):
        await s.reviews.reject(1, by=LAWYER, reason="x")
    assert len(s.store.decided) == 1


async def test_roles_decide_who_may_approve_reject_take_and_read() -> None:
    s = await setup()
    with pytest.raises(Forbidden):
        await s.reviews.approve(1, by=VIEWER)
    with pytest.raises(Forbidden):
        await s.reviews.approve(1, by=STAFF)
    with pytest.raises(Forbidden):
        await s.reviews.reject(1, by=VIEWER, reason="tidak")
    with pytest.raises(Forbidden):
        await s.reviews.take(1, by=VIEWER)
    assert [d["id"] for d in await s.reviews.listing(by=VIEWER)] == [1]
    assert s.store.decided == [] and s.audit.events == []


async def test_bad_input_is_refused_clearly() -> None:
    s = await setup()
    with pytest.raises(NotFound):
        await s.reviews.show(99, by=LAWYER)
    with pytest.raises(Rejected):
        await s.reviews.reject(1, by=LAWYER, reason="   ")
    with pytest.raises(Rejected):
        await s.reviews.approve(1, by=LAWYER, text="")
    with pytest.raises(Rejected):
        await s.reviews.approve(1, by=LAWYER, text="a\x00b")
    with pytest.raises(Rejected):
        await s.reviews.listing(by=LAWYER, status="bogus")
    assert s.store.decided == []


async def test_rejection_sends_the_rejection_text_and_keeps_the_reason() -> None:
    s = await setup()
    await s.reviews.reject(1, by=LAWYER, reason="perlu tatap muka")
    [decided] = s.store.decided
    assert decided.reject_reason == "perlu tatap muka"
    assert [(m.idempotency_key, m.kind, m.text) for m in decided.messages] == [
        ("review:1:rejected", "notice", "[ditolak]")
    ]
    assert s.audit.events[0].details == {"conversation": 5, "reason_length": 16}


async def test_taking_over_closes_the_draft_and_hands_the_conversation_to_a_human() -> None:
    s = await setup()
    await s.reviews.take(1, by=STAFF)
    assert s.store.drafts[1]["status"] == "taken_over"
    assert s.handover.open_reasons() == {5: "review:1"}
    assert s.store.decided[0].messages == ()


async def test_the_sla_sweep_escalates_each_kind_once_and_leaves_drafts_pending() -> None:
    clock = Clock(T0)
    store = Store(
        drafts={
            1: draft(1),
            2: draft(2, last_inbound_at=T0 - timedelta(hours=23, minutes=30)),
        }
    )
    alerts = MemoryAlerts()
    sweep = ReviewEscalation(drafts=store, alerts=alerts, clock=clock)
    assert await sweep.sweep() == 1  # draft 2's window closes within the hour
    assert [(a.kind, a.key) for a in alerts.alerts] == [
        ("window_closing", "window_closing:review:2")
    ]
    clock.now = T0 + timedelta(minutes=25)  # the last fifth of 30 minutes
    assert await sweep.sweep() == 2
    assert sorted(a.key for a in alerts.alerts) == [
        "review_due:review:1",
        "review_due:review:2",
        "window_closing:review:2",
    ]
    clock.now = T0 + timedelta(hours=5)  # long past: no second alert, still pending
    assert await sweep.sweep() == 0
    assert [d["status"] for d in store.drafts.values()] == ["pending", "pending"]
    assert "Budi" not in " ".join(a.summary for a in alerts.alerts)


async def test_without_staff_alerts_the_sweep_raises_nothing() -> None:
    store = Store(drafts={1: replace_deadline(draft(1))})
    assert await ReviewEscalation(drafts=store, alerts=None, clock=Clock(T0)).sweep() == 0


def replace_deadline(d: dict[str, Any]) -> dict[str, Any]:
    return d | {"deadline": T0 - timedelta(minutes=1)}
