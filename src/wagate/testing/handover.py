"""Conversations humans hold, in memory: the conversation's `Handover` port and the operator's
`ConversationDesk` in one, on the same rule as storage (`domain.handover.Hold.active`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from wagate.domain.handover import GATEWAY, IDLE, Hold
from wagate.domain.messages import Provider
from wagate.pipeline.operator.ports import ConversationContact
from wagate.pipeline.ports import RunOpening


@dataclass
class MemoryHandover:
    idle: timedelta = timedelta(minutes=60)
    holds: list[Hold] = field(default_factory=list)  # every hold ever, open ones last
    contacts: dict[int, str] = field(default_factory=lambda: {1: "6281234567890"})
    replies: list[tuple[int, str, str, str]] = field(default_factory=list)  # conv, key, text, kind

    def _open(self, conversation_id: int) -> int | None:
        for index, hold in enumerate(self.holds):
            if hold.conversation_id == conversation_id and hold.released_at is None:
                return index
        return None

    def _active(self, conversation_id: int, now: datetime) -> int | None:
        index = self._open(conversation_id)
        if index is None:
            return None
        hold = self.holds[index]
        if hold.active(now, self.idle):
            return index
        self.holds[index] = replace(hold, released_at=hold.lapses_at(self.idle), released_by=IDLE)
        return None

    def open_reasons(self) -> dict[int, str]:
        """The open holds' reasons by conversation (idle lapses not applied)."""
        return {h.conversation_id: h.reason for h in self.holds if h.released_at is None}

    async def held_by_human(
        self, conversation_id: int, *, now: datetime, opening: RunOpening | None = None
    ) -> bool:
        return await self.current(conversation_id, now=now) is not None

    async def hand_to_human(self, conversation_id: int, *, reason: str, now: datetime) -> None:
        if self._active(conversation_id, now) is None:
            self.holds.append(
                Hold(conversation_id=conversation_id, held_by=GATEWAY, reason=reason, taken_at=now)
            )

    async def current(self, conversation_id: int, *, now: datetime) -> Hold | None:
        index = self._open(conversation_id)
        if index is None or not self.holds[index].active(now, self.idle):
            return None
        return self.holds[index]

    async def take(
        self, conversation_id: int, *, held_by: str, reason: str, now: datetime
    ) -> tuple[Hold, str | None]:
        index = self._active(conversation_id, now)
        if index is None:
            hold = Hold(
                conversation_id=conversation_id,
                held_by=held_by,
                reason=reason,
                taken_at=now,
                last_human_at=now,
            )
            self.holds.append(hold)
            return hold, None
        before = self.holds[index]
        if before.held_by == held_by:  # taken again by the same person: activity
            self.holds[index] = replace(before, reason=reason, last_human_at=now)
        else:
            self.holds[index] = replace(before, held_by=held_by, reason=reason, taken_at=now)
        return self.holds[index], before.held_by

    async def release(self, conversation_id: int, *, by: str, now: datetime) -> Hold | None:
        index = self._active(conversation_id, now)
        if index is None:
            return None
        self.holds[index] = replace(self.holds[index], released_at=now, released_by=by)
        return self.holds[index]

    async def touch(self, conversation_id: int, *, now: datetime) -> None:
        index = self._open(conversation_id)
        if index is not None:
            self.holds[index] = replace(self.holds[index], last_human_at=now)

    async def held(self, *, now: datetime) -> list[Hold]:
        return [h for h in self.holds if h.released_at is None and h.active(now, self.idle)]

    async def contact(self, conversation_id: int) -> ConversationContact | None:
        number = self.contacts.get(conversation_id)
        if number is None:
            return None
        return ConversationContact(
            conversation_id=conversation_id,
            provider=Provider.META,
            channel_id="100",
            recipient=number,
        )

    async def queue_reply(
        self, conversation_id: int, parts: Sequence[tuple[str, str]], *, kind: str, run_at: datetime
    ) -> int:
        known = {key for _, key, _, _ in self.replies}
        new = [(conversation_id, key, text, kind) for key, text in parts if key not in known]
        self.replies.extend(new)
        return len(new)
