"""The channel gate (OU5–OU7): whether a message may be sent to its channel now.

* the channel's breaker, shared by all processes through the health store: closed sends, open
  waits out its cool-down and then lets one probe through, degraded (the token was refused)
  first asks the provider whether the token works again, and takes a token replaced at run
  time at once;
* the pair's pacing (Meta's per-user limit): a burst at once, then one per interval; a short
  wait is slept inside the job, a longer one hands the conversation back to the queue.

Waiting never spends a message's attempt. The gate reports `Deferred` and the delivery loop
stops there; it never raises to stop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from wagate.domain.breaker import BreakerPolicy, ChannelHealth, ChannelState, GateKind
from wagate.domain.errors import PairRateLimited
from wagate.domain.pacing import PairPacing
from wagate.domain.provider_port import CredentialCheck, MessagingProvider
from wagate.pipeline.outbound_audit import OutboundAudit
from wagate.pipeline.outcomes import Deferred
from wagate.pipeline.ports import ChannelHealthStore, OutboundMessage, Outbox, ProviderDirectory

log = structlog.get_logger("wagate.pipeline.deliver")

# A wait this short is slept inside the job; a longer one hands the conversation back to the
# queue (a worker slot is worth more than a job's warm state).
MAX_INLINE_WAIT = timedelta(seconds=1.5)
# Another process holds the probe: look again shortly.
PROBE_BUSY_WAIT = timedelta(seconds=2)


@dataclass
class GateRun:
    """What one delivery run learnt once and reuses for each of its messages."""

    recent: list[datetime] | None = None  # the pair's recent sends (pacing)
    health: ChannelHealth | None = None  # the channel's state as last seen


@dataclass(frozen=True, slots=True, kw_only=True)
class Go:
    provider: MessagingProvider  # the client to use (a replaced token makes a new one)
    probing: bool  # this send is the breaker's probe: its outcome decides the channel


@dataclass(kw_only=True)
class ChannelGate:
    outbox: Outbox
    providers: ProviderDirectory
    clock: Callable[[], datetime]
    record: OutboundAudit
    health: ChannelHealthStore | None
    breaker: BreakerPolicy
    pacing: PairPacing | None

    # ------------------------------------------------------------------ before the send

    def recent_since(self) -> datetime | None:
        """From when the pair's sends matter to pacing (None: no pacing, nothing to read)."""
        return self.clock() - self.pacing.lookback if self.pacing is not None else None

    async def pace(self, message: OutboundMessage, run: GateRun) -> Deferred | None:
        """None when the pair may have one more now (after an inline wait, if short)."""
        if self.pacing is None:
            return None
        now = self.clock()
        if run.recent is None:
            since = now - self.pacing.lookback
            run.recent = await self.outbox.recent_sends(message.conversation_id, since=since)
        at = self.pacing.next_send_at(run.recent, now)
        if at <= now:
            return None
        if at - now > MAX_INLINE_WAIT:
            return Deferred(until=at)
        await asyncio.sleep((at - now).total_seconds())
        return None

    async def admit(
        self, message: OutboundMessage, provider: MessagingProvider, now: datetime, run: GateRun
    ) -> Go | Deferred:
        """Ask the channel's breaker (and, degraded, the provider about the token)."""
        if self.health is None:
            return Go(provider=provider, probing=False)
        if run.health is None:
            run.health = await self.health.load(message.provider, message.channel_id)
        health = run.health
        if health.healthy:
            return Go(provider=provider, probing=False)
        if health.state is ChannelState.DEGRADED and await self.providers.refresh(force=True):
            # A replaced token: the client changed, and so may the verdict.
            provider = self.providers.get(message.provider, message.channel_id) or provider
        gate = self.breaker.gate(health, now)
        if gate.kind is GateKind.WAIT:
            assert gate.until is not None
            return Deferred(until=gate.until)
        if gate.kind is GateKind.SEND:
            return Go(provider=provider, probing=False)
        if not await self._claim_probe(message, now, run):
            return Deferred(until=now + PROBE_BUSY_WAIT)
        if health.state is ChannelState.DEGRADED:
            check = await provider.check_credentials()
            if check is CredentialCheck.REJECTED:
                await self.change(
                    message,
                    run,
                    lambda h: self.breaker.rejected_token(h, now, reason=h.reason or ""),
                )
                return Deferred(until=now + self.breaker.degraded_probe)
            if check is CredentialCheck.VALID:
                await self.change(message, run, lambda h: self.breaker.token_valid(h, now))
                return Go(provider=provider, probing=False)
        return Go(provider=provider, probing=True)  # UNKNOWN, or open: the message probes

    async def _claim_probe(self, message: OutboundMessage, now: datetime, run: GateRun) -> bool:
        def claim(health: ChannelHealth) -> ChannelHealth | None:
            if self.breaker.gate(health, now).kind is not GateKind.PROBE:
                return None
            return self.breaker.probing(health, now)

        before, after = await self.change(message, run, claim)
        return after != before

    # ------------------------------------------------------------------ after the send

    def sent(self, run: GateRun) -> None:
        """Count the send for the pair's pacing within this run."""
        if run.recent is not None:
            run.recent.append(self.clock())

    async def succeeded(self, message: OutboundMessage, run: GateRun, *, probing: bool) -> None:
        """The provider answered (accepted, or refused the message itself): the channel works."""
        if self.health is None:
            return
        now = self.clock()
        # The common case (healthy and no failures counted, as this run last saw it) needs no
        # write; failures another process counts meanwhile are reset by its own next success.
        seen = run.health
        if not probing and seen is not None and seen.healthy and seen.failures == 0:
            return
        await self.change(message, run, lambda h: self.breaker.succeeded(h, now))

    async def failed(self, message: OutboundMessage, run: GateRun, *, reason: str) -> None:
        """A transient failure counts against the channel."""
        now = self.clock()
        await self.change(message, run, lambda h: self.breaker.failed(h, now, reason=reason))

    async def token_rejected(
        self, message: OutboundMessage, run: GateRun, *, reason: str
    ) -> datetime:
        """OU7: the channel is degraded; returns when its token is probed next."""
        now = self.clock()
        await self.change(
            message, run, lambda h: self.breaker.rejected_token(h, now, reason=reason)
        )
        return now + self.breaker.degraded_probe

    def slowdown(self, message: OutboundMessage, exc: PairRateLimited) -> timedelta:
        """OU6: how long the pair waits after the provider's per-user limit refused a send."""
        if self.pacing is not None:
            return self.pacing.slowdown(message.throttles + 1, exc.retry_after)
        return timedelta(seconds=max(exc.retry_after or 0.0, 6.0))

    async def change(
        self,
        message: OutboundMessage,
        run: GateRun,
        transition: Callable[[ChannelHealth], ChannelHealth | None],
    ) -> tuple[ChannelHealth, ChannelHealth]:
        """Apply `transition` to the shared health (None: no change); log and audit a change
        of state."""
        if self.health is None:
            return ChannelHealth(), ChannelHealth()
        before, after = await self.health.change(message.provider, message.channel_id, transition)
        run.health = after
        if before.state is not after.state:
            log.warning(
                "channel.state_changed",
                provider=message.provider.value,
                before=before.state.value,
                after=after.state.value,
            )
            await self.record.channel(message.provider.value, before.state.value, after.state.value)
        return before, after
