"""Case intakes in memory (FL1): the conversation step's `CaseIntakeStore` and the operator
service's `CaseIntakeRecords` over one dict, shaped as storage shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wagate.domain.case_intake import CASE_TYPES, IntakeStatus
from wagate.pipeline.ports import NewIntake, StoredIntake


@dataclass
class MemoryCaseIntakes:
    rows: dict[int, NewIntake] = field(default_factory=dict)
    status: dict[int, tuple[str, str | None, datetime | None]] = field(default_factory=dict)
    _by_completion: dict[tuple[str, str], int] = field(default_factory=dict)

    async def record(self, intake: NewIntake) -> StoredIntake:
        key = (intake.provider.value, intake.provider_message_id)
        if key in self._by_completion:
            return StoredIntake(id=self._by_completion[key], created=False)
        intake_id = len(self.rows) + 1
        self.rows[intake_id] = intake
        self.status[intake_id] = (IntakeStatus.NEW.value, None, None)
        self._by_completion[key] = intake_id
        return StoredIntake(id=intake_id, created=True)

    async def listing(self, *, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        ids = sorted(self.rows, reverse=True)
        chosen = [i for i in ids if status is None or self.status[i][0] == status]
        return [self._shown(i) for i in chosen[offset : offset + limit]]

    async def show(self, intake_id: int) -> dict[str, Any] | None:
        if intake_id not in self.rows:
            return None
        shown = self._shown(intake_id)
        parsed = self.rows[intake_id].parsed
        shown |= {
            "answers": dict(parsed.answers),
            "documents": [d.as_json() for d in parsed.documents],
            "flowToken": parsed.flow_token,
        }
        if not parsed.complete:
            shown["response"] = parsed.raw
        return shown

    async def mark_reviewed(self, intake_id: int, *, by: str, at: datetime) -> bool:
        if self.status.get(intake_id, ("",))[0] != IntakeStatus.NEW.value:
            return False
        self.status[intake_id] = (IntakeStatus.REVIEWED.value, by, at)
        return True

    async def count(self) -> int:
        return len(self.rows)

    def _shown(self, intake_id: int) -> dict[str, Any]:
        intake = self.rows[intake_id]
        parsed = intake.parsed
        status, by, at = self.status[intake_id]
        name = parsed.answers.get("full_name")
        return {
            "id": intake_id,
            "conversation": intake.conversation_id,
            "provider": intake.provider.value,
            "status": status,
            "complete": parsed.complete,
            "problems": list(parsed.problems),
            "documentCount": len(parsed.documents),
            "receivedAt": intake.received_at,
            "createdAt": intake.received_at,
            "reviewedAt": at,
            "reviewedBy": by,
            "name": name if isinstance(name, str) else None,
            "caseType": parsed.case_type,
            "caseTypeLabel": CASE_TYPES.get(parsed.case_type or ""),
            "unreadable": False,
        }
