"""What goes to an assistant and what comes back, independent of any AI vendor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTurn:
    role: Role
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantReply:
    text: str
    model: str  # which model (or "offline") actually answered
    attempts: int = 1  # how many models were tried, fallbacks included


class AssistantUnavailable(Exception):
    """No model could answer (all fallbacks timed out, failed or refused). Worth retrying later."""
