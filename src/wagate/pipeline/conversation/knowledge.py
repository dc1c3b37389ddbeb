"""Step 4b, retrieval (AI3, AI4): the firm's own documents for the question.

The best passages go to the prompt (and through the same masking as everything else the
assistant sees: they join the system turn before `AskAssistant` masks the whole prompt). When
the knowledge base finds nothing relevant and the policy is strict, the conversation does not
guess: it says the documents do not cover the question and offers a lawyer, with no AI call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.knowledge import Passage, questions_of, sources_line
from wagate.domain.off_topic import is_off_topic
from wagate.domain.small_talk import is_chatter, is_small_talk
from wagate.pipeline.ports import KnowledgeSearch

DEFAULT_DECLINE_TEXT = (
    "Maaf, dokumen panduan kami belum membahas pertanyaan ini, jadi kami tidak ingin menebak. "
    "Advokat kami dapat membantu: silakan hubungi kantor kami untuk menjadwalkan konsultasi, "
    "atau tuliskan pertanyaan Anda dengan lebih lengkap."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgePolicy:
    """`passages`: how many join the prompt (KB_PASSAGES). `strict` (KB_STRICT): decline when
    nothing is found; None means on once the knowledge base holds passages, off before.
    `decline_text` (KB_DECLINE_TEXT): what the user reads then."""

    passages: int = 3
    strict: bool | None = None
    decline_text: str = DEFAULT_DECLINE_TEXT

    def __post_init__(self) -> None:
        if not 1 <= self.passages <= 20:
            raise ValueError("KB_PASSAGES must be between 1 and 20")
        if not self.decline_text.strip():
            raise ValueError("KB_DECLINE_TEXT must not be empty")


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrieval:
    passages: Sequence[Passage] = ()
    declined: bool = False  # strict and nothing relevant: answer with the decline, no AI

    @property
    def sources(self) -> str:
        """The answer's WhatsApp line naming its sources ("" without passages)."""
        return sources_line(tuple(self.passages))


NOTHING = Retrieval()


# How long the knowledge base's size is taken as known (issue 18: a question nothing answers
# read it every run). Only the strict decision's default uses it: for this long after the
# first documents are loaded (or the last removed) such a question may still be answered (or
# declined) as before.
STATS_TTL_SECONDS = 10.0


@dataclass(slots=True, kw_only=True)
class ConsultKnowledge:
    knowledge: KnowledgeSearch
    policy: KnowledgePolicy
    clock: Callable[[], float] = time.monotonic
    _holds_chunks: tuple[float, bool] | None = field(default=None, init=False)

    async def __call__(self, question: str, history: Sequence[ChatTurn] = ()) -> Retrieval:
        if not question.strip() or is_chatter(question):
            # A greeting, thanks or ping: nothing to look up, not even as a follow-up of the
            # previous question ("makasih kak" must not fetch the divorce guide again).
            return NOTHING
        passages = await self._search(question)
        if not passages and is_off_topic(question):
            # "jam brp skrg?", "resep rendang": not a follow-up of the last legal question,
            # however short; the search declined it, and so does the conversation.
            return Retrieval(declined=await self._strict())
        if not passages and (follow_up := _follow_up(question, history)):
            passages = await self.knowledge.search(follow_up, limit=self.policy.passages)
        if passages:
            return Retrieval(passages=passages[: self.policy.passages])
        if is_small_talk(question):
            return NOTHING  # a greeting or thanks: answered as always, never declined
        return Retrieval(declined=await self._strict())

    async def _search(self, question: str) -> list[Passage]:
        """A burst of several questions is searched question by question and the results
        taken in turn, so the second question's document is not crowded out by the first's."""
        limit = self.policy.passages
        asked = [q for q in questions_of(question) if not is_small_talk(q)]
        if len(asked) < 2:
            return list(await self.knowledge.search(question, limit=limit))
        found = [await self.knowledge.search(q, limit=limit) for q in asked]
        merged: list[Passage] = []
        for rank in range(limit):
            for passages in found:
                if rank < len(passages) and passages[rank] not in merged:
                    merged.append(passages[rank])
        return merged[: max(limit, len(asked))]

    async def _strict(self) -> bool:
        """Asked only when nothing was found: an empty knowledge base is not a reason to refuse
        every question (the gateway then answers as it did before it had one)."""
        if self.policy.strict is not None:
            return self.policy.strict
        # Chunks, not documents: a folder of files that all failed to read answers nothing.
        now = self.clock()
        if self._holds_chunks is not None and now - self._holds_chunks[0] < STATS_TTL_SECONDS:
            return self._holds_chunks[1]
        stats = await self.knowledge.stats()
        holds = int(stats.get("chunks", 0) or 0) > 0
        self._holds_chunks = (now, holds)
        return holds


# A question this short that finds nothing on its own is read as a follow-up of the previous
# one ("terus biayanya brp?" after a question on divorce); longer ones stand alone, so an
# unrelated new question is not answered from the previous topic's documents.
FOLLOW_UP_MAX_WORDS = 6


def _follow_up(question: str, history: Sequence[ChatTurn]) -> str | None:
    """The previous user question and this one together, for a short follow-up; else None."""
    if len(question.split()) > FOLLOW_UP_MAX_WORDS:
        return None
    previous = next((t.content for t in reversed(history) if t.role is Role.USER), None)
    return f"{previous}\n{question}" if previous else None


def with_sources(answer: str, retrieval: Retrieval) -> str:
    """The answer and, on its own last line, the documents it drew on. A model that already
    wrote the same line is not repeated."""
    line = retrieval.sources
    if not line or line in answer:
        return answer
    return f"{answer.rstrip()}\n\n{line}"
