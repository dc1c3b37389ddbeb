"""In-memory ports of the lawyer in the loop (AI7): a rule-less zone triage and the drafts
waiting for a lawyer (the conversations humans hold: `handover`; staff alerts: `alerts`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wagate.domain.review import NewDraft
from wagate.domain.zones import Zone, ZoneCall


@dataclass
class FixedZones:
    """Triage without rules: `decide(question)` when set, else `zone` for every question.
    Records every call (question, history) so a test can see what the triage was shown."""

    zone: Zone = Zone.GREEN
    rules: tuple[str, ...] = ()
    decide: Callable[[str], Zone] | None = None
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def __call__(
        self, question: str, history: Sequence[str] = (), *, ask_model: bool = True
    ) -> ZoneCall:
        self.calls.append((question, tuple(history)))
        zone = self.decide(question) if self.decide is not None else self.zone
        return ZoneCall(zone=zone, rules=self.rules if zone is not Zone.GREEN else ())


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
