"""The single place an operator action becomes an audit record (CP3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.pipeline.operator.actor import Actor


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorder:
    audit: AuditTrail
    clock: Callable[[], datetime]

    async def record(
        self, by: Actor, action: str, subject: str | None = None, **details: object
    ) -> None:
        """One record per action done, as facts (ids, counts), never message text or numbers;
        the same action name, subject and details whichever door it came through."""
        await self.audit.record(
            AuditEvent(action=action, actor=by.audit_name, subject=subject, details=details),
            at=self.clock(),
        )
