"""Outbound status values as SQL text, built from the domain's enum and transition table
(wagate.domain.outbound) so that no status is spelled out by hand in a statement."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from wagate.domain.outbound import Cause, EmailStatus, OutboundStatus, sources


def literal(status: StrEnum) -> str:
    """`'pending'`: safe to splice, the values are the enum's own constants."""
    return f"'{status.value}'"


def literal_set(statuses: Iterable[OutboundStatus]) -> str:
    """`('pending', 'sending')`, in the enum's order so statements read the same every time."""
    chosen = set(statuses)
    return "(" + ", ".join(literal(s) for s in OutboundStatus if s in chosen) + ")"


def guard(cause: Cause, new: OutboundStatus | None = None) -> str:
    """The `IN (…)` set of states `cause` may move a row out of."""
    return literal_set(sources(cause, new))


PENDING = literal(OutboundStatus.PENDING)
SENDING = literal(OutboundStatus.SENDING)
ACCEPTED = literal(OutboundStatus.ACCEPTED)
FAILED = literal(OutboundStatus.FAILED)
IN_FLIGHT = literal_set({OutboundStatus.PENDING, OutboundStatus.SENDING})
EMAIL_DUE = literal(EmailStatus.PENDING)
EMAIL_SKIPPED = literal(EmailStatus.SKIPPED)
EMAIL_SENT = literal(EmailStatus.SENT)
