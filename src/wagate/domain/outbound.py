"""The outbound lifecycle (OU1–OU9, IN7): the states an outbound row passes through, what may
move it, and which moves are allowed.

    pending ──attempt──► sending ──send answer──► accepted ──status──► sent ► delivered ► read ►
       ▲                    │  ╲                                                    played
       │  retry / release   │   ╲ status naming our key (the answer was lost: OU9)
       └────────────────────┘    ╲──────────────────────────────► sent / delivered / read / failed
    pending, sending ──fail──► failed ──replay / reroute (window closed)──► pending

Statuses arrive out of order and duplicated, and may beat the send's own answer: a row only
moves up the delivery ladder, `failed` settles it, and a late send answer never undoes a status
a webhook already settled. Storage derives the `WHERE status IN (…)` guards of its updates from
`sources`, so the SQL and this table cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from wagate.domain.messages import DeliveryStatus, advances


class OutboundStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # an attempt started; its outcome is unknown until answered or settled
    ACCEPTED = "accepted"  # the provider answered our send with its message id
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"  # a dead letter (by the worker or a status webhook)


class Cause(StrEnum):
    """What moves an outbound row."""

    ATTEMPT = "attempt"  # an attempt is recorded before the provider is called
    SEND_ACCEPTED = "send_accepted"  # the provider's answer to our send: it took the message
    RETRY = "retry"  # a transient failure: again later, the attempt spent
    RELEASE = "release"  # not the message's fault (token, pair limit): the attempt given back
    OUTCOME_UNKNOWN = "outcome_unknown"  # stays in flight until a status or `reconcile` passes
    # the worker gives up: a dead letter (window closed, permanent, attempts spent, the
    # contact opted out: never sent, never e-mailed)
    FAIL = "fail"
    STATUS = "status"  # a status webhook naming the provider's message id
    STATUS_BY_KEY = "status_by_key"  # a status webhook naming our idempotency key (tracker)
    REPLAY = "replay"  # an operator replays a dead letter
    REROUTE = "reroute"  # refused outside the 24-hour window: again, as the template


S = OutboundStatus
IN_FLIGHT = frozenset({S.PENDING, S.SENDING})  # not yet taken by the provider, as far as we know
DELIVERY = tuple(S(d.value) for d in DeliveryStatus)  # what status webhooks report


class EmailStatus(StrEnum):
    """The e-mail fallback of a row that failed for good (OU4), beside its status."""

    PENDING = "pending"  # due (again at `email_next_at`, after a "try later")
    SENT = "sent"
    FAILED = "failed"  # refused, or given up after its tries
    NO_ADDRESS = "no_address"  # the contact's account has no address
    SKIPPED = "skipped"  # not to be e-mailed (no fallback configured, or outcome unknown)
    UNREADABLE = "unreadable"  # its content can no longer be opened


def _ladder() -> frozenset[tuple[OutboundStatus, OutboundStatus]]:
    """Status webhooks by the provider's id: up the ladder only, nothing after `failed`."""
    return frozenset(
        (S(old.value), S(new.value))
        for old in DeliveryStatus
        for new in DeliveryStatus
        if advances(old, new)
    )


# cause → the (from, to) pairs it may perform. Everything not listed is refused.
TRANSITIONS: Mapping[Cause, frozenset[tuple[OutboundStatus, OutboundStatus]]] = {
    # From `sending` too: a send whose outcome stayed unknown past `reconcile` goes again.
    Cause.ATTEMPT: frozenset({(S.PENDING, S.SENDING), (S.SENDING, S.SENDING)}),
    Cause.SEND_ACCEPTED: frozenset({(S.PENDING, S.ACCEPTED), (S.SENDING, S.ACCEPTED)}),
    Cause.RETRY: frozenset({(S.SENDING, S.PENDING)}),
    Cause.RELEASE: frozenset({(S.SENDING, S.PENDING)}),
    Cause.OUTCOME_UNKNOWN: frozenset({(S.SENDING, S.SENDING)}),
    Cause.FAIL: frozenset({(S.PENDING, S.FAILED), (S.SENDING, S.FAILED)}),
    Cause.STATUS: _ladder(),
    Cause.STATUS_BY_KEY: frozenset((old, new) for old in IN_FLIGHT for new in DELIVERY),
    Cause.REPLAY: frozenset({(S.FAILED, S.PENDING)}),
    Cause.REROUTE: frozenset({(S.FAILED, S.PENDING)}),
}


def allowed(current: OutboundStatus, new: OutboundStatus, cause: Cause) -> bool:
    """True when `cause` may move a row from `current` to `new`."""
    return (current, new) in TRANSITIONS[cause]


def sources(cause: Cause, new: OutboundStatus | None = None) -> frozenset[OutboundStatus]:
    """The states `cause` may move a row out of (into `new`, when given): the guard of the
    storage update performing it."""
    return frozenset(old for old, to in TRANSITIONS[cause] if new is None or to is new)


def settled(status: OutboundStatus) -> bool:
    """The provider has it, or it failed for good: no send may go for this row any more."""
    return status not in IN_FLIGHT
