"""What the pipeline counts and times for `/metrics` (issue 17): a port, filled by
`wagate.observability.metrics` for each tenant.

Every call is an in-memory increment in the process doing the work, never I/O: the webhook
path and the delivery loop stay as cheap as they were. The adapter writes the sums to the
database every few seconds, so `/metrics` shows what every process did (see
docs/architecture.md, "Metrics").
"""

from __future__ import annotations

from typing import Literal, Protocol

Direction = Literal["in", "out"]

# `whatsapp_message_total`'s statuses: an inbound message stored; an outbound one accepted by
# the provider, or given up on (a dead letter).
RECEIVED = "received"
SENT = "sent"
FAILED = "failed"

# An error class that is not a provider's refusal: the webhook's delivery could not be stored
# (the provider was answered 503 and delivers again).
WEBHOOK_STORE = "webhook_store"


class Metrics(Protocol):
    """One tenant's figures. Label values are short words from the code (providers, statuses,
    error classes), never text from a message or a number."""

    def message(self, *, direction: Direction, provider: str, status: str, count: int = 1) -> None:
        """Messages received or sent (`whatsapp_message_total`)."""

    def responded(self, *, provider: str, seconds: float) -> None:
        """A run's first reply was accepted by the provider `seconds` after the message it
        answers was received (`whatsapp_response_time_seconds`; a breach of the SLA when
        slower than it)."""

    def error(self, *, provider: str, error_class: str) -> None:
        """A provider call failed, by class (`whatsapp_error_total`)."""

    def ai_call(self, *, seconds: float, outcome: str) -> None:
        """One call to the AI, answered or not (`whatsapp_ai_latency_seconds`)."""

    def burst(self, *, messages: int) -> None:
        """The debounce merged `messages` into one run (`whatsapp_debounce_batch_size`)."""

    def duplicates(self, *, provider: str, kind: str, count: int) -> None:
        """Parts of a webhook delivery already stored before (`kind`: message or status)."""

    def webhook_rejected(self, *, provider: str, reason: str) -> None:
        """A webhook request refused (unsigned, forged, source not allowed, malformed …)."""

    def case_intake(self) -> None:
        """A new case was registered (`whatsapp_intake_total`); the intake flow calls it."""


class Unmeasured:
    """Counts nothing: the default where no metrics are wired (unit tests of other concerns,
    one-off CLI processes built without them)."""

    def message(self, *, direction: Direction, provider: str, status: str, count: int = 1) -> None:
        return None

    def responded(self, *, provider: str, seconds: float) -> None:
        return None

    def error(self, *, provider: str, error_class: str) -> None:
        return None

    def ai_call(self, *, seconds: float, outcome: str) -> None:
        return None

    def burst(self, *, messages: int) -> None:
        return None

    def duplicates(self, *, provider: str, kind: str, count: int) -> None:
        return None

    def webhook_rejected(self, *, provider: str, reason: str) -> None:
        return None

    def case_intake(self) -> None:
        return None


UNMEASURED: Metrics = Unmeasured()
