"""What delivery decided for one outbound message. The delivery loop goes on after `Sent` and
`Failed`, and stops at the first `Deferred`: later parts of a conversation never overtake an
earlier one, and the conversation's job is queued again once, for `until`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """The provider accepted it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """Not sent and never will be by this loop: a dead letter (e-mailed when due)."""

    code: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Deferred:
    """It, and everything after it, waits until `until` (a retry, a paused channel, pacing,
    or an unknown outcome waiting for its status)."""

    until: datetime


MessageOutcome = Sent | Failed | Deferred
