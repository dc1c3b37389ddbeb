"""Pair pacing (OU6): a token bucket over the pair's recent sends, and the 131056 slow-down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wagate.domain.pacing import PairPacing

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PACING = PairPacing(burst=3, interval=timedelta(seconds=6))


def test_a_burst_goes_at_once_then_one_per_interval() -> None:
    sends: list[datetime] = []
    now = T0
    for _ in range(3):
        assert PACING.next_send_at(sends, now) == now
        sends.append(now)
    assert PACING.next_send_at(sends, now) == now + timedelta(seconds=6)


def test_the_bucket_refills_with_time() -> None:
    sends = [T0, T0, T0]
    assert PACING.next_send_at(sends, T0 + timedelta(seconds=6)) == T0 + timedelta(seconds=6)
    assert PACING.next_send_at(sends, T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=6)


def test_no_recent_sends_means_now_and_zero_interval_disables_pacing() -> None:
    assert PACING.next_send_at([], T0) == T0
    off = PairPacing(burst=1, interval=timedelta(0))
    assert off.next_send_at([T0] * 50, T0) == T0


@given(st.lists(st.integers(min_value=0, max_value=120), max_size=40))
def test_following_the_pacing_never_exceeds_the_rate(offsets: list[int]) -> None:
    """Whatever moments messages become ready, sending each at `next_send_at` keeps every
    window of k intervals at no more than burst + k messages."""
    sends: list[datetime] = []
    for offset in sorted(offsets):
        ready = T0 + timedelta(seconds=offset)
        at = PACING.next_send_at(sends, max(ready, sends[-1] if sends else ready))
        sends.append(at)
    for i, start in enumerate(sends):
        for k in range(1, 6):
            end = start + PACING.interval * k
            in_window = sum(1 for s in sends[i:] if s < end)
            assert in_window <= PACING.burst + k


def test_slowdown_grows_as_four_to_the_n_with_floor_and_cap() -> None:
    pacing = PairPacing(burst=8, interval=timedelta(seconds=6), max_slowdown=timedelta(minutes=10))
    assert pacing.slowdown(1) == timedelta(seconds=6)  # 4 s, floored at the interval
    assert pacing.slowdown(2) == timedelta(seconds=16)
    assert pacing.slowdown(3) == timedelta(seconds=64)
    assert pacing.slowdown(9) == timedelta(minutes=10)
    assert pacing.slowdown(1, retry_after=30) == timedelta(seconds=30)
