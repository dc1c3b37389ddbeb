"""The outbound lifecycle's transition table, cell by cell: every (cause, from, to) is either
listed below as allowed or refused. The list is written out by hand, independently of
wagate.domain.outbound, so a change to the table has to be made twice, on purpose."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from wagate.domain import errors as e
from wagate.domain.outbound import Cause, OutboundStatus, allowed, settled, sources
from wagate.domain.provider_port import SentMessage
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.deliver import Deliver
from wagate.storage.statuses import guard, literal_set
from wagate.testing import Clock, Directory, MemoryOutbox, ScriptedProvider

S = OutboundStatus
C = Cause
LADDER = [S.ACCEPTED, S.SENT, S.DELIVERED, S.READ, S.PLAYED]
REPORTED = [S.ACCEPTED, S.SENT, S.DELIVERED, S.READ, S.PLAYED, S.FAILED]

ALLOWED: set[tuple[Cause, OutboundStatus, OutboundStatus]] = {
    (C.ATTEMPT, S.PENDING, S.SENDING),
    (C.ATTEMPT, S.SENDING, S.SENDING),  # resent once `reconcile` passed without a status
    (C.SEND_ACCEPTED, S.PENDING, S.ACCEPTED),
    (C.SEND_ACCEPTED, S.SENDING, S.ACCEPTED),
    (C.RETRY, S.SENDING, S.PENDING),
    (C.RELEASE, S.SENDING, S.PENDING),
    (C.OUTCOME_UNKNOWN, S.SENDING, S.SENDING),
    (C.FAIL, S.PENDING, S.FAILED),  # e.g. window closed, predicted before sending
    (C.FAIL, S.SENDING, S.FAILED),
    (C.REPLAY, S.FAILED, S.PENDING),
    (C.REROUTE, S.FAILED, S.PENDING),  # 131047: again, as the out-of-window template
    # A status naming our key settles a send whose answer was lost (OU9), whatever it says.
    *((C.STATUS_BY_KEY, old, new) for old in (S.PENDING, S.SENDING) for new in REPORTED),
    # A status naming the provider's id: up the ladder, or failed, never after failed.
    *((C.STATUS, low, high) for low, high in itertools.combinations(LADDER, 2)),
    *((C.STATUS, old, S.FAILED) for old in LADDER),
}

EVERY_CELL = list(itertools.product(Cause, OutboundStatus, OutboundStatus))


@pytest.mark.parametrize(
    ("cause", "current", "new"), EVERY_CELL, ids=[f"{c}:{a}->{b}" for c, a, b in EVERY_CELL]
)
def test_every_transition_is_allowed_or_refused_as_listed(
    cause: Cause, current: OutboundStatus, new: OutboundStatus
) -> None:
    assert allowed(current, new, cause) is ((cause, current, new) in ALLOWED)


def fold(start: OutboundStatus, *steps: tuple[Cause, OutboundStatus]) -> OutboundStatus:
    """Apply each step where the table allows it, as storage's guarded updates do."""
    status = start
    for cause, new in steps:
        if allowed(status, new, cause):
            status = new
    return status


def test_statuses_never_move_backwards_and_duplicates_change_nothing() -> None:
    arrivals = [S.DELIVERED, S.SENT, S.READ, S.DELIVERED, S.READ, S.ACCEPTED]
    assert fold(S.ACCEPTED, *((C.STATUS, s) for s in arrivals)) is S.READ


def test_failed_reported_after_sent_settles_and_nothing_follows_it() -> None:
    assert fold(S.SENT, (C.STATUS, S.FAILED), (C.STATUS, S.DELIVERED)) is S.FAILED


def test_a_late_send_answer_never_undoes_a_status_that_settled_the_row() -> None:
    # test_a_send_accepted_but_answered_after_the_client_timeout_is_not_sent_again: the status
    # (naming our key) beats the answer; and the timeout's retry must not reopen the row.
    assert fold(S.SENDING, (C.STATUS_BY_KEY, S.DELIVERED), (C.SEND_ACCEPTED, S.ACCEPTED)) is (
        S.DELIVERED
    )
    assert fold(S.SENDING, (C.STATUS_BY_KEY, S.SENT), (C.RETRY, S.PENDING)) is S.SENT
    assert fold(S.SENDING, (C.STATUS_BY_KEY, S.SENT), (C.FAIL, S.FAILED)) is S.SENT


def test_a_502_after_meta_took_it_then_its_status_keeps_it_from_going_again() -> None:
    # test_a_send_meta_took_but_answered_with_a_502_is_not_sent_again: retry first, status after.
    status = fold(S.SENDING, (C.RETRY, S.PENDING), (C.STATUS_BY_KEY, S.SENT))
    assert status is S.SENT and settled(status)
    assert not allowed(status, S.SENDING, C.ATTEMPT)


def test_a_131047_before_the_answer_stays_failed_and_is_rerouted() -> None:
    # test_a_131047_reported_before_the_send_is_answered_still_goes_as_the_template
    status = fold(S.SENDING, (C.STATUS_BY_KEY, S.FAILED), (C.SEND_ACCEPTED, S.ACCEPTED))
    assert status is S.FAILED
    assert fold(status, (C.REROUTE, S.PENDING)) is S.PENDING


def test_an_unknown_outcome_resent_or_settled_by_its_status() -> None:
    assert fold(S.SENDING, (C.OUTCOME_UNKNOWN, S.SENDING), (C.ATTEMPT, S.SENDING)) is S.SENDING
    assert fold(S.SENDING, (C.STATUS_BY_KEY, S.SENT), (C.ATTEMPT, S.SENDING)) is S.SENT


def test_only_dead_letters_are_replayed() -> None:
    assert fold(S.DELIVERED, (C.REPLAY, S.PENDING)) is S.DELIVERED
    assert fold(S.FAILED, (C.REPLAY, S.PENDING)) is S.PENDING


def test_storage_guards_are_the_tables_sources() -> None:
    assert sources(C.ATTEMPT) == {S.PENDING, S.SENDING}
    assert sources(C.STATUS, S.SENT) == {S.ACCEPTED}
    assert sources(C.STATUS, S.ACCEPTED) == set()
    assert sources(C.STATUS, S.FAILED) == set(LADDER)
    assert guard(C.SEND_ACCEPTED, S.ACCEPTED) == "('pending', 'sending')"
    assert guard(C.RETRY, S.PENDING) == "('sending')"
    assert guard(C.REPLAY) == "('failed')"
    assert literal_set([S.FAILED, S.PENDING]) == "('pending', 'failed')"


def test_settled_means_the_provider_has_it_or_it_failed() -> None:
    assert [s for s in OutboundStatus if not settled(s)] == [S.PENDING, S.SENDING]


# ------------------------------------------------------------------ the races, through delivery


def _deliver(outbox: MemoryOutbox, provider: ScriptedProvider, clock: Clock) -> Deliver:
    return Deliver(
        outbox=outbox,
        providers=Directory(provider),
        backoff=BackoffPolicy(max_attempts=3, base=timedelta(seconds=1)),
        clock=clock,
        jitter=lambda: 0.0,
        pacing=None,
    )


async def test_a_status_naming_our_key_before_the_answer_is_not_undone_by_it() -> None:
    clock = Clock()
    outbox = MemoryOutbox(clock=clock)
    outbox.add(1)

    class StatusFirst(ScriptedProvider):
        async def send_text(self, **fields: Any) -> SentMessage:
            assert outbox.status_webhook(1, S.DELIVERED, by_key=True)
            return await super().send_text(**fields)

    assert await _deliver(outbox, StatusFirst(), clock)(1) == 1
    assert outbox.statuses() == [S.DELIVERED]
    # Later statuses by the provider's id: up only.
    assert outbox.status_webhook(1, S.READ, by_key=False)
    assert not outbox.status_webhook(1, S.SENT, by_key=False)
    assert outbox.statuses() == [S.READ]


async def test_a_retry_answer_after_the_status_settled_the_row_is_ignored() -> None:
    clock = Clock()
    outbox = MemoryOutbox(clock=clock)
    outbox.add(1)

    class TookItThen502(ScriptedProvider):
        async def send_text(self, **fields: Any) -> SentMessage:
            outbox.status_webhook(1, S.SENT, by_key=True)
            raise e.ProviderUnavailable("502")

    await _deliver(outbox, TookItThen502(), clock)(1)
    assert outbox.statuses() == [S.SENT]
    assert await outbox.pending(1) == []  # never sent again
