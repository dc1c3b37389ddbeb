"""The lawyer's review of AI answers (AI7): when an answer waits as a draft, when a draft is
escalated, and what the person reads meanwhile. Pure: the clock and the stores are the
caller's."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from wagate.domain.window import WINDOW
from wagate.domain.zones import ReviewMode, Zone

# What the person reads while a lawyer reviews the answer (REVIEW_ACK_TEXT).
DEFAULT_ACK_TEXT = (
    "Pertanyaan Anda sedang ditinjau oleh pengacara kami. Kami akan membalas secepatnya."
)
# What the person reads when the lawyer rejects the draft (REVIEW_REJECT_TEXT).
DEFAULT_REJECT_TEXT = (
    "Mohon maaf, pertanyaan Anda memerlukan konsultasi langsung dengan pengacara kami. "
    "Silakan hubungi kantor kami untuk menjadwalkan konsultasi."
)
# Danger now (a red message): no AI, the emergency numbers at once (URGENT_HOLDING_TEXT).
DEFAULT_URGENT_TEXT = (
    "Kami menerima pesan Anda dan staf kami segera menghubungi Anda. Jika Anda dalam bahaya "
    "sekarang, segera hubungi: 112 (darurat), 110 (polisi), 129 (SAPA KemenPPPA, untuk "
    "perempuan dan anak), atau 119 ext 8 (kesehatan jiwa)."
)

# Escalate a pending draft once this share of its time to the deadline is left (or none).
DUE_SHARE = 0.2
# Escalate a pending draft whose 24-hour window closes within this.
WINDOW_WARNING = timedelta(minutes=60)

REVIEW_DUE = "review_due"
WINDOW_CLOSING = "window_closing"


class DraftStatus(StrEnum):
    PENDING = "pending"  # waits for a lawyer; never expires on its own
    APPROVED = "approved"  # its text is queued for delivery
    REJECTED = "rejected"  # the person got the rejection text
    TAKEN_OVER = "taken_over"  # a human answers instead
    SENT = "sent"  # approved, and the provider accepted every part


DECIDED = frozenset({DraftStatus.APPROVED, DraftStatus.REJECTED, DraftStatus.TAKEN_OVER})


def effective_mode(
    configured: ReviewMode | None, *, knowledge_loaded: bool, lawyer_exists: bool
) -> ReviewMode:
    """REVIEW_MODE unset: a firm that loaded its knowledge base or has a lawyer user reviews
    the yellow zone; one that has neither keeps today's behaviour (nobody would review)."""
    if configured is not None:
        return configured
    return ReviewMode.YELLOW if knowledge_loaded or lawyer_exists else ReviewMode.OFF


def must_hold(zone: Zone, mode: ReviewMode) -> bool:
    """Whether an AI answer in `zone` waits for a lawyer. Red never reaches the AI at all."""
    if mode is ReviewMode.ALL:
        return True
    return mode is ReviewMode.YELLOW and zone is Zone.YELLOW


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    return None if last_inbound_at is None else last_inbound_at + WINDOW


def escalations_due(
    *,
    created_at: datetime,
    deadline: datetime,
    window_closes: datetime | None,
    now: datetime,
) -> list[str]:
    """The kinds of escalation a pending draft needs now: `review_due` within the last
    fifth of its time (or past the deadline), `window_closing` within an hour of losing the
    24-hour window (or after it closed: the answer will need the template)."""
    due: list[str] = []
    if now >= deadline - (deadline - created_at) * DUE_SHARE:
        due.append(REVIEW_DUE)
    if window_closes is not None and now >= window_closes - WINDOW_WARNING:
        due.append(WINDOW_CLOSING)
    return due


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What the lawyer changed, for the audit trail: never the text itself."""

    edited: bool
    length_before: int
    length_after: int
    digest: str  # of the final text: proves later which text went out, reveals nothing

    def as_details(self) -> dict[str, object]:
        return {
            "edited": self.edited,
            "length_before": self.length_before,
            "length_after": self.length_after,
            "final_sha256": self.digest,
        }


def change_of(draft: str, final: str) -> Change:
    return Change(
        edited=draft.strip() != final.strip(),
        length_before=len(draft),
        length_after=len(final),
        digest=hashlib.sha256(final.encode()).hexdigest()[:16],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A knowledge-base passage the draft drew on (what the lawyer checks it against)."""

    document_id: int
    title: str
    section: str

    def as_json(self) -> dict[str, object]:
        return {"document": self.document_id, "title": self.title, "section": self.section}


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDraft:
    """A held answer as the run stores it. `question` and `text` keep the conversation's
    placeholders ([NAMA_1]): the lawyer reads what the AI read; approval restores them."""

    conversation_id: int
    run_key: str
    zone: Zone
    rules: tuple[str, ...]
    question: str
    text: str
    sources: tuple[Source, ...]
    created_at: datetime
    deadline: datetime
    session_id: int | None = None  # the approved answer joins this session's history
    session_opened_at: datetime | None = None  # that session is new: stored with the draft
