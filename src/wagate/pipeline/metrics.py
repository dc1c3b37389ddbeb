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

# `whatsapp_media_total`'s statuses (issue 16): a file's row written by the webhook, then how
# its fetch ended (domain.media.MediaStatus's settled values).
MEDIA_RECEIVED = "received"
# `whatsapp_media_retry_total`'s causes: which side failed a fetch that will be tried again.
RETRY_PROVIDER = "provider"
RETRY_OBJECT_STORE = "object_store"
RETRY_UNEXPECTED = "unexpected"  # the job itself raised something unforeseen


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

    def media(
        self, *, provider: str, kind: str, status: str, problem: str = "", count: int = 1
    ) -> None:
        """Files by kind (image, document, audio, video, sticker): received (a row written by
        the webhook), then stored, refused or failed, the last two with their problem
        (`whatsapp_media_total`)."""

    def media_stored(self, *, provider: str, kind: str, size: int, seconds: float) -> None:
        """A file stored: its plaintext bytes (`whatsapp_media_stored_bytes_total`) and the
        time from its webhook to its object being stored (`whatsapp_media_store_seconds`)."""

    def media_retry(self, *, provider: str, cause: str) -> None:
        """A fetch failed and will be tried again: the provider's side (`provider`), the
        object store (`object_store`) or an unforeseen error (`unexpected`)
        (`whatsapp_media_retry_total`)."""


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

    def media(
        self, *, provider: str, kind: str, status: str, problem: str = "", count: int = 1
    ) -> None:
        return None

    def media_stored(self, *, provider: str, kind: str, size: int, seconds: float) -> None:
        return None

    def media_retry(self, *, provider: str, cause: str) -> None:
        return None


UNMEASURED: Metrics = Unmeasured()
