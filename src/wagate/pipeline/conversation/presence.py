"""Mark read and show typing while the AI thinks (AI5); mark read alone when a burst gets only
a notice (a message refused as too long was read, and the person should see it was)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from wagate.domain.errors import SendError
from wagate.pipeline.ports import Burst, ProviderDirectory

log = structlog.get_logger("wagate.pipeline.converse")


@dataclass(kw_only=True)
class ShowTyping:
    providers: ProviderDirectory

    async def __call__(self, burst: Burst) -> bool:
        """True when the provider marked the burst's last message read. Best effort: a failure
        here must not cost the user the answer."""
        return await self._mark(burst, typing=True)

    async def read(self, burst: Burst) -> bool:
        """The read receipt alone: no typing, since no answer is being written."""
        return await self._mark(burst, typing=False)

    async def _mark(self, burst: Burst, *, typing: bool) -> bool:
        provider = self.providers.get(burst.provider, burst.channel_id)
        if provider is None:
            return False
        try:
            return await provider.mark_read(
                message_id=burst.messages[-1].provider_message_id, typing=typing
            )
        except SendError as exc:
            log.warning(
                "converse.typing_failed",
                conversation_id=burst.conversation_id,
                error_type=type(exc).__name__,
                code=exc.code,
            )
            return False
