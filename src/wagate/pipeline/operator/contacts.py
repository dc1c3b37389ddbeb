"""Data subjects' rights (UU PDP, CP7): export everything held about a contact, erase it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wagate.domain.json_keys import camel_case
from wagate.domain.operators import Permission
from wagate.domain.phone import InvalidPhoneNumber, normalise_phone
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Rejected
from wagate.pipeline.operator.ports import ContactRightsStore
from wagate.pipeline.operator.recorder import Recorder


def _number(phone: str) -> str:
    try:
        return normalise_phone(phone)
    except InvalidPhoneNumber as exc:
        raise Rejected(str(exc)) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Contacts:
    rights: ContactRightsStore
    recorder: Recorder

    async def export(self, phone: str, *, by: Actor) -> dict[str, Any]:
        """Everything held about the number (the audit record holds counts, not the number)."""
        by.require(Permission.OPERATE)
        data = await self.rights.export(_number(phone))
        await self.recorder.record(
            by, "contact.exported", None, conversations=len(data["conversations"])
        )
        return data

    async def erase(self, phone: str, *, by: Actor) -> dict[str, int]:
        by.require(Permission.ADMINISTER)
        counts = await self.rights.erase(_number(phone))
        await self.recorder.record(by, "contact.erased", None, **counts)
        # The audit keeps the store's names; the API and the CLI speak camelCase.
        return {camel_case(name): count for name, count in counts.items()}
