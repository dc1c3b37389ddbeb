"""Pure rules of issue 3: who may talk, link codes, what of a burst reaches the AI, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wagate.domain.conversation import session_expired
from wagate.domain.identity import (
    AccountView,
    IdentityPolicy,
    LinkCheck,
    check_link_code,
    hash_link_code,
    link_notice_due,
    may_converse,
    new_link_code,
    open_username,
)
from wagate.domain.policy import BurstMessage, sanitise, triage

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
APPROVED = AccountView(id=1, username="a", approved=True)
PENDING = AccountView(id=2, username="b", approved=False)


def test_verified_policy_answers_only_linked_approved_accounts() -> None:
    assert may_converse(IdentityPolicy.VERIFIED, APPROVED)
    assert not may_converse(IdentityPolicy.VERIFIED, PENDING)
    assert not may_converse(IdentityPolicy.VERIFIED, None)


def test_open_policy_answers_newcomers_but_not_suspended_accounts() -> None:
    assert may_converse(IdentityPolicy.OPEN, None)
    assert may_converse(IdentityPolicy.OPEN, APPROVED)
    assert not may_converse(IdentityPolicy.OPEN, PENDING)


def test_the_link_notice_goes_out_at_most_once_a_day() -> None:
    assert link_notice_due(None, T0)
    assert not link_notice_due(T0, T0 + timedelta(hours=23, minutes=59))
    assert link_notice_due(T0, T0 + timedelta(days=1))


def test_open_accounts_are_named_after_the_number() -> None:
    assert open_username("6281234567890") == "whatsapp_6281234567890"


def test_link_codes_have_six_digits_and_are_checked_with_expiry_and_attempts() -> None:
    assert new_link_code(42) == "000042"
    assert len(new_link_code(987654321)) == 6
    stored = hash_link_code("123456", account_id=7, pepper="p")
    assert hash_link_code("123456", account_id=8, pepper="p") != stored  # bound to the account

    def check(offered: str, *, attempts: int = 0, now: datetime = T0) -> LinkCheck:
        return check_link_code(
            stored_hash=stored,
            attempts=attempts,
            expires_at=T0 + timedelta(minutes=10),
            offered_hash=hash_link_code(offered, account_id=7, pepper="p"),
            now=now,
        )

    assert check("123456") is LinkCheck.OK
    assert check(" 123456 ") is LinkCheck.OK
    assert check("654321") is LinkCheck.WRONG
    assert check("123456", attempts=5) is LinkCheck.TOO_MANY_ATTEMPTS
    assert check("123456", now=T0 + timedelta(minutes=10)) is LinkCheck.EXPIRED
    assert (
        check_link_code(stored_hash=None, attempts=0, expires_at=None, offered_hash="x", now=T0)
        is LinkCheck.NO_CODE
    )


def _message(i: int, text: str | None, kind: str = "text", seconds: float = 0) -> BurstMessage:
    return BurstMessage(id=i, kind=kind, text=text, received_at=T0 + timedelta(seconds=seconds))


def test_a_burst_becomes_one_user_turn_in_order() -> None:
    result = triage(
        [_message(1, "satu"), _message(2, "dua", seconds=1)],
        max_chars=1000,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert result.user_turn == "satu\ndua"
    assert result.notices == ()


def test_empty_over_long_and_silent_messages_do_not_reach_the_ai() -> None:
    result = triage(
        [
            _message(1, "   "),
            _message(2, "x" * 11),
            _message(3, "👍", kind="reaction"),
            _message(4, "ok"),
        ],
        max_chars=10,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert result.for_ai == ("ok",)
    assert result.ignored == (1, 3)
    assert result.too_long == (2,)
    assert result.notices == ("too_long",)


def test_non_text_gets_a_notice_only_when_there_is_no_question() -> None:
    alone = triage(
        [_message(1, None, kind="media")], max_chars=10, rate_limit=10, earlier_arrivals=[]
    )
    assert alone.non_text == (1,) and alone.notices == ("non_text",)
    with_caption = triage(
        [_message(1, "lihat ini", kind="media")], max_chars=100, rate_limit=10, earlier_arrivals=[]
    )
    assert with_caption.for_ai == ("lihat ini",)
    mixed = triage(
        [_message(1, None, kind="location"), _message(2, "di mana?")],
        max_chars=100,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert mixed.notices == ()


def test_the_rate_limit_counts_earlier_messages_and_the_burst_itself() -> None:
    earlier = [T0 - timedelta(seconds=50), T0 - timedelta(seconds=30)]
    burst = [_message(i, f"m{i}", seconds=i) for i in range(1, 5)]
    result = triage(burst, max_chars=100, rate_limit=3, earlier_arrivals=earlier)
    assert result.for_ai == ("m1",)
    assert result.rate_limited == (2, 3, 4)
    older = [T0 - timedelta(seconds=61)]  # outside the minute: does not count
    assert triage(burst[:1], max_chars=100, rate_limit=1, earlier_arrivals=older).for_ai == ("m1",)


def test_text_is_sanitised() -> None:
    assert sanitise("  Halo\u200b  dunia\r\n\n\n\nApa\x00 kabar?\u202e ") == (
        "Halo dunia\n\nApa kabar?"
    )


def test_sessions_expire_after_the_idle_timeout() -> None:
    timeout = timedelta(minutes=30)
    assert session_expired(None, now=T0, idle_timeout=timeout)
    assert not session_expired(T0, now=T0 + timedelta(minutes=29), idle_timeout=timeout)
    assert session_expired(T0, now=T0 + timedelta(minutes=30), idle_timeout=timeout)
