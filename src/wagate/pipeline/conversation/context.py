"""Step 4, context and retrieval (AI8, SE2): the prompt the assistant gets — system prompt,
what each context source adds for this account and question, the session's history, and the
question last. The knowledge base's passages (step 4b, `knowledge.py`) join the system turn
here as one delimited block (`domain.knowledge_context`), so they are masked with the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.knowledge import Passage
from wagate.domain.knowledge_context import references_block
from wagate.pipeline.ports import Identity

# account id → extra context for the system prompt (AI8); None when there is nothing to add.
ContextHook = Callable[[int], Awaitable[str | None]]


class ContextSource(Protocol):
    async def context(self, *, account_id: int | None, question: str) -> str | None:
        """Text for the system prompt, or None. Sees the unmasked question: a source runs
        inside the gateway; masking happens on the whole prompt afterwards (CP1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HookSource:
    """AI_CONTEXT_HOOK: asked with the account id, for known accounts only."""

    hook: ContextHook

    async def context(self, *, account_id: int | None, question: str) -> str | None:
        return None if account_id is None else await self.hook(account_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildPrompt:
    system_prompt: str
    history_turns: int
    sources: Sequence[ContextSource] = ()

    async def __call__(
        self,
        identity: Identity,
        history: Sequence[ChatTurn],
        question: str,
        passages: Sequence[Passage] = (),
    ) -> list[ChatTurn]:
        """System turn (omitted when empty), the last `history_turns` turns, the question.
        Passages go last in the system turn: one system message, which every
        OpenAI-compatible server accepts (some refuse a second one)."""
        account_id = identity.account.id if identity.account is not None else None
        system = self.system_prompt
        for source in self.sources:
            extra = await source.context(account_id=account_id, question=question)
            if extra:
                system = f"{system}\n\n{extra}" if system else extra
        references = references_block(passages)
        if references:
            system = f"{system}\n\n{references}" if system else references
        turns = [ChatTurn(role=Role.SYSTEM, content=system)] if system else []
        turns.extend(history[-self.history_turns :])
        turns.append(ChatTurn(role=Role.USER, content=question))
        return turns
