"""The circuit breaker around a provider channel, and its degraded (token) state (OU5, OU7).

closed ──(N transient failures in a row)──▶ open ──(cool-down over)──▶ half_open (one probe)
   ▲                                                                        │
   └──────────────── probe succeeds ◀──────────────────────────────────────┘
                     probe fails → open again, with a longer cool-down

Any state ──(token refused: 190 / 401)──▶ degraded: sends pause until a credential check (or a
probe send after `degraded_probe`) shows the token works, or the token is replaced.

While a channel is not closed, messages wait in the queue: pausing never burns an attempt and
never fails a message. The state is a value; storage keeps it per channel, shared by processes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class ChannelState(StrEnum):
    CLOSED = "closed"  # healthy: send
    OPEN = "open"  # too many failures: wait for the cool-down
    HALF_OPEN = "half_open"  # one probe send is in flight
    DEGRADED = "degraded"  # the token was refused


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHealth:
    state: ChannelState = ChannelState.CLOSED
    failures: int = 0  # transient failures in a row
    trips: int = 0  # times opened in a row: grows the cool-down
    reason: str | None = None
    changed_at: datetime | None = None
    retry_at: datetime | None = None  # open/degraded: when a probe may go
    probe_started_at: datetime | None = None

    @property
    def healthy(self) -> bool:
        return self.state is ChannelState.CLOSED


class GateKind(StrEnum):
    SEND = "send"
    PROBE = "probe"  # send, and let the outcome decide whether the channel reopens
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class Gate:
    kind: GateKind
    until: datetime | None = None  # WAIT: when to look again


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    failures: int = 5
    cooldown: timedelta = timedelta(seconds=5)
    max_cooldown: timedelta = timedelta(minutes=2)
    degraded_probe: timedelta = timedelta(seconds=15)
    # A probe whose sender died never reports: after this long another process may probe.
    probe_timeout: timedelta = timedelta(seconds=60)

    def _cooldown(self, trips: int) -> timedelta:
        grown: timedelta = self.cooldown * (2 ** min(max(trips - 1, 0), 16))
        return min(self.max_cooldown, grown)

    def gate(self, health: ChannelHealth, now: datetime) -> Gate:
        """May a message go now? PROBE means: yes, as the one probe (claim it first)."""
        if health.state is ChannelState.CLOSED:
            return Gate(GateKind.SEND)
        if health.state is ChannelState.HALF_OPEN:
            started = health.probe_started_at or now
            if now - started >= self.probe_timeout:
                return Gate(GateKind.PROBE)
            return Gate(GateKind.WAIT, until=now + min(self.cooldown, timedelta(seconds=2)))
        retry_at = health.retry_at or now
        if now >= retry_at:
            return Gate(GateKind.PROBE)
        return Gate(GateKind.WAIT, until=retry_at)

    def probing(self, health: ChannelHealth, now: datetime) -> ChannelHealth:
        """The state while a probe is in flight. A degraded channel stays degraded (its reason
        is what status shows); its next probe time moves on so only one sender probes."""
        if health.state is ChannelState.DEGRADED:
            return replace(health, probe_started_at=now, retry_at=now + self.degraded_probe)
        return replace(health, state=ChannelState.HALF_OPEN, probe_started_at=now)

    def succeeded(self, health: ChannelHealth, now: datetime) -> ChannelHealth:
        if health.state is ChannelState.CLOSED and health.failures == 0:
            return health
        return ChannelHealth(changed_at=now if not health.healthy else health.changed_at)

    def failed(self, health: ChannelHealth, now: datetime, *, reason: str) -> ChannelHealth:
        """A transient failure (5xx, timeout, throughput limit, device offline)."""
        if health.state is ChannelState.DEGRADED:
            # The token question is still open: a failed probe send says nothing about it.
            return replace(health, probe_started_at=None, retry_at=now + self.degraded_probe)
        failures = health.failures + 1
        if health.state is ChannelState.HALF_OPEN or failures >= self.failures:
            trips = health.trips + 1
            return ChannelHealth(
                state=ChannelState.OPEN,
                failures=failures,
                trips=trips,
                reason=reason,
                changed_at=now,
                retry_at=now + self._cooldown(trips),
            )
        return replace(health, failures=failures, reason=reason)

    def rejected_token(self, health: ChannelHealth, now: datetime, *, reason: str) -> ChannelHealth:
        changed = health.changed_at if health.state is ChannelState.DEGRADED else now
        return ChannelHealth(
            state=ChannelState.DEGRADED,
            trips=health.trips,
            reason=reason,
            changed_at=changed,
            retry_at=now + self.degraded_probe,
        )

    def token_valid(self, health: ChannelHealth, now: datetime) -> ChannelHealth:
        """A credential check (or a replaced token) cleared the degraded state."""
        if health.state is not ChannelState.DEGRADED:
            return health
        return ChannelHealth(changed_at=now)
