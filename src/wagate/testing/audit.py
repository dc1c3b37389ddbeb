"""An AuditTrail that keeps the events in a list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from wagate.domain.audit import AuditEvent


@dataclass
class MemoryAudit:
    events: list[AuditEvent] = field(default_factory=list)

    async def record(self, event: AuditEvent, *, at: datetime) -> int:
        self.events.append(event)
        return len(self.events)

    async def record_many(self, events: Iterable[AuditEvent], *, at: datetime) -> list[int]:
        return [await self.record(event, at=at) for event in events]

    def actions(self) -> list[str]:
        return [event.action for event in self.events]
