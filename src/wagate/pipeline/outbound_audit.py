"""The audit records delivery writes about an outbound message (CP3: facts, never text)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.pipeline.ports import OutboundMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundAudit:
    audit: AuditTrail | None
    clock: Callable[[], datetime]

    async def __call__(self, action: str, message: OutboundMessage, **details: object) -> None:
        """One event on the message's conversation; nothing when no trail is configured."""
        if self.audit is None:
            return
        await self.audit.record(self.event(action, message, **details), at=self.clock())

    def events(self, action: str, message: OutboundMessage, **details: object) -> list[AuditEvent]:
        """The event `__call__` would append, for a store to write in its own transaction
        (none when no trail is configured)."""
        return [] if self.audit is None else [self.event(action, message, **details)]

    @staticmethod
    def event(action: str, message: OutboundMessage, **details: object) -> AuditEvent:
        return AuditEvent(
            action=action,
            actor="worker",
            subject=f"conversation:{message.conversation_id}",
            details={"outbound": message.id, "provider": message.provider.value, **details},
        )

    async def channel(self, provider: str, before: str, after: str) -> None:
        if self.audit is None:
            return
        await self.audit.record(
            AuditEvent(
                action="channel.state_changed",
                actor="worker",
                subject=f"channel:{provider}",
                details={"before": before, "after": after},
            ),
            at=self.clock(),
        )
