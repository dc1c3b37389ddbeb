"""IN7 / meta-cloud-api.md §5: statuses arrive out of order and duplicated; an outbound message
only moves up accepted < sent < delivered < read < played, and `failed` is terminal."""

from __future__ import annotations

import itertools

import pytest

from wagate.domain.messages import DeliveryStatus, advances

S = DeliveryStatus
LADDER = [S.ACCEPTED, S.SENT, S.DELIVERED, S.READ, S.PLAYED]  # the documented order


@pytest.mark.parametrize("new", list(S))
def test_anything_advances_from_nothing(new: DeliveryStatus) -> None:
    assert advances(None, new)


@pytest.mark.parametrize(("lower", "higher"), list(itertools.combinations(LADDER, 2)))
def test_moving_up_the_ladder_advances(lower: DeliveryStatus, higher: DeliveryStatus) -> None:
    assert advances(lower, higher)


@pytest.mark.parametrize(("lower", "higher"), list(itertools.combinations(LADDER, 2)))
def test_never_moves_backwards(lower: DeliveryStatus, higher: DeliveryStatus) -> None:
    assert not advances(higher, lower)


@pytest.mark.parametrize("status", list(S))
def test_duplicate_status_does_not_advance(status: DeliveryStatus) -> None:
    assert not advances(status, status)


@pytest.mark.parametrize("status", LADDER)
def test_failed_can_follow_any_non_terminal_status(status: DeliveryStatus) -> None:
    assert advances(status, S.FAILED)


@pytest.mark.parametrize("new", list(S))
def test_nothing_follows_failed(new: DeliveryStatus) -> None:
    assert not advances(S.FAILED, new)


def test_out_of_order_arrivals_settle_on_the_highest_status() -> None:
    # delivered before sent, read duplicated: the fold must end at read (chatwoot #14529 shape)
    current: DeliveryStatus | None = None
    for arrival in [S.DELIVERED, S.SENT, S.READ, S.DELIVERED, S.READ, S.ACCEPTED]:
        if advances(current, arrival):
            current = arrival
    assert current is S.READ


@pytest.mark.parametrize("order", list(itertools.permutations(LADDER)))
def test_every_arrival_order_of_the_ladder_ends_at_its_top(
    order: tuple[DeliveryStatus, ...],
) -> None:
    current: DeliveryStatus | None = None
    for arrival in order:
        if advances(current, arrival):
            current = arrival
    assert current is S.PLAYED
