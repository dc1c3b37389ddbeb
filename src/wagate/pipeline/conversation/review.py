"""Step 6, review: the seam where a lawyer's review decides, for each answer, whether it goes
now, waits as a draft, or goes to a human. Without a reviewer every answer is sent
(`SendEverything`); `LawyerReview` holds the answers REVIEW_MODE puts in front of a lawyer
(AI7). The decision is made, and audited, on every run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from wagate.domain.identity import AccountView
from wagate.domain.knowledge import Passage
from wagate.domain.review import (
    DEFAULT_ACK_TEXT,
    NewDraft,
    Source,
    effective_mode,
    must_hold,
)
from wagate.domain.zones import ReviewMode, Zone
from wagate.pipeline.ports import KnowledgeSearch


class Verdict(StrEnum):
    SEND = "send"  # compose and deliver now
    HOLD = "hold"  # keep as a draft for a reviewer; nothing is sent yet
    HAND_OVER = "hand_over"  # a human takes the question; the AI's answer is not sent


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewCase:
    """One answer to judge. `answer` is unmasked (the reviewer is inside the gateway);
    `masked_question` and `masked_answer` keep the conversation's placeholders, as a stored
    draft must (the answer with its sources line)."""

    conversation_id: int
    run_key: str  # stable across retries of the burst: a reviewer keys its queue on it
    account: AccountView | None
    question: str
    answer: str
    model: str
    zone: Zone = Zone.GREEN
    rules: tuple[str, ...] = ()
    masked_question: str = ""
    masked_answer: str = ""
    sources: tuple[Source, ...] = ()
    session_id: int | None = None
    session_opened_at: datetime | None = None  # a new session: stored with a held draft


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    verdict: Verdict
    reason: str | None = None  # for the audit trail: a rule's name, never the text
    notice: str | None = None  # what the person reads instead of the answer (held)
    draft_id: int | None = None  # the stored draft, when held


class Review(Protocol):
    async def __call__(self, case: ReviewCase) -> Decision:
        """Decide. A reviewer that holds or hands over keeps the case itself (its queue); the
        run then only records the decision and sends nothing of the answer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEverything:
    """No review configured: every answer goes out as the AI wrote it."""

    async def __call__(self, case: ReviewCase) -> Decision:
        return Decision(verdict=Verdict.SEND, reason="no_review")


class DraftKeeper(Protocol):
    """Where held answers wait for a lawyer (storage: the sealed review_drafts table)."""

    async def keep(self, draft: NewDraft) -> int:
        """Store the draft; a run retried with the same run_key keeps the first one. Its id."""


@dataclass(kw_only=True)
class LawyerReview:
    """REVIEW_MODE decides which answers wait (`domain.review.must_hold`); unset, it is
    `yellow` once the firm has a knowledge base loaded or a lawyer user, else `off`."""

    drafts: DraftKeeper
    clock: Callable[[], datetime]
    mode: ReviewMode | None = None
    sla: timedelta = timedelta(minutes=30)
    ack_text: str = DEFAULT_ACK_TEXT
    knowledge: KnowledgeSearch | None = None
    lawyer_exists: Callable[[], Awaitable[bool]] | None = None

    async def current_mode(self) -> ReviewMode:
        if self.mode is not None:
            return self.mode
        return effective_mode(
            None,
            knowledge_loaded=await self._knowledge_loaded(),
            lawyer_exists=bool(self.lawyer_exists and await self.lawyer_exists()),
        )

    async def _knowledge_loaded(self) -> bool:
        if self.knowledge is None:
            return False
        stats = await self.knowledge.stats()
        return int(stats.get("chunks", 0) or 0) > 0

    async def __call__(self, case: ReviewCase) -> Decision:
        if self.mode is None and case.zone is Zone.GREEN:
            # Unset, the mode is off or yellow: green goes out either way (and the knowledge
            # base and the users need not be asked on every answer).
            return Decision(verdict=Verdict.SEND, reason="green:auto")
        mode = await self.current_mode()
        if not must_hold(case.zone, mode):
            return Decision(verdict=Verdict.SEND, reason=f"{case.zone.value}:{mode.value}")
        now = self.clock()
        draft_id = await self.drafts.keep(
            NewDraft(
                conversation_id=case.conversation_id,
                run_key=case.run_key,
                zone=case.zone,
                rules=case.rules,
                question=case.masked_question or case.question,
                text=case.masked_answer or case.answer,
                sources=case.sources,
                created_at=now,
                deadline=now + self.sla,
                session_id=case.session_id,
                session_opened_at=case.session_opened_at,
            )
        )
        return Decision(
            verdict=Verdict.HOLD,
            reason=f"{case.zone.value}:{mode.value}",
            notice=self.ack_text,
            draft_id=draft_id,
        )


def sources_of(passages: Sequence[Passage]) -> tuple[Source, ...]:
    """The passages' documents and sections, each once, in rank order."""
    seen: dict[tuple[int, str], Source] = {}
    for p in passages:
        key = (p.document_id, p.section)
        if key not in seen:
            seen[key] = Source(document_id=p.document_id, title=p.title, section=p.section)
    return tuple(seen.values())
