"""When a human holds a conversation (AI7, take-over): the rule, pure.

A hold is open until someone releases it. A human's hold also lapses when the human has been
idle for the take-over timeout (TAKEOVER_IDLE_MINUTES): a lawyer who took a conversation and
went home must not leave the person without any answer for days. The gateway's own hold (a red
message handed over) never lapses by itself: the person is in danger, and only a human may
give the conversation back to the AI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

GATEWAY = "gateway"  # `held_by` of a hold the gateway itself made (a red hand-off)
IDLE = "idle"  # `released_by` of a human's hold that lapsed


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    conversation_id: int
    held_by: str  # an actor's audit name, or GATEWAY
    reason: str
    taken_at: datetime
    last_human_at: datetime | None = None
    released_at: datetime | None = None
    released_by: str | None = None

    @property
    def by_gateway(self) -> bool:
        return self.held_by == GATEWAY

    @property
    def last_activity(self) -> datetime:
        """The human's latest act on the conversation: taking it or replying in it."""
        if self.last_human_at is None:
            return self.taken_at
        return max(self.taken_at, self.last_human_at)

    def lapses_at(self, idle: timedelta) -> datetime | None:
        """When the hold ends by itself if nothing happens (None: never)."""
        if self.released_at is not None:
            return self.released_at
        return None if self.by_gateway else self.last_activity + idle

    def active(self, now: datetime, idle: timedelta) -> bool:
        """The AI must not answer while this is true."""
        if self.released_at is not None:
            return False
        return self.by_gateway or now - self.last_activity < idle

    def as_json(self, idle: timedelta) -> dict[str, Any]:
        lapses = self.lapses_at(idle)
        return {
            "conversationId": self.conversation_id,
            "heldBy": self.held_by,
            "reason": self.reason,
            "takenAt": self.taken_at.isoformat(),
            "lastHumanAt": self.last_human_at.isoformat() if self.last_human_at else None,
            "lapsesAt": lapses.isoformat() if lapses else None,
            "releasedAt": self.released_at.isoformat() if self.released_at else None,
            "releasedBy": self.released_by,
        }
