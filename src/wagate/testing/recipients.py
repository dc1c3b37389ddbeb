"""A RecipientCheck in memory: the numbers that opted out."""

from __future__ import annotations

from dataclasses import dataclass, field

from wagate.domain.consent import OPTED_OUT


@dataclass
class OptOutList:
    numbers: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)  # every number the check was asked about

    async def refusal(self, number: str) -> str | None:
        self.asked.append(number)
        return OPTED_OUT if number in self.numbers else None
