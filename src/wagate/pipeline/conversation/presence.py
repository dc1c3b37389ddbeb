"""Mark read and show typing while the AI thinks (AI5)."""

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
        provider = self.providers.get(burst.provider, burst.channel_id)
        if provider is None:
            return False
        try:
            return await provider.mark_read(
                message_id=burst.messages[-1].provider_message_id, typing=True
            )
        except SendError as exc:
            log.warning(
                "converse.typing_failed",
                conversation_id=burst.conversation_id,
                error_type=type(exc).__name__,
                code=exc.code,
            )
            return False
