"""In-memory ports of the lawyer in the loop (AI7): a rule-less zone triage, the conversations
humans hold, on-duty staff's alerts, and the drafts waiting for a lawyer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wagate.domain.review import NewDraft
from wagate.domain.zones import Zone, ZoneCall
from wagate.pipeline.ports import StaffAlert


@dataclass
class FixedZones:
    """Triage without rules: `decide(question)` when set, else `zone` for every question.
    Records every call (question, history) so a test can see what the triage was shown."""

    zone: Zone = Zone.GREEN
    rules: tuple[str, ...] = ()
    decide: Callable[[str], Zone] | None = None
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def __call__(self, question: str, history: Sequence[str] = ()) -> ZoneCall:
        self.calls.append((question, tuple(history)))
        zone = self.decide(question) if self.decide is not None else self.zone
        return ZoneCall(zone=zone, rules=self.rules if zone is not Zone.GREEN else ())


@dataclass
class MemoryHandover:
    """Conversations held by a human: `held` maps a conversation to why; idempotent."""

    held: dict[int, str] = field(default_factory=dict)
    handed: list[tuple[int, str]] = field(default_factory=list)  # every call, repeats included

    async def held_by_human(self, conversation_id: int, *, now: datetime) -> bool:
        return conversation_id in self.held

    async def hand_to_human(self, conversation_id: int, *, reason: str, now: datetime) -> None:
        self.handed.append((conversation_id, reason))
        self.held.setdefault(conversation_id, reason)

    def release(self, conversation_id: int) -> None:
        self.held.pop(conversation_id, None)


@dataclass
class MemoryAlerts:
    """Alerts sent, once per key (`raised` counts every call, repeats included)."""

    sent: list[StaffAlert] = field(default_factory=list)
    raised: int = 0
    failing: bool = False  # raise on every call, as a mail server that is down

    async def alert(self, alert: StaffAlert) -> None:
        self.raised += 1
        if self.failing:
            raise ConnectionError("mail server down")
        if all(a.key != alert.key for a in self.sent):
            self.sent.append(alert)


@dataclass
class MemoryDrafts:
    """Held answers by id, the first per run key."""

    drafts: dict[int, NewDraft] = field(default_factory=dict)

    async def keep(self, draft: NewDraft) -> int:
        for draft_id, kept in self.drafts.items():
            if kept.run_key == draft.run_key:
                return draft_id
        draft_id = len(self.drafts) + 1
        self.drafts[draft_id] = draft
        return draft_id
