"""The circuit breaker and degraded state as pure transitions (OU5, OU7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wagate.domain.breaker import BreakerPolicy, ChannelHealth, ChannelState, GateKind

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
POLICY = BreakerPolicy(
    failures=3,
    cooldown=timedelta(seconds=5),
    max_cooldown=timedelta(seconds=30),
    degraded_probe=timedelta(seconds=15),
    probe_timeout=timedelta(seconds=60),
)


def fail(health: ChannelHealth, times: int, at: datetime = T0) -> ChannelHealth:
    for _ in range(times):
        health = POLICY.failed(health, at, reason="ProviderUnavailable")
    return health


def test_closed_sends_and_counts_failures_below_the_threshold() -> None:
    health = fail(ChannelHealth(), 2)
    assert health.state is ChannelState.CLOSED
    assert health.failures == 2
    assert POLICY.gate(health, T0).kind is GateKind.SEND


def test_a_success_resets_the_run_of_failures() -> None:
    health = POLICY.succeeded(fail(ChannelHealth(), 2), T0)
    assert health == ChannelHealth()
    assert fail(health, 2).state is ChannelState.CLOSED


def test_the_threshold_opens_the_breaker_and_sends_wait_for_the_cooldown() -> None:
    health = fail(ChannelHealth(), 3)
    assert health.state is ChannelState.OPEN
    assert health.retry_at == T0 + timedelta(seconds=5)
    gate = POLICY.gate(health, T0 + timedelta(seconds=1))
    assert gate.kind is GateKind.WAIT
    assert gate.until == T0 + timedelta(seconds=5)


def test_after_the_cooldown_one_probe_goes_and_others_wait() -> None:
    opened = fail(ChannelHealth(), 3)
    later = T0 + timedelta(seconds=5)
    assert POLICY.gate(opened, later).kind is GateKind.PROBE
    probing = POLICY.probing(opened, later)
    assert probing.state is ChannelState.HALF_OPEN
    assert POLICY.gate(probing, later + timedelta(seconds=1)).kind is GateKind.WAIT


def test_a_probe_that_never_reports_is_taken_over_after_the_probe_timeout() -> None:
    probing = POLICY.probing(fail(ChannelHealth(), 3), T0)
    assert POLICY.gate(probing, T0 + timedelta(seconds=61)).kind is GateKind.PROBE


def test_a_successful_probe_closes_the_breaker() -> None:
    probing = POLICY.probing(fail(ChannelHealth(), 3), T0 + timedelta(seconds=5))
    closed = POLICY.succeeded(probing, T0 + timedelta(seconds=6))
    assert closed.state is ChannelState.CLOSED
    assert closed.failures == 0
    assert closed.trips == 0


def test_a_failed_probe_reopens_with_a_longer_cooldown_up_to_the_cap() -> None:
    health = fail(ChannelHealth(), 3)
    cooldowns = []
    now = T0
    for _ in range(5):
        assert health.retry_at is not None
        now = health.retry_at
        health = POLICY.failed(POLICY.probing(health, now), now, reason="again")
        assert health.state is ChannelState.OPEN
        assert health.retry_at is not None
        cooldowns.append((health.retry_at - now).total_seconds())
    assert cooldowns == [10, 20, 30, 30, 30]


def test_a_refused_token_degrades_the_channel_until_a_check_clears_it() -> None:
    degraded = POLICY.rejected_token(ChannelHealth(), T0, reason="190")
    assert degraded.state is ChannelState.DEGRADED
    assert not degraded.healthy
    assert POLICY.gate(degraded, T0 + timedelta(seconds=1)).kind is GateKind.WAIT
    assert POLICY.gate(degraded, T0 + timedelta(seconds=15)).kind is GateKind.PROBE
    # Transient failures while degraded do not open or close anything: the token question
    # stays open.
    still = POLICY.failed(degraded, T0 + timedelta(seconds=16), reason="500")
    assert still.state is ChannelState.DEGRADED
    assert POLICY.token_valid(still, T0 + timedelta(seconds=20)).state is ChannelState.CLOSED


def test_probing_a_degraded_channel_keeps_it_degraded_and_moves_the_next_probe() -> None:
    degraded = POLICY.rejected_token(ChannelHealth(), T0, reason="190")
    at = T0 + timedelta(seconds=15)
    probing = POLICY.probing(degraded, at)
    assert probing.state is ChannelState.DEGRADED
    assert POLICY.gate(probing, at + timedelta(seconds=1)).kind is GateKind.WAIT


def test_token_valid_leaves_a_breaker_state_alone() -> None:
    opened = fail(ChannelHealth(), 3)
    assert POLICY.token_valid(opened, T0) == opened
