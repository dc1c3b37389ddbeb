from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wagate.domain.sign_in_throttle import FailureWindow

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
SPAN = timedelta(minutes=15)


def test_a_key_is_blocked_after_the_limit_until_the_span_after_its_last_failure() -> None:
    window = FailureWindow(limit=3, span=SPAN)
    for minute in range(3):
        assert window.blocked_until("budi", NOW + timedelta(minutes=minute)) is None
        window.failed("budi", NOW + timedelta(minutes=minute))
    last = NOW + timedelta(minutes=2)
    assert window.blocked_until("budi", last) == last + SPAN
    assert window.blocked_until("sari", last) is None
    assert window.blocked_until("budi", last + SPAN) is None


def test_failures_older_than_the_span_do_not_count_and_forget_clears() -> None:
    window = FailureWindow(limit=2, span=SPAN)
    window.failed("budi", NOW)
    window.failed("budi", NOW + SPAN + timedelta(seconds=1))
    assert window.blocked_until("budi", NOW + SPAN + timedelta(seconds=2)) is None
    window.failed("budi", NOW + SPAN + timedelta(seconds=2))
    assert window.blocked_until("budi", NOW + SPAN + timedelta(seconds=3)) is not None
    window.forget("budi")
    assert window.blocked_until("budi", NOW + SPAN + timedelta(seconds=3)) is None


def test_the_number_of_keys_is_bounded() -> None:
    window = FailureWindow(limit=1, span=SPAN, max_keys=100)
    for i in range(1_000):
        window.failed(f"name-{i}", NOW)
    assert window.blocked_until("name-999", NOW) is not None
    assert window.blocked_until("name-0", NOW) is None
