"""Step 6, review: the seam where a lawyer's review decides, for each answer, whether it goes
now, waits as a draft, or goes to a human. Until a reviewer is configured every answer is
sent (`SendEverything`); the decision is still made, and audited, on every run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from wagate.domain.identity import AccountView


class Verdict(StrEnum):
    SEND = "send"  # compose and deliver now
    HOLD = "hold"  # keep as a draft for a reviewer; nothing is sent yet
    HAND_OVER = "hand_over"  # a human takes the question; the AI's answer is not sent


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewCase:
    """One answer to judge, unmasked (the reviewer is inside the gateway)."""

    conversation_id: int
    run_key: str  # stable across retries of the burst: a reviewer keys its queue on it
    account: AccountView | None
    question: str
    answer: str
    model: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    verdict: Verdict
    reason: str | None = None  # for the audit trail: a rule's name, never the text


class Review(Protocol):
    async def __call__(self, case: ReviewCase) -> Decision:
        """Decide. A reviewer that holds or hands over keeps the case itself (its queue); the
        run then only records the decision and sends nothing of the answer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEverything:
    """No review configured: every answer goes out as the AI wrote it."""

    async def __call__(self, case: ReviewCase) -> Decision:
        return Decision(verdict=Verdict.SEND, reason="no_review")
