"""A test-only zone triage for `WAGATE_ZONE_TRIAGE` (the hook a firm's own classifier uses):
marker words decide, so end-to-end tests choose each message's zone."""

from __future__ import annotations

from collections.abc import Sequence

from wagate.domain.zones import Zone, ZoneCall


async def triage(question: str, history: Sequence[str] = (), *, ask_model: bool = True) -> ZoneCall:
    words = question.lower()
    if "darurat" in words:
        return ZoneCall(zone=Zone.RED, rules=("test_danger_now",))
    if "kasus" in words:
        return ZoneCall(zone=Zone.YELLOW, rules=("test_own_case",))
    return ZoneCall(zone=Zone.GREEN, source="default")
