"""Case intakes (FL1): registrations people sent through the WhatsApp Flow — list, show, mark
reviewed — and sending the Flow to a number, for every door (API, CLI, console).

Reading needs `READ` (a single intake's page, with its answers, is audited as viewed: it holds
a NIK); marking one reviewed is a lawyer's act (`APPROVE`); sending the Flow is like sending a
message (`OPERATE`, and the recipient check refuses numbers that opted out)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from wagate.domain.case_intake import FLOW_KIND, STATUSES, IntakeFlow, IntakeStatus
from wagate.domain.operators import Permission
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.sending import Sending, SendReceipt


class CaseIntakeRecords(Protocol):
    """The tenant's intakes (storage: case_intakes, sealed). `listing` gives id, conversation,
    status, complete, problems, documentCount, name, caseType, times; `show` adds answers,
    documents, flowToken, and the reply as received (`response`) when it was incomplete."""

    async def listing(
        self, *, status: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]: ...

    async def show(self, intake_id: int) -> dict[str, Any] | None: ...

    async def mark_reviewed(self, intake_id: int, *, by: str, at: datetime) -> bool:
        """Only a `new` intake; False when it was not."""

    async def count(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseIntakes:
    records: CaseIntakeRecords
    sending: Sending
    recorder: Recorder
    flow: IntakeFlow

    async def listing(
        self, *, by: Actor, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Newest first; no answers beyond the name and the case type."""
        by.require(Permission.READ)
        if status is not None and status not in STATUSES:
            raise Rejected(f"status must be one of {', '.join(STATUSES)}")
        return await self.records.listing(status=status, limit=limit, offset=offset)

    async def show(self, intake_id: int, *, by: Actor) -> dict[str, Any]:
        """One intake with every answer (audited: who read which intake, nothing of it)."""
        by.require(Permission.READ)
        found = await self.records.show(intake_id)
        if found is None:
            raise NotFound(f"no intake {intake_id}")
        await self.recorder.record(
            by, "case_intake.viewed", f"case_intake:{intake_id}", conversation=found["conversation"]
        )
        return found

    async def review(self, intake_id: int, *, by: Actor) -> dict[str, Any]:
        """A lawyer has looked at it: `new` → `reviewed` (then retention may purge it)."""
        by.require(Permission.APPROVE)
        found = await self.records.show(intake_id)
        if found is None:
            raise NotFound(f"no intake {intake_id}")
        if found["status"] != IntakeStatus.NEW.value:
            raise Conflict(f"intake {intake_id} is {found['status']} already")
        if not await self.records.mark_reviewed(
            intake_id, by=by.audit_name, at=self.recorder.clock()
        ):
            raise Conflict(f"intake {intake_id} was reviewed by someone else meanwhile")
        await self.recorder.record(
            by,
            "case_intake.reviewed",
            f"case_intake:{intake_id}",
            conversation=found["conversation"],
        )
        return await self.records.show(intake_id) or found

    async def send(self, target: str, *, by: Actor, key: str | None = None) -> SendReceipt:
        """Send the case-intake Flow to a number (the person fills it in on their phone);
        `key` makes it idempotent (namespaced by the door, like `send`)."""
        by.require(Permission.OPERATE)
        if not self.flow.enabled:
            raise Rejected("case intake has no WhatsApp Flow: set INTAKE_FLOW_ID")
        receipt = await self.sending.flow(
            target,
            self.flow.invitation,
            self.flow.fallback_text(),
            by=by,
            key=f"{by.via}:{key}" if key else f"intake:{uuid.uuid4()}",
            kind=FLOW_KIND,
        )
        await self.recorder.record(
            by,
            "case_intake.invited",
            f"conversation:{receipt.conversation_id}",
            queued=receipt.queued,
            provider=receipt.provider.value,
        )
        return receipt

    async def count(self, *, by: Actor) -> int:
        by.require(Permission.READ)
        return await self.records.count()
