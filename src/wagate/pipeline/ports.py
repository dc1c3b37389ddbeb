"""What the pipeline needs from storage and providers, as protocols."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from wagate.domain.audit import AuditEvent
from wagate.domain.breaker import ChannelHealth
from wagate.domain.case_intake import ParsedIntake
from wagate.domain.chat import ChatImage, ChatTurn
from wagate.domain.consent import ConsentState
from wagate.domain.file_types import FileType
from wagate.domain.identity import AccountView
from wagate.domain.knowledge import Passage
from wagate.domain.messages import Provider
from wagate.domain.outbound import EmailStatus, OutboundStatus
from wagate.domain.phone import is_group_chat
from wagate.domain.provider_port import MessagingProvider
from wagate.domain.zones import Zone, ZoneCall


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingMessage:
    id: int
    provider_message_id: str
    kind: str
    sent_at: datetime
    received_at: datetime
    text: str | None = None  # what the user wrote: text, caption or tapped button title
    # A completed WhatsApp Flow (nfm_reply): its response_json as received (None when the
    # reply carried none). Flow completions become case intakes, never questions for the AI.
    flow_completion: bool = False
    flow_response: str | None = None
    # A file's kind (image, document, audio …) and state: `pending`, `stored`, or the problem
    # that kept it (domain.media.MediaProblem); None for messages without a file.
    media_type: str | None = None
    media: str | None = None
    # A stored file's text for the AI: PDF, Word, OCR, a voice note's transcript.
    attachment: str | None = None
    # The id of the reply button or list row tapped, or a template quick reply's payload.
    reply_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunOpening:
    """What a run's steps read from the database before the AI call, read with its burst in
    the same round trip (issue 18: each statement costs the gateway CPU, even pipelined).

    The rows are the storage adapters' own, by name ("identity", "hold", "session", "history",
    "vault"); each adapter reads its own from here instead of asking the database, and asks
    the database when its name is absent (a burst loaded without them, a test's fake). They
    are read at the run's start: what only this conversation's job writes (its session, its
    vault) cannot change before the step reads it; a hold a human takes a moment later is
    seen by the next run, as it was when the step read it itself a moment earlier."""

    rows: Mapping[str, Sequence[Mapping[str, Any]]]

    def get(self, name: str) -> Sequence[Mapping[str, Any]] | None:
        """The rows read under `name` ([] when there were none), or None when not read."""
        return self.rows.get(name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Burst:
    """The unprocessed messages of one conversation, in provider-timestamp order."""

    conversation_id: int
    provider: Provider
    channel_id: str
    contact_key: str
    messages: Sequence[PendingMessage]
    contact_phone: str | None = None
    contact_user_id: str | None = None
    contact_name: str | None = None  # WhatsApp profile name: a known name for PII masking
    # Read with the burst, in the same round trip: the sender's arrivals in the rate window
    # before its first message (`earlier_before`); None: not read, the triage asks the store.
    earlier_arrivals: Sequence[datetime] | None = None
    earlier_before: datetime | None = None
    opening: RunOpening | None = None  # the steps' reads, when read with the burst
    # Failed runs of this conversation are counted (OU3): a run that goes through clears the
    # count. Read with the burst, so a conversation with none costs no statement to clear.
    failing: bool = False

    def opened(self, name: str) -> Sequence[Mapping[str, Any]] | None:
        """The opening's rows under `name`, or None when they were not read with the burst."""
        return self.opening.get(name) if self.opening is not None else None

    def arrivals_before(self, at: datetime) -> Sequence[datetime] | None:
        """The arrivals read with the burst, when they were read before `at` (a burst whose
        first message changed since, e.g. a Flow completion taken out, reads them afresh)."""
        return self.earlier_arrivals if self.earlier_before == at else None

    @property
    def recipient(self) -> str:
        """Where replies go: the group for group chats, else the phone number where known,
        else the chat id (a BSUID)."""
        if is_group_chat(self.contact_key):
            return self.contact_key
        return self.contact_phone or self.contact_key

    @property
    def run_key(self) -> str:
        """Stable across retries of the same burst: makes every reply of a run idempotent."""
        return f"run:{self.conversation_id}:{self.messages[-1].id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    conversation_id: int
    message_ids: Sequence[int]
    started_at: datetime
    finished_at: datetime
    last_message_id: str | None
    marked_read: bool
    outcome: str
    error: str | None = None
    insight: RunInsight | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInsight:
    """What a run decided and what the AI was shown, for the console's thread and sandbox
    (OB4): the zone and its rules, the question as the AI received it (PII masked), the
    answer before its placeholders were restored, and the knowledge-base sources. Sealed at
    rest like the history; never in the audit trail (which keeps ids and counts only)."""

    zone: str | None = None
    rules: tuple[str, ...] = ()
    masked_question: str = ""
    masked_answer: str = ""
    sources: tuple[dict[str, object], ...] = ()
    model: str | None = None
    review: str | None = None
    knowledge: str | None = None  # "declined" when the knowledge base had nothing relevant

    def as_json(self) -> dict[str, object]:
        return {
            "zone": self.zone,
            "rules": list(self.rules),
            "maskedQuestion": self.masked_question,
            "maskedAnswer": self.masked_answer,
            "sources": list(self.sources),
            "model": self.model,
            "review": self.review,
            "knowledge": self.knowledge,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeResult:
    """What one webhook delivery changed: new rows, and parts already seen before."""

    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    status_duplicates: int = 0
    others: int = 0
    queued: int = 0
    # The kinds of the new messages' files (image, document …), one per file row written.
    files: tuple[str, ...] = ()


def sum_results(results: Sequence[IntakeResult]) -> IntakeResult:
    """One delivery stored in parts (per tenant, per batch of rows): the parts' sum."""
    return IntakeResult(
        stored=sum(r.stored for r in results),
        duplicates=sum(r.duplicates for r in results),
        statuses=sum(r.statuses for r in results),
        status_duplicates=sum(r.status_duplicates for r in results),
        others=sum(r.others for r in results),
        queued=sum(r.queued for r in results),
        files=tuple(kind for r in results for kind in r.files),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    contact_id: int
    account: AccountView | None
    link_notice_at: datetime | None
    rate_notice_at: datetime | None
    consent_state: ConsentState | None = None
    consent_prompted_at: datetime | None = None
    account_name: str | None = None  # a known name for PII masking


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    id: int
    history: Sequence[ChatTurn]  # oldest first
    disclosed: bool = False  # the AI disclosure went out in this session already
    # A new session whose row is not stored yet (issue 18: its id was drawn with the burst):
    # when it opened. What refers to it stores it first, in its own transaction (the run's
    # finish, a held draft: `ReplyRecord.session_opened_at`, `NewDraft.session_opened_at`).
    opened_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundDraft:
    """A message we decided to send, before it exists at the provider."""

    idempotency_key: str
    text: str
    kind: str  # reply | notice | apology | intake_flow | intake_confirmation
    part_index: int = 0
    reply_to: str | None = None
    # On a run's first message only: when the message it answers was received (the
    # response-time histogram runs from there to the provider's acceptance).
    inbound_received_at: datetime | None = None
    # A WhatsApp Flow message (`FlowMessage.as_json()`): sent as the Flow where the provider
    # can, else `text` goes (a template outside the window carries it).
    flow: Mapping[str, Any] | None = None
    # Reply buttons offered with the text (what `InteractiveMessage.parse` reads): sent as
    # buttons where the provider can, else `text` goes alone (the consent request's SETUJU /
    # BERHENTI).
    interactive: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyRecord:
    """Everything a finished run writes, in one transaction."""

    run: RunRecord
    run_key: str
    recipient: str
    drafts: Sequence[OutboundDraft]
    session_id: int | None = None
    session_opened_at: datetime | None = None  # a new session, stored first (Session.opened_at)
    user_turn: str | None = None
    assistant_turn: str | None = None
    # The run's answer carries the AI disclosure: the session records it in the same
    # transaction (never disclosed twice after a crash, and no transaction of its own).
    disclosed: bool = False
    # The run's audit events (CP3), appended in the same transaction when the store can
    # (`finish` says whether it did; if not, the caller appends them after it).
    audit: Sequence[AuditEvent] = ()
    audit_at: datetime | None = None
    # The delivery's opening read, asked in the same transaction after everything above
    # (None: not asked). Answered in `due_read.found` (see DueRead).
    due_read: DueRead | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundMessage:
    id: int
    conversation_id: int
    provider: Provider
    channel_id: str
    recipient: str
    idempotency_key: str
    text: str
    attempts: int
    reply_to: str | None = None
    next_attempt_at: datetime | None = None
    kind: str = "reply"
    template: Mapping[str, Any] | None = None  # {"name", "language", "parameters"}
    flow: Mapping[str, Any] | None = None  # a Flow message (FlowMessage.as_json()); see draft
    # A document, image or interactive message (`rich_messages.py`, as_json()).
    rich: Mapping[str, Any] | None = None
    # Reply buttons offered with the text where the provider can send them (see draft).
    interactive: Mapping[str, Any] | None = None
    # A link code's AUTHENTICATION template {"name", "language", "code"}: how it goes outside
    # the 24-hour window (inside, the text goes).
    code_template: Mapping[str, Any] | None = None
    last_inbound_at: datetime | None = None  # of the conversation: the 24-hour window
    # `sending` means an attempt started and its outcome is unknown (crash or timeout mid-call).
    status: OutboundStatus = OutboundStatus.PENDING
    last_attempt_at: datetime | None = None
    throttles: int = 0  # 131056 refusals in a row (pair rate limit)
    email_attempts: int = 0  # e-mail fallback tries so far
    inbound_received_at: datetime | None = None  # a run's first answer: see OutboundDraft


@dataclass(frozen=True, slots=True, kw_only=True)
class DueMessages:
    """What a delivery run reads before its first send, in one round trip (issue 18)."""

    messages: list[OutboundMessage]  # not yet accepted by the provider, oldest first
    recent: list[datetime] | None = None  # the pair's sends since `recent_since` (pacing)
    health: ChannelHealth | None = None  # the first message's channel, as stored (breaker)
    # The opt-out check's answer for the number `due` was asked to screen, read with the
    # messages (issue 18: a transaction fewer per reply): {number: reason or None}. A number
    # not in it is checked by the `RecipientCheck` as before.
    screened: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class DueRead:
    """`Outbox.due`'s question, asked at the end of a run's finishing transaction (issue 18:
    the delivery's opening read without a transaction of its own). The store that can answer
    it sets `found` once the transaction has committed; None: not answered (the delivery
    reads for itself)."""

    conversation_id: int
    recent_since: datetime | None
    screen: str | None
    found: DueMessages | None = None


class ConversationStore(Protocol):
    async def load_burst(
        self,
        conversation_id: int,
        *,
        history: int | None = None,
        session_fresh_since: datetime | None = None,
    ) -> Burst | None:
        """The conversation's unprocessed messages (None: no such conversation). With
        `history` (the turns a prompt takes), the run's opening reads too (`Burst.opening`),
        in the same round trip; with `session_fresh_since`, an id for a new session too when
        the latest session's last activity is not after it (expired)."""

    async def defer(self, conversation_id: int, *, run_at: datetime, attempt: int) -> None: ...

    async def earlier_arrivals(self, conversation_id: int, *, before: datetime) -> list[datetime]:
        """Arrival times of this conversation's messages in the minute before `before`."""

    async def finish(self, record: ReplyRecord) -> bool:
        """Turns, outbound drafts, processed marks and the run, all or nothing; True when
        the record's audit events were appended with them."""

    async def clear_failures(self, conversation_id: int) -> None:
        """Forget the failed runs counted for the conversation (its burst went through)."""


class IdentityStore(Protocol):
    async def resolve(self, burst: Burst, *, create_account: bool) -> Identity: ...

    async def mark_notice(self, contact_id: int, *, kind: str, at: datetime) -> None: ...

    async def record_consent(
        self,
        contact_id: int,
        *,
        state: ConsentState,
        provider_message_id: str,
        text: str,
        at: datetime,
    ) -> None:
        """The new state, and its evidence (message id, time, text as written)."""


class VaultStore(Protocol):
    """Each conversation's PII placeholders ([NIK_1] → value), kept sealed."""

    async def load(
        self, conversation_id: int, *, opening: RunOpening | None = None
    ) -> dict[str, object] | None: ...

    async def save(self, conversation_id: int, vault: dict[str, object]) -> None: ...


class SessionStore(Protocol):
    async def current(
        self,
        conversation_id: int,
        *,
        now: datetime,
        idle_timeout: timedelta,
        history: int,
        opening: RunOpening | None = None,
    ) -> Session: ...

    async def mark_disclosed(self, session_id: int, *, at: datetime) -> None: ...


class RecipientCheck(Protocol):
    """Who may be written to: every operator message to a number and every delivery asks it
    (a contact who opted out with BERHENTI gets nothing but the confirmation). The number is
    canonical (or a group chat id); the answer is the reason to refuse (`OPTED_OUT`), or None."""

    async def refusal(self, number: str) -> str | None: ...


class Outbox(Protocol):
    async def pending(self, conversation_id: int) -> list[OutboundMessage]:
        """Messages not yet accepted by the provider, oldest first."""

    async def due(
        self, conversation_id: int, *, recent_since: datetime | None, screen: str | None = None
    ) -> DueMessages:
        """`pending`, with the conversation's sends since `recent_since` (None: not read) and
        the first message's channel health (None: the caller asks its health store). With
        `screen` (a number), the opt-out check's answer for it may come back in `screened`,
        by the same rule as `RecipientCheck.refusal`."""

    async def start_attempt(self, message_id: int, *, at: datetime) -> None: ...

    async def accepted(
        self,
        message_id: int,
        *,
        provider_message_id: str,
        at: datetime,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        """The provider took the message; True when `audit` (the send's events) was appended
        in the same transaction (else the caller appends it)."""
        ...

    async def retry_later(
        self, message_id: int, *, at: datetime, error_code: str | None, error: str
    ) -> None: ...

    async def failed(
        self, message_id: int, *, error_code: str | None, error: str, email_due: bool = False
    ) -> None:
        """Failed for good (a dead letter); `email_due` queues the e-mail fallback."""

    async def defer_delivery(self, conversation_id: int, *, run_at: datetime) -> None: ...

    async def reroute_window_failures(self, conversation_id: int) -> int: ...

    async def release_attempt(
        self, message_id: int, *, at: datetime, throttled: bool, error_code: str | None, error: str
    ) -> None:
        """Back to pending until `at` without spending the attempt just made (a paused channel
        or a pair slow-down is not the message's fault)."""

    async def outcome_unknown(self, message_id: int, *, reconcile_at: datetime, error: str) -> None:
        """The attempt may have reached the provider: wait for a status until `reconcile_at`."""

    async def resending_unknown(self, message_id: int) -> None:
        """Counts a send made again although an earlier one may have arrived (the ambiguity)."""

    async def last_status_at(self, provider: Provider) -> datetime | None:
        """When the provider's latest delivery status webhook arrived, if any ever did."""

    async def recent_sends(self, conversation_id: int, *, since: datetime) -> list[datetime]:
        """When this conversation's messages were handed to the provider, since `since`."""

    async def emails_due(self, conversation_id: int) -> list[OutboundMessage]:
        """Messages that failed for good and have not been considered for e-mail yet."""

    async def email_outcome(
        self,
        message_id: int,
        *,
        status: EmailStatus,
        error: str | None,
        attempted: bool = False,
        next_at: datetime | None = None,
    ) -> None:
        """Record the e-mail fallback's outcome; `pending` with `next_at` tries again then."""


class ChannelHealthStore(Protocol):
    async def load(self, provider: Provider, channel_id: str) -> ChannelHealth: ...

    async def change(
        self,
        provider: Provider,
        channel_id: str,
        transition: Callable[[ChannelHealth], ChannelHealth | None],
    ) -> tuple[ChannelHealth, ChannelHealth]: ...


class ContactEmails(Protocol):
    async def email_for_conversation(
        self, conversation_id: int, phone: str | None = None
    ) -> str | None:
        """The e-mail address of the contact's account (linked, or with `phone` on file)."""


class ProviderDirectory(Protocol):
    def get(self, provider: Provider, channel_id: str) -> MessagingProvider | None: ...

    async def refresh(self, *, force: bool = False) -> bool:
        """Pick up tokens replaced at run time; True when one changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MailMessage:
    to: str
    subject: str
    body: str
    message_id: str  # our idempotency key: the Message-ID header, so a resend is recognisable


class MailDeliveryError(Exception):
    """The mail server refused or could not be reached; `permanent` when trying again is futile
    (5xx reply to the recipient or the message), else a later try may work."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    """E-mail fallback (OU4): the last way to reach a user WhatsApp could not."""

    async def send(self, message: MailMessage) -> None:
        """Hand the message to the mail server; raises MailDeliveryError."""


class KnowledgeSearch(Protocol):
    """The tenant's knowledge base as the conversation sees it (AI3): passages for a question.

    `search` returns the best passages first and [] when nothing is relevant enough: the
    out-of-scope decision is the knowledge base's own (one documented threshold), so the
    gateway and `wagate kb search` always agree."""

    async def search(self, question: str, *, limit: int = 5) -> list[Passage]: ...

    async def stats(self) -> dict[str, Any]:
        """{"documents": n, "chunks": n, "loaded": bool}."""


class IngestReport(Protocol):
    """What adding or refreshing did; `error` says why a source was refused (nothing of it
    was stored then)."""

    @property
    def error(self) -> str | None: ...

    def as_json(self) -> dict[str, Any]: ...


class KnowledgeAdmin(KnowledgeSearch, Protocol):
    """The operator's side of the knowledge base (one per tenant). Each document is added in
    one transaction: a failing source changes nothing and reports its `error`."""

    async def add_file(
        self, path: Path, *, title: str | None = None, source: str | None = None
    ) -> IngestReport: ...

    async def add_bytes(
        self, name: str, data: bytes, *, title: str | None = None
    ) -> IngestReport: ...

    async def add_url(self, url: str, *, title: str | None = None) -> IngestReport: ...

    async def remove(self, document_id: int) -> bool: ...

    async def refresh_folder(self, folder: Path) -> IngestReport:
        """Changed files re-read, new ones added, removed ones retired (by content hash)."""

    async def documents(self) -> list[dict[str, Any]]:
        """id, source, title, kind, chunks, status, error, updatedAt of every document."""


class KnowledgeRefreshQueue(Protocol):
    """Puts a knowledge-base refresh on the job queue (the worker reads the folder), and says
    how that job is doing, so a command can show its progress."""

    async def request(self) -> int:
        """The refresh job's id; a refresh already waiting is reused, not queued twice."""

    async def state(self, job_id: int) -> str | None:
        """`todo`, `doing`, `succeeded`, `failed` …; None once the job is gone (a finished
        job is deleted by the worker)."""


class TurnImages(Protocol):
    """The photos of a turn, for a vision-capable model (AI_VISION_MODEL)."""

    async def images(self, message_ids: Sequence[int]) -> list[ChatImage]:
        """The stored photos of these inbound messages, opened, in message order; photos of
        a type vision models do not read, or over the size limit, are left out."""


class ZoneTriage(Protocol):
    """Triage of a burst into green / yellow / red (AI7): the firm's rules, and where an AI is
    configured a classification call. Red by rule always wins and needs no AI."""

    async def __call__(
        self, question: str, history: Sequence[str] = (), *, ask_model: bool = True
    ) -> ZoneCall:
        """`question`: the burst's text as the person wrote it; `history`: earlier user turns
        of the session, most recent last (a calm follow-up to a red message stays red).
        `ask_model=False`: rules only — the conversation is held by a human, the AI is paused,
        and only whether it is red still matters."""


class ZoneClassifier(Protocol):
    """A model's triage of one question (AI7), beside the rules: green, yellow or red. Raises
    on any failure (no answer, timeout, an unclear answer); the caller falls back to rules."""

    async def classify(self, question: str) -> Zone: ...


class Handover(Protocol):
    """Conversations a human has taken from the AI (AI7: take-over, red hand-off)."""

    async def held_by_human(
        self, conversation_id: int, *, now: datetime, opening: RunOpening | None = None
    ) -> bool:
        """True while a human holds the conversation (taken, not released, not idle past
        TAKEOVER_IDLE_MINUTES): the AI must not answer."""

    async def hand_to_human(self, conversation_id: int, *, reason: str, now: datetime) -> None:
        """The gateway itself hands the conversation over (a red message): held until a human
        releases it; idempotent (a retried run hands over once)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffAlert:
    """Something on-duty staff must see now. `kind`: "urgent" (a red message), "review_due" (a
    draft about to miss its deadline), "window_closing" (a draft about to lose the 24-hour
    window). `key`: idempotency (one alert per kind and subject, however often it is raised);
    `summary`: short, no personal data (the conversation id, the rule, the deadline)."""

    kind: str
    key: str
    conversation_id: int
    summary: str


class StaffAlerts(Protocol):
    """On-duty staff (URGENT_NOTIFY_EMAILS over the SMTP settings)."""

    async def alert(self, alert: StaffAlert) -> None:
        """Send (or queue) the alert; sending the same `key` twice sends it once."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAlert:
    """A staff alert as stored: `delivered_to` are the addresses that accepted it already."""

    alert: StaffAlert
    attempts: int
    delivered_to: Sequence[str] = ()


class AlertStore(Protocol):
    """Staff alerts, stored before they are mailed (one row per key), so a raise repeated by a
    retried run mails once and a mail that failed is tried again by the worker's sweep."""

    async def record(self, alert: StaffAlert, *, at: datetime) -> None:
        """Store it unless its key is stored already."""

    async def claim(self, key: str, *, at: datetime, lease: timedelta) -> StoredAlert | None:
        """The alert, if unsent and due, now reserved for `lease` (another process claiming
        it meanwhile gets None); None when it is sent, reserved or unknown."""

    async def outcome(
        self,
        key: str,
        *,
        delivered: Sequence[str],
        failures: int,
        error: str | None,
        finished: bool,
        next_at: datetime | None,
    ) -> None:
        """After a try: addresses that accepted it now, how many mails failed, whether it is
        done (every address reached or refused for good), and when to try again."""

    async def undeliverable(self, key: str, *, reason: str) -> None:
        """Nothing could send it (no SMTP, no addresses): marked, never retried."""

    async def due(self, *, at: datetime, since: datetime, limit: int) -> list[str]:
        """Keys of unsent alerts raised after `since` whose next try is due by `at`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewIntake:
    """A Flow completion to keep as a case intake (FL1): where it came from, and what it said
    (`ParsedIntake`: the answers, documents and problems, and the reply as received)."""

    conversation_id: int
    provider: Provider
    provider_message_id: str  # the completion's id: one intake per completion
    received_at: datetime
    parsed: ParsedIntake


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredIntake:
    id: int
    created: bool  # False: this completion was stored before (a retried run, a redelivery)


class CaseIntakeStore(Protocol):
    """Case intakes as stored (sealed answers, one per completion)."""

    async def record(self, intake: NewIntake) -> StoredIntake:
        """Store it unless its completion is stored already; its id either way."""


# ---------------------------------------------------------------- stored files (MD1, OU1)
# Shared by the media fetch job (pipeline/media.py), the operator's file send and delivery's
# upload (pipeline/outbound_files.py).


@dataclass(frozen=True, slots=True, kw_only=True)
class Kept:
    """A file stored sealed: its object's name, its file key (sealed), its plaintext size and
    SHA-256."""

    object_key: str
    wrapped_key: bytes
    size: int
    sha256: str


class StorageUnavailable(Exception):
    """The object store failed or could not be reached: try again later."""


class MediaVault(Protocol):
    """Sealed files in the object store."""

    async def keep(self, chunks: AsyncIterable[bytes]) -> Kept:
        """Seal and store the stream; `StorageUnavailable` when the store fails (nothing is
        left behind); any error of `chunks` itself propagates the same way."""

    async def discard(self, kept: Kept) -> None:
        """Remove a stored file nobody will reference (its row was settled meanwhile)."""

    async def read(self, kept: Kept, *, limit: int) -> bytes | None:
        """The file whole, decrypted in memory, when it is at most `limit` bytes; None when
        it is larger. `StorageUnavailable` when the store fails."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUpload:
    """A file an operator sent, just kept in the vault, to be recorded with its outbound row."""

    kept: Kept
    file_type: FileType
    declared_mime: str | None
    filename: str
