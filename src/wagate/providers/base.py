"""The port every WhatsApp provider adapter implements.

Adapters raise only `wagate.domain.errors` types; the pipeline never sees httpx or vendor JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from wagate.domain.capabilities import Capabilities
from wagate.domain.messages import Provider


@dataclass(frozen=True, slots=True, kw_only=True)
class SentMessage:
    provider_message_id: str
    recipient: str | None = None


class CredentialCheck(StrEnum):
    """What a credential probe learnt (OU7)."""

    VALID = "valid"  # the provider accepted our token
    REJECTED = "rejected"  # the provider refused the token: expired or revoked
    UNKNOWN = "unknown"  # the probe could not tell (unreachable, unexpected answer)


class MessagingProvider(Protocol):
    name: Provider
    capabilities: Capabilities

    async def send_text(
        self, *, to: str, body: str, reply_to: str | None = None, tracker: str | None = None
    ) -> SentMessage:
        """Send a text; returns the provider's id. Raises Transient/PermanentSendError.

        `tracker` (our idempotency key) is echoed by providers that support it in their status
        webhooks, which lets a send whose answer was lost be recognised later."""

    async def send_template(
        self,
        *,
        to: str,
        name: str,
        language: str,
        parameters: list[str],
        tracker: str | None = None,
    ) -> SentMessage:
        """Send an approved template (the only thing allowed outside the 24-hour window)."""

    async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
        """Mark an inbound message read (and show typing). False when the provider can't."""

    async def check_credentials(self) -> CredentialCheck:
        """Ask the provider, without sending anything, whether our token still works."""

    async def aclose(self) -> None: ...
