"""What the pipeline needs from storage and providers, as protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from wagate.domain.messages import Provider
from wagate.providers.base import MessagingProvider


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingMessage:
    id: int
    provider_message_id: str
    kind: str
    sent_at: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Burst:
    """The unprocessed messages of one conversation, in provider-timestamp order."""

    conversation_id: int
    provider: Provider
    channel_id: str
    contact_key: str
    messages: Sequence[PendingMessage]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    conversation_id: int
    message_ids: Sequence[int]
    started_at: datetime
    finished_at: datetime
    last_message_id: str | None
    marked_read: bool
    outcome: str
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeResult:
    """What one webhook delivery changed: new rows, and parts already seen before."""

    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    status_duplicates: int = 0
    others: int = 0
    queued: int = 0


class ConversationStore(Protocol):
    async def load_burst(self, conversation_id: int) -> Burst | None: ...

    async def defer(self, conversation_id: int, *, run_at: datetime, attempt: int) -> None: ...

    async def record_run(self, run: RunRecord) -> None: ...


class ProviderDirectory(Protocol):
    def get(self, provider: Provider, channel_id: str) -> MessagingProvider | None: ...
