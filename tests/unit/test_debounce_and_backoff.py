"""SE2 debounce (answer a burst after a quiet spell, but never later than max after its first
message) and the send backoff (exponential, capped, half-jittered, Retry-After as a floor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wagate.domain.conversation import DebouncePolicy
from wagate.domain.retry import BackoffPolicy

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
QUIET = timedelta(seconds=15)
MAX = timedelta(seconds=60)
POLICY = DebouncePolicy(quiet=QUIET, max_wait=MAX)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# ---------------------------------------------------------------- debounce


def test_single_message_is_ready_quiet_after_it() -> None:
    assert POLICY.ready_at(first_arrival=T0, last_arrival=T0) == T0 + QUIET


def test_each_new_message_pushes_readiness_to_quiet_after_it() -> None:
    assert POLICY.ready_at(first_arrival=T0, last_arrival=T0 + s(10)) == T0 + s(25)
    assert POLICY.ready_at(first_arrival=T0, last_arrival=T0 + s(30)) == T0 + s(45)


def test_chatty_burst_is_capped_at_max_after_the_first_message() -> None:
    assert POLICY.ready_at(first_arrival=T0, last_arrival=T0 + s(50)) == T0 + MAX
    assert POLICY.ready_at(first_arrival=T0, last_arrival=T0 + s(500)) == T0 + MAX


def test_wait_until_returns_the_ready_moment_while_still_quiet() -> None:
    now = T0 + s(5)
    assert POLICY.wait_until(now=now, first_arrival=T0, last_arrival=T0) == T0 + QUIET


def test_ready_exactly_at_the_boundary() -> None:
    assert POLICY.wait_until(now=T0 + QUIET, first_arrival=T0, last_arrival=T0) is None


def test_one_microsecond_before_the_boundary_is_not_ready() -> None:
    now = T0 + QUIET - timedelta(microseconds=1)
    assert POLICY.wait_until(now=now, first_arrival=T0, last_arrival=T0) == T0 + QUIET


def test_ready_at_the_max_boundary_even_if_the_user_just_wrote() -> None:
    last = T0 + MAX - s(1)
    assert POLICY.wait_until(now=T0 + MAX, first_arrival=T0, last_arrival=last) is None


def test_long_after_the_burst_is_ready() -> None:
    assert POLICY.wait_until(now=T0 + s(3600), first_arrival=T0, last_arrival=T0) is None


def test_zero_quiet_is_ready_immediately() -> None:
    policy = DebouncePolicy(quiet=timedelta(0), max_wait=timedelta(0))
    assert policy.wait_until(now=T0, first_arrival=T0, last_arrival=T0) is None


# ---------------------------------------------------------------- backoff

BACKOFF = BackoffPolicy(max_attempts=5, base=s(2), cap=s(600))


def test_delay_doubles_with_each_attempt_until_the_cap() -> None:
    lows = [BACKOFF.delay(n, jitter=0.0) for n in range(6)]
    assert lows == [s(1), s(2), s(4), s(8), s(16), s(32)]  # half of base * 2**n


def test_delay_is_capped() -> None:
    for attempt in (9, 10, 20, 40):
        assert BACKOFF.delay(attempt, jitter=0.999999) <= s(600)
        assert BACKOFF.delay(attempt, jitter=0.0) == s(300)


@pytest.mark.parametrize("attempt", [0, 1, 3, 8, 12])
@pytest.mark.parametrize("jitter", [0.0, 0.25, 0.5, 0.75, 0.999999])
def test_jittered_delay_lies_between_half_and_all_of_the_ceiling(
    attempt: int, jitter: float
) -> None:
    ceiling = min(s(600), s(2) * 2**attempt)
    delay = BACKOFF.delay(attempt, jitter=jitter)
    assert ceiling * 0.5 <= delay <= ceiling


def test_jitter_spreads_delays_monotonically() -> None:
    delays = [BACKOFF.delay(3, jitter=j / 10) for j in range(10)]
    assert delays == sorted(delays) and len(set(delays)) == 10


def test_retry_after_is_a_floor_above_the_computed_delay() -> None:
    assert BACKOFF.delay(0, jitter=0.0, retry_after=30) == s(30)
    assert BACKOFF.delay(0, jitter=0.0, retry_after=30.5) == s(30.5)


def test_retry_after_below_the_computed_delay_does_not_shorten_it() -> None:
    assert BACKOFF.delay(4, jitter=0.0, retry_after=1) == s(16)
    assert BACKOFF.delay(4, jitter=0.0, retry_after=0) == s(16)


def test_retry_after_may_exceed_the_cap() -> None:
    assert BACKOFF.delay(0, jitter=0.0, retry_after=3600) == s(3600)


@pytest.mark.parametrize("attempt", [46, 64, 1000])
def test_delay_stays_capped_for_very_late_attempts(attempt: int) -> None:
    assert BackoffPolicy(max_attempts=2000).delay(attempt, jitter=0.5) <= s(600)


@pytest.mark.parametrize(("attempt", "gives_up"), [(0, False), (3, False), (4, True), (9, True)])
def test_gives_up_after_the_last_allowed_attempt(attempt: int, gives_up: bool) -> None:
    # max_attempts=5 means tries 0..4; after try 4 there is no fifth retry
    assert BACKOFF.gives_up_after(attempt) is gives_up


def test_single_attempt_policy_gives_up_after_the_first_try() -> None:
    assert BackoffPolicy(max_attempts=1).gives_up_after(0)
