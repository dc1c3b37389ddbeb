"""What the gateway says about itself: its configuration (as booleans), each channel's state
and the figures behind `/metrics`.

The web's `/api/whatsapp/status` and `/api/health`, the metrics and `wagate tenants status` all
read the same service, so they cannot disagree about a channel (OU5, OU7).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from wagate.domain.breaker import ChannelHealth
from wagate.domain.messages import Provider

# Runs of digits could be phone numbers or ids: a status never shows them.
_DIGIT_RUN = re.compile(r"\d{6,}")


@dataclass(slots=True)
class Gauges:
    """Counts read from the database at scrape time (every process writes its outcomes there)."""

    outbound: dict[str, int] = field(default_factory=dict)  # by status (not yet accepted)
    email: dict[str, int] = field(default_factory=dict)  # fallback outcomes
    resent_after_unknown: int = 0
    inbound_dead_letters: int = 0
    inbound_unprocessed: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    conversations_held: int = 0  # held by a human (or the gateway after a red message) now
    staff_alerts: dict[str, int] = field(default_factory=dict)  # sent / failed / undeliverable
    # The tenant's waiting jobs: `ready` (due, waiting for a worker: the backlog) and
    # `scheduled` (waiting for their time: a debounce, a retry's backoff, pacing).
    queue: dict[str, int] = field(default_factory=dict)


class ChannelHealthListing(Protocol):
    async def all(self) -> list[tuple[Provider, str, ChannelHealth]]:
        """Every channel whose health was ever recorded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayStatus:
    """`configuration` is what wiring read from the settings, booleans and counts only (never a
    secret, never an id); `channels` are the configured channels (provider → channel id)."""

    configuration: Mapping[str, Any]
    channels: Mapping[Provider, str]
    health: ChannelHealthListing
    ping: Callable[[], Awaitable[bool]]
    count: Callable[[], Awaitable[Gauges]]

    async def gauges(self) -> Gauges:
        """The figures `/metrics` exports beside the channel states."""
        return await self.count()

    async def status(self) -> dict[str, Any]:
        """The configuration, whether the database answers now, and each channel's state."""
        report = dict(self.configuration)
        # Replacing the key keeps its place in the JSON.
        report["database"] = {
            **dict(self.configuration.get("database", {})),
            "reachable": await self.ping(),
        }
        report["channels"] = await self.channel_states()
        return report

    async def channel_states(self, *, with_ids: bool = False) -> list[dict[str, Any]]:
        """OU5/OU7: each channel's breaker or degraded state, and why (never a secret; the
        channel's id only for token holders). A configured channel with no record yet is
        closed (sending)."""
        known = {(p, c): h for p, c, h in await self.health.all()}
        for key in self.channels.items():
            known.setdefault(key, ChannelHealth())
        return [
            {
                "provider": provider.value,
                **({"channel": channel} if with_ids else {}),
                "state": health.state.value,
                "sending": health.healthy,
                "failures": health.failures,
                "reason": _DIGIT_RUN.sub("…", health.reason) if health.reason else None,
                "since": health.changed_at.isoformat() if health.changed_at else None,
                "retryAt": health.retry_at.isoformat() if health.retry_at else None,
            }
            for (provider, channel), health in sorted(known.items())
        ]
