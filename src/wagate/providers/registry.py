"""Which client answers for which provider channel (IN8 routing by phone_number_id)."""

from __future__ import annotations

from collections.abc import Callable

from wagate.domain.messages import Provider
from wagate.providers.base import MessagingProvider

Factory = Callable[[str], MessagingProvider]


class ProviderRegistry:
    """Clients are built on first use per (provider, channel) and reused; `aclose` ends them."""

    def __init__(self, factories: dict[Provider, Factory]) -> None:
        self._factories = factories
        self._clients: dict[tuple[Provider, str], MessagingProvider] = {}

    def get(self, provider: Provider, channel_id: str) -> MessagingProvider | None:
        key = (provider, channel_id)
        client = self._clients.get(key)
        if client is None:
            factory = self._factories.get(provider)
            if factory is None:
                return None
            client = self._clients[key] = factory(channel_id)
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
