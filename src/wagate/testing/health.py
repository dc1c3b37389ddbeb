"""A ChannelHealthStore for one channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from wagate.domain.breaker import ChannelHealth
from wagate.domain.messages import Provider


@dataclass
class MemoryHealth:
    health: ChannelHealth = field(default_factory=ChannelHealth)

    async def load(self, provider: Provider, channel_id: str) -> ChannelHealth:
        return self.health

    async def change(
        self,
        provider: Provider,
        channel_id: str,
        transition: Callable[[ChannelHealth], ChannelHealth | None],
    ) -> tuple[ChannelHealth, ChannelHealth]:
        before = self.health
        after = transition(before)
        if after is not None:
            self.health = after
        return before, self.health
