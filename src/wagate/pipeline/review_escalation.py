"""The review SLA (AI7): the worker's sweep escalates pending drafts to on-duty staff — once
per kind and draft — when their deadline is near or past (`review_due`) or their 24-hour
window is about to close (`window_closing`). Drafts never expire: they stay pending, and
visible, until someone decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from wagate.domain.review import REVIEW_DUE, escalations_due, window_closes_at
from wagate.pipeline.ports import StaffAlert, StaffAlerts

log = structlog.get_logger(__name__)


class PendingDrafts(Protocol):
    async def pending(self) -> list[dict[str, Any]]:
        """id, conversation_id, created_at, deadline, last_inbound_at, escalated_due_at,
        escalated_window_at of every pending draft."""

    async def mark_escalated(self, draft_id: int, kind: str, *, at: datetime) -> bool: ...


_MARK_COLUMN = {REVIEW_DUE: "escalated_due_at", "window_closing": "escalated_window_at"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewEscalation:
    drafts: PendingDrafts
    alerts: StaffAlerts | None
    clock: Callable[[], datetime]

    async def sweep(self) -> int:
        """Alert what is due and not alerted yet; how many alerts were raised. The alert
        goes before the mark: a crash in between raises it again, and StaffAlerts sends a
        key once."""
        if self.alerts is None:
            return 0
        now = self.clock()
        raised = 0
        for draft in await self.drafts.pending():
            due = escalations_due(
                created_at=draft["created_at"],
                deadline=draft["deadline"],
                window_closes=window_closes_at(draft["last_inbound_at"]),
                now=now,
            )
            for kind in due:
                if draft[_MARK_COLUMN[kind]] is not None:
                    continue
                await self.alerts.alert(
                    StaffAlert(
                        kind=kind,
                        key=f"{kind}:review:{draft['id']}",
                        conversation_id=int(draft["conversation_id"]),
                        summary=_summary(kind, draft),
                    )
                )
                await self.drafts.mark_escalated(int(draft["id"]), kind, at=now)
                raised += 1
        if raised:
            log.warning("review.escalated", alerts=raised)
        return raised


def _summary(kind: str, draft: dict[str, Any]) -> str:
    if kind == REVIEW_DUE:
        return (
            f"Draft {draft['id']} (conversation {draft['conversation_id']}) is due for review "
            f"by {draft['deadline']:%Y-%m-%d %H:%M %Z}"
        )
    closes = window_closes_at(draft["last_inbound_at"])
    return (
        f"Draft {draft['id']} (conversation {draft['conversation_id']}): the 24-hour window "
        f"closes at {closes:%Y-%m-%d %H:%M %Z}; approved later, it goes out as the template"
    )
