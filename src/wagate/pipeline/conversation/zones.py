"""Step 3b, zones (AI7): before any knowledge search or AI call, the burst is sorted green,
yellow or red by the firm's triage (rules, and a classification call where configured). No
triage configured: every question is green (today's behaviour)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.zones import Zone, ZoneCall
from wagate.pipeline.ports import ZoneTriage

GREEN_BY_DEFAULT = ZoneCall(zone=Zone.GREEN, source="default")


@dataclass(frozen=True, slots=True, kw_only=True)
class SortIntoZones:
    triage: ZoneTriage | None = None

    async def __call__(
        self, question: str, history: Sequence[ChatTurn] = (), *, ask_model: bool = True
    ) -> ZoneCall:
        """`history`: the session's turns; the triage sees the person's own earlier words
        only (a calm follow-up to a red message stays red), most recent last. `ask_model`
        False: rules only (a human holds the conversation: the AI is paused)."""
        if self.triage is None:
            return GREEN_BY_DEFAULT
        earlier = [t.content for t in history if t.role is Role.USER]
        if not ask_model:
            return await self.triage(question, earlier, ask_model=False)
        return await self.triage(question, earlier)
