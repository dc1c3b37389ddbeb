"""What goes to an assistant and what comes back, independent of any AI vendor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatImage:
    """A photo the person sent, given to a vision-capable model with their turn (MD1). Its
    bytes leave the gateway as they are: images cannot be masked (see `converse`)."""

    mime_type: str  # what the bytes really are (sniffed), e.g. image/jpeg
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTurn:
    role: Role
    content: str
    # Photos for a vision-capable model (AI_VISION_MODEL); only ever on the last user turn.
    images: tuple[ChatImage, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantReply:
    text: str
    model: str  # which model (or "offline") actually answered
    attempts: int = 1  # how many models were tried, fallbacks included


class AssistantUnavailable(Exception):
    """No model could answer (all fallbacks timed out, failed or refused). Worth retrying later."""
