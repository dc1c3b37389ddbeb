"""The assistant port: what the conversation needs from a model, whatever serves it.

It lives in the domain so that the pipeline (which may not import adapters) and the adapters
under `wagate.assistants` both depend on it, and never on each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wagate.domain.chat import AssistantReply, ChatTurn


class Assistant(Protocol):
    async def reply(self, turns: Sequence[ChatTurn]) -> AssistantReply:
        """Answer the last user turn given the whole list (system prompt first).

        Raises `AssistantUnavailable` when no model could answer.
        """

    async def aclose(self) -> None: ...
