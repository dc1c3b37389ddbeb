"""An Assistant that answers from a script and keeps every prompt it was given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wagate.domain.chat import AssistantReply, AssistantUnavailable, ChatTurn


@dataclass
class ScriptedAssistant:
    """Each call takes the next scripted answer: a text, or an exception to raise. With the
    script empty it echoes the last turn, so the masked question can be seen in the answer."""

    script: list[str | Exception] = field(default_factory=list)
    model: str = "scripted"
    prompts: list[list[ChatTurn]] = field(default_factory=list)

    async def reply(self, turns: Sequence[ChatTurn]) -> AssistantReply:
        self.prompts.append(list(turns))
        outcome: str | Exception = self.script.pop(0) if self.script else turns[-1].content
        if isinstance(outcome, Exception):
            raise outcome
        return AssistantReply(text=outcome, model=self.model)

    async def aclose(self) -> None:
        return None

    @staticmethod
    def unavailable() -> AssistantUnavailable:
        return AssistantUnavailable("every model failed")
