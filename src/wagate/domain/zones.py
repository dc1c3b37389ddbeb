"""Triage zones (AI7): how far the AI may go with a question.

GREEN  general information the AI may answer (hours, fees, procedures the knowledge base covers)
YELLOW advice on the person's own case: the AI writes a draft a lawyer approves before it goes
RED    danger now (violence, arrest in progress, threat to life, a child at risk, self-harm): no
       AI at all; a fixed holding reply, a human takes over, on-duty staff are alerted
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Zone(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Zone.GREEN: 0, Zone.YELLOW: 1, Zone.RED: 2}


class ReviewMode(StrEnum):
    OFF = "off"  # every answer goes out (red still goes to a human)
    YELLOW = "yellow"  # yellow answers wait for a lawyer
    ALL = "all"  # every AI answer waits for a lawyer


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneCall:
    """A triage decision. `rules`: names of the rules that matched (for the audit trail and the
    console, never the text); `source`: "rules", "ai" or "default"."""

    zone: Zone
    rules: tuple[str, ...] = ()
    source: str = "rules"
