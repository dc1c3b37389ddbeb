"""One tenant's adapters, per provider channel, with the token each channel currently uses
(OU7: a token replaced at run time reaches every process). The pipeline sends with
`get(provider, channel)`; wiring builds one per tenant (`wiring.tenant_registry`), and a
plugin's webhooks are verified by the default tenant's adapter of its channel."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from wagate.domain.messages import Provider
from wagate.domain.provider_port import ProviderAdapter

# (channel id, token) → adapter; the token is the configured one unless it was replaced.
Factory = Callable[[str, str], ProviderAdapter]
# provider → (token, version), for tokens replaced with `wagate tenants set-token`.
TokenSource = Callable[[], Awaitable[dict[Provider, tuple[str, int]]]]


class ProviderRegistry:
    """Adapters are built on first use per (provider, channel) and reused; `aclose` ends them."""

    def __init__(
        self,
        factories: dict[Provider, Factory],
        tokens: dict[Provider, str] | None = None,
        *,
        channels: dict[Provider, str] | None = None,
        token_source: TokenSource | None = None,
        refresh_every: float = 2.0,
        channel_tokens: dict[tuple[Provider, str], str] | None = None,
    ) -> None:
        self._factories = factories
        self._tokens = dict(tokens or {})
        # A tenant's channels may each have their own token (two WABAs, two Fonnte devices).
        self._channel_tokens = dict(channel_tokens or {})
        self._channels = dict(channels or {})
        self._versions: dict[Provider, int] = {}
        self._clients: dict[tuple[Provider, str], ProviderAdapter] = {}
        self._retired: list[ProviderAdapter] = []
        self.token_source = token_source
        self._refresh_every = refresh_every
        self._refreshed_at = float("-inf")

    def get(self, provider: Provider, channel_id: str) -> ProviderAdapter | None:
        key = (provider, channel_id)
        client = self._clients.get(key)
        if client is None:
            factory = self._factories.get(provider)
            if factory is None:
                return None
            client = self._clients[key] = factory(channel_id, self._token(provider, channel_id))
        return client

    def _token(self, provider: Provider, channel_id: str) -> str:
        """A token replaced at run time wins; then the channel's own; then the provider's."""
        if provider in self._versions:
            return self._tokens[provider]
        own = self._channel_tokens.get((provider, channel_id))
        return own if own is not None else self._tokens.get(provider, "")

    @property
    def default_channels(self) -> dict[Provider, str]:
        return dict(self._channels)

    def replace_token(self, provider: Provider, token: str, version: int) -> None:
        """Use `token` from now on; clients built with the old one are retired (closed later:
        a send may still be using one)."""
        self._tokens[provider] = token
        self._versions[provider] = version
        for key in [k for k in self._clients if k[0] == provider]:
            self._retired.append(self._clients.pop(key))

    async def refresh(self, *, force: bool = False) -> bool:
        """Pick up replaced tokens (at most every `refresh_every` s unless forced); True when a
        token changed."""
        if self.token_source is None:
            return False
        now = time.monotonic()
        if not force and now - self._refreshed_at < self._refresh_every:
            return False
        self._refreshed_at = now
        changed = False
        for provider, (token, version) in (await self.token_source()).items():
            if provider in self._factories and self._versions.get(provider) != version:
                self.replace_token(provider, token, version)
                changed = True
        return changed

    async def aclose(self) -> None:
        for client in [*self._clients.values(), *self._retired]:
            await client.aclose()
        self._clients.clear()
        self._retired.clear()
