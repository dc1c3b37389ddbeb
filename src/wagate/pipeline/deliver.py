"""Delivery (OU1–OU9): send what a run decided, in order, each message at most once where the
provider lets us know.

Every outbound message exists as a row with an idempotency key before any provider call, and
the attempt is recorded before the call too. Then, per message, in order:

1. the channel's breaker (shared by all processes) says send, probe, or wait — waiting never
   spends an attempt;
2. the pair's pacing says now or later (Meta's per-user limit);
3. a message whose last attempt has an unknown outcome (timeout after sending, crash mid-call)
   first waits `reconcile` for a status webhook naming its idempotency key; only then is it
   sent again, and counted as such (the one ambiguity no API removes: see docs/reliability.md);
4. the send; its error class decides: transient → retry later on the queue (later messages of
   the conversation wait, so parts never overtake each other); pair limit → slow the pair down;
   token refused → the channel is degraded and the message waits; permanent → failed, and
   e-mailed when the contact's account has an address.

Each message's fate is a typed outcome (`outcomes.py`: sent, failed, deferred until T); the
loop goes on after sent and failed and stops at the first deferral, queueing the conversation
once. Steps 1–2 are the channel gate (`channel_gate.py`), the e-mail the fallback
(`email_fallback.py`), the choice between text and template `routing.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from wagate.domain.audit import AuditTrail
from wagate.domain.breaker import BreakerPolicy
from wagate.domain.consent import OPTOUT_CONFIRMATION_KIND
from wagate.domain.errors import (
    AuthenticationFailed,
    OutcomeUnknown,
    PairRateLimited,
    PermanentSendError,
    SendError,
    TransientSendError,
    error_class,
)
from wagate.domain.flows import FlowMessage
from wagate.domain.messages import Provider
from wagate.domain.outbound import OutboundStatus
from wagate.domain.pacing import PairPacing
from wagate.domain.provider_port import (
    FileSender,
    FlowSender,
    InteractiveSender,
    MediaSender,
    MediaUploader,
    MessagingProvider,
    ReactionSender,
    SentMessage,
)
from wagate.domain.retry import BackoffPolicy
from wagate.domain.rich_messages import (
    FileMessage,
    InteractiveMessage,
    InvalidRichMessage,
    MediaMessage,
    ReactionMessage,
)
from wagate.domain.rich_messages import from_json as rich_from_json
from wagate.domain.window import OUT_OF_WINDOW, TemplateSet
from wagate.pipeline.channel_gate import MAX_INLINE_WAIT, ChannelGate, GateRun, Go
from wagate.pipeline.email_fallback import EmailFallback, SendEmails
from wagate.pipeline.metrics import FAILED, SENT, UNMEASURED, Metrics
from wagate.pipeline.outbound_audit import OutboundAudit
from wagate.pipeline.outbound_files import OutboundFiles, Ready, StoreDown, UploadedFiles
from wagate.pipeline.outcomes import Deferred, Failed, MessageOutcome, Sent
from wagate.pipeline.ports import (
    ChannelHealthStore,
    DueMessages,
    DueRead,
    OutboundMessage,
    Outbox,
    ProviderDirectory,
    RecipientCheck,
)
from wagate.pipeline.routing import AsTemplate, Route, WindowClosed, previews_link, route

__all__ = ["MAX_INLINE_WAIT", "STATUS_EVIDENCE", "Deliver", "EmailFallback"]

log = structlog.get_logger(__name__)

# Status webhooks seen this recently show that Meta's silence about a message means it never
# arrived (Meta sends `sent` within seconds of taking one).
STATUS_EVIDENCE = timedelta(hours=24)


@dataclass(kw_only=True)
class Deliver:
    outbox: Outbox
    providers: ProviderDirectory
    backoff: BackoffPolicy
    clock: Callable[[], datetime]
    jitter: Callable[[], float] = field(default=random.random)
    audit: AuditTrail | None = None
    templates: TemplateSet = field(default_factory=TemplateSet)
    health: ChannelHealthStore | None = None
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    pacing: PairPacing | None = field(default_factory=PairPacing)
    reconcile: timedelta = timedelta(seconds=20)
    email: EmailFallback | None = None
    recipients: RecipientCheck | None = None  # opted-out numbers get only the confirmation
    metrics: Metrics = UNMEASURED
    files: OutboundFiles | None = None  # files operators uploaded (outbound_files.py)

    def __post_init__(self) -> None:
        self._record = OutboundAudit(audit=self.audit, clock=self.clock)
        self._uploads = (
            UploadedFiles(files=self.files, clock=self.clock) if self.files is not None else None
        )
        self._gate = ChannelGate(
            outbox=self.outbox,
            providers=self.providers,
            clock=self.clock,
            record=self._record,
            health=self.health,
            breaker=self.breaker,
            pacing=self.pacing,
        )
        self._emails = (
            SendEmails(
                fallback=self.email, outbox=self.outbox, clock=self.clock, record=self._record
            )
            if self.email is not None
            else None
        )

    def due_read(self, conversation_id: int, *, recipient: str | None = None) -> DueRead | None:
        """The opening read of a delivery run, for a transaction just before it to carry
        (`ReplyRecord.due_read`; its answer then goes to `__call__` as `due`). None when the
        run must do something before reading (window failures rerouted to a template)."""
        if self.templates.for_purpose(OUT_OF_WINDOW) is not None:
            return None
        return DueRead(
            conversation_id=conversation_id,
            recent_since=self._gate.recent_since(),
            screen=recipient if self.recipients is not None else None,
        )

    async def __call__(
        self,
        conversation_id: int,
        *,
        recipient: str | None = None,
        due: DueMessages | None = None,
    ) -> int:
        """Send what is due for the conversation; returns how many were accepted.
        `recipient`: the number the caller expects the messages to go to (a run's sender):
        the opt-out check for it is read with the messages, not in a transaction of its own.
        `due`: that read, made a moment ago by the caller's last transaction (`due_read`)."""
        await self.providers.refresh()  # a token replaced elsewhere (throttled: cheap)
        if self.templates.for_purpose(OUT_OF_WINDOW) is not None:
            await self.outbox.reroute_window_failures(conversation_id)
            due = None  # read after the reroute, as always
        accepted = 0
        # The messages, the pair's recent sends, the channel's state (and the opt-out check
        # for the expected recipient) in one read.
        if due is None:
            due = await self.outbox.due(
                conversation_id,
                recent_since=self._gate.recent_since(),
                screen=recipient if self.recipients is not None else None,
            )
        run = GateRun(recent=due.recent, health=due.health if self.health is not None else None)
        screened = dict(due.screened)
        for message in due.messages:
            # The screened answer serves the first message to that number; later ones (parts
            # sent after it) are checked afresh, just before their own attempt, as before.
            outcome = await self._deliver_one(message, run, screened)
            if isinstance(outcome, Deferred):
                # Everything after it waits too: parts never overtake each other.
                await self.outbox.defer_delivery(conversation_id, run_at=outcome.until)
                break
            accepted += isinstance(outcome, Sent)
        if self._emails is not None:
            await self._emails(conversation_id)
        return accepted

    async def _deliver_one(
        self, message: OutboundMessage, run: GateRun, screened: dict[str, str | None] | None = None
    ) -> MessageOutcome:
        """One message's fate: Sent, Failed (recorded as a dead letter), or Deferred (its row
        already says why: next attempt, released, unknown outcome; the caller queues the job).
        `screened`: the opt-out check's answers read with the run, by number (each used once)."""
        now = self.clock()
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            return Deferred(until=message.next_attempt_at)
        refused = await self._refused(message, screened)
        if refused is not None:
            return refused
        provider = self.providers.get(message.provider, message.channel_id)
        if provider is None:
            return await self._fail(message, None, f"provider {message.provider} not configured")
        how = route(message, provider, self.templates, self.clock())
        if isinstance(how, WindowClosed):
            # CP5, predicted before sending: no free-form message outside the window.
            return await self._fail(
                message,
                "window_closed",
                "outside the 24-hour window: only templates may be sent"
                if message.rich is not None
                else "outside the 24-hour window and no out_of_window template is configured",
            )
        unknown = message.status is OutboundStatus.SENDING
        if unknown:
            waited = await self._may_resend(message, provider, now)
            if waited is not None:
                return waited
        # Pacing before the breaker: a probe, once claimed, must not wait behind the pair.
        paced = await self._gate.pace(message, run)
        if paced is not None:
            return paced
        admitted = await self._gate.admit(message, provider, now, run)
        if isinstance(admitted, Deferred):
            return admitted
        if unknown:
            await self._resending(message)
        return await self._attempt(message, admitted, how, run)

    async def _refused(
        self, message: OutboundMessage, screened: dict[str, str | None] | None
    ) -> Failed | None:
        """A row queued before its contact opted out (a reply, an operator's message, a replay)
        is never sent: a dead letter with the check's reason as its code, never e-mailed (the
        contact asked for nothing more). Only the opt-out confirmation passes."""
        if self.recipients is None or message.kind == OPTOUT_CONFIRMATION_KIND:
            return None
        if screened is not None and message.recipient in screened:
            reason = screened.pop(message.recipient)  # read with the run, a moment ago
        else:
            reason = await self.recipients.refusal(message.recipient)
        if reason is None:
            return None
        await self.outbox.failed(
            message.id,
            error_code=reason,
            error="the contact opted out: only the opt-out confirmation may be sent",
            email_due=False,
        )
        await self._record("message.failed", message, error_code=reason, final=True)
        self._count_failed(message)
        log.warning("deliver.refused", message_id=message.id, code=reason)
        return Failed(code=reason)

    async def _attempt(
        self, message: OutboundMessage, go: Go, how: Route, run: GateRun
    ) -> MessageOutcome:
        upload = _uploaded_file(message)
        ready: Ready | None = None
        if upload is not None:
            # Before the attempt is on record: see pipeline/outbound_files.py for why.
            try:
                ready = await self._ready(go.provider, message, upload)
            except StoreDown as exc:
                return await self._store_down(message, exc)
            except SendError as exc:
                await self.outbox.start_attempt(message.id, at=self.clock())
                return await self._failed_attempt(message, exc, run, probing=go.probing)
        await self.outbox.start_attempt(message.id, at=self.clock())
        try:
            if upload is not None and ready is not None:
                sent = await self._send_file(go.provider, message, upload, ready)
            else:
                sent = await self._send(go.provider, message, how)
        except SendError as exc:
            return await self._failed_attempt(message, exc, run, probing=go.probing)
        accepted_at = self.clock()
        # The send's audit record rides in the acceptance's transaction when it can (one
        # transaction fewer; committed with it), else it is appended after, as before.
        events = self._record.events("message.sent", message, attempt=message.attempts + 1)
        audited = await self.outbox.accepted(
            message.id, provider_message_id=sent.provider_message_id, at=accepted_at, audit=events
        )
        if upload is not None:
            await self._file_delivered(message)
        self._count_sent(message, accepted_at)
        self._gate.sent(run)
        await self._gate.succeeded(message, run, probing=go.probing)
        if events and not audited:
            await self._record("message.sent", message, attempt=message.attempts + 1)
        return Sent()

    def _count_sent(self, message: OutboundMessage, accepted_at: datetime) -> None:
        provider = message.provider.value
        self.metrics.message(direction="out", provider=provider, status=SENT)
        if message.inbound_received_at is not None:  # a run's first answer
            waited = accepted_at - message.inbound_received_at
            self.metrics.responded(provider=provider, seconds=waited.total_seconds())

    def _count_failed(self, message: OutboundMessage) -> None:
        self.metrics.message(direction="out", provider=message.provider.value, status=FAILED)

    # ------------------------------------------------------------------ an unknown outcome

    async def _may_resend(
        self, message: OutboundMessage, provider: MessagingProvider, now: datetime
    ) -> Deferred | Failed | None:
        """A message left in `sending`: its last attempt may have reached the provider. A status
        webhook with our key would have moved it on; until `reconcile` has passed without one,
        it waits. After that it may go again (None; counted in `_resending`) unless its attempts
        are spent: then it is a dead letter, never e-mailed (the user may have it already)."""
        started = message.last_attempt_at or now
        if now < started + self.reconcile:
            return Deferred(until=started + self.reconcile)
        if self.backoff.gives_up_after(max(message.attempts - 1, 0)):
            return await self._give_up_unknown(
                message, "no answer and no status after the last attempt: delivery unknown"
            )
        if provider.capabilities.status_webhooks and not await self._statuses_flow(
            message.provider, now
        ):
            # Silence proves nothing when no status webhook has reached us lately (statuses
            # not subscribed, webhooks failing): resending could duplicate, so an operator
            # decides, with the message kept as a dead letter.
            return await self._give_up_unknown(
                message, "no answer, and no status webhooks arrive to settle it: delivery unknown"
            )
        return None

    async def _statuses_flow(self, provider: Provider, now: datetime) -> bool:
        last = await self.outbox.last_status_at(provider)
        return last is not None and now - last <= STATUS_EVIDENCE

    async def _give_up_unknown(self, message: OutboundMessage, reason: str) -> Failed:
        await self.outbox.failed(
            message.id, error_code="outcome_unknown", error=reason, email_due=False
        )
        await self._record("message.failed", message, error_code="outcome_unknown", final=True)
        self._count_failed(message)
        log.error("deliver.outcome_unknown", message_id=message.id)
        return Failed(code="outcome_unknown")

    async def _resending(self, message: OutboundMessage) -> None:
        """The send about to go may duplicate one the provider took silently: count it."""
        await self.outbox.resending_unknown(message.id)
        await self._record("message.resent_unknown_outcome", message, attempt=message.attempts + 1)
        log.warning("deliver.resend_unknown_outcome", message_id=message.id)

    # ------------------------------------------------------------------ the send

    async def _send(
        self, provider: MessagingProvider, message: OutboundMessage, how: Route
    ) -> SentMessage:
        # Optional arguments go only when they say something (a link preview only to a provider
        # declaring it can show one): a provider plugin written before them keeps working.
        if isinstance(how, AsTemplate):
            if how.code_button is not None:
                return await provider.send_template(
                    to=message.recipient,
                    name=how.name,
                    language=how.language,
                    parameters=how.values,
                    tracker=message.idempotency_key,
                    code_button=how.code_button,
                )
            if how.parameter_names:
                return await provider.send_template(
                    to=message.recipient,
                    name=how.name,
                    language=how.language,
                    parameters=how.values,
                    tracker=message.idempotency_key,
                    parameter_names=list(how.parameter_names),
                )
            return await provider.send_template(
                to=message.recipient,
                name=how.name,
                language=how.language,
                parameters=how.values,
                tracker=message.idempotency_key,
            )
        if message.rich is not None:
            return await self._send_rich(provider, message, message.rich)
        buttons = _offered_buttons(message, provider)
        if buttons is not None and isinstance(provider, InteractiveSender):
            return await provider.send_interactive(
                to=message.recipient, message=buttons, tracker=message.idempotency_key
            )
        flow = FlowMessage.from_json(message.flow) if message.flow is not None else None
        if flow is not None and provider.capabilities.flows and isinstance(provider, FlowSender):
            # FL1: inside the window the Flow itself; a provider without Flows gets the text.
            return await provider.send_flow(
                to=message.recipient, flow=flow, tracker=message.idempotency_key
            )
        if previews_link(message, provider):
            return await provider.send_text(
                to=message.recipient,
                body=message.text,
                reply_to=message.reply_to,
                tracker=message.idempotency_key,
                link_preview=True,
            )
        return await provider.send_text(
            to=message.recipient,
            body=message.text,
            reply_to=message.reply_to,
            tracker=message.idempotency_key,
        )

    async def _send_rich(
        self, provider: MessagingProvider, message: OutboundMessage, document: Mapping[str, Any]
    ) -> SentMessage:
        """A document, image or interactive message; a provider that cannot send it (the row
        was queued before a provider change) refuses it for good, with no silent text."""
        try:
            rich = rich_from_json(document)
        except InvalidRichMessage as exc:
            raise PermanentSendError(f"stored message is not valid: {exc}") from exc
        tracker = message.idempotency_key
        if isinstance(rich, InteractiveMessage):
            if provider.capabilities.interactive and isinstance(provider, InteractiveSender):
                return await provider.send_interactive(
                    to=message.recipient, message=rich, tracker=tracker
                )
        elif isinstance(rich, ReactionMessage):
            if provider.capabilities.reactions and isinstance(provider, ReactionSender):
                return await provider.send_reaction(
                    to=message.recipient, reaction=rich, tracker=tracker
                )
        elif (
            isinstance(rich, MediaMessage)
            and provider.capabilities.media
            and isinstance(provider, MediaSender)
        ):
            return await provider.send_media(to=message.recipient, media=rich, tracker=tracker)
        raise PermanentSendError(f"provider {provider.name.value} cannot send this message")

    # ------------------------------------------------------------------ uploaded files

    async def _ready(
        self, provider: MessagingProvider, message: OutboundMessage, upload: FileMessage
    ) -> Ready:
        if self._uploads is None:
            raise PermanentSendError("no file store is wired to send uploaded files")
        return await self._uploads.ready(provider, message.id, message.channel_id, upload)

    async def _send_file(
        self,
        provider: MessagingProvider,
        message: OutboundMessage,
        upload: FileMessage,
        ready: Ready,
    ) -> SentMessage:
        tracker = message.idempotency_key
        if ready.media_id is not None and isinstance(provider, MediaUploader):
            return await provider.send_uploaded(
                to=message.recipient, message=upload, media_id=ready.media_id, tracker=tracker
            )
        if ready.content is not None and isinstance(provider, FileSender):
            return await provider.send_file(
                to=message.recipient, message=upload, content=ready.content, tracker=tracker
            )
        raise PermanentSendError(f"provider {provider.name.value} cannot send uploaded files")

    async def _store_down(self, message: OutboundMessage, exc: StoreDown) -> Deferred:
        """Our object store failed: the message waits (later ones with it), no attempt spent."""
        until = self.clock() + self.backoff.delay(message.attempts, jitter=self.jitter())
        await self.outbox.retry_later(
            message.id, at=until, error_code="store_unavailable", error=f"object store: {exc}"
        )
        log.warning("deliver.store_unavailable", message_id=message.id)
        return Deferred(until=until)

    async def _file_delivered(self, message: OutboundMessage) -> None:
        """The file is no longer needed once the provider has it: removed now. A failure here
        leaves it to retention (the row and its object go with the outbound message)."""
        if self.files is None:
            return
        try:
            await self.files.delivered(message.id)
        except Exception as exc:  # the message is sent; only the cleanup failed
            log.warning("deliver.file_cleanup_failed", message_id=message.id, error=str(exc))

    # ------------------------------------------------------------------ after a failed send

    async def _failed_attempt(
        self, message: OutboundMessage, exc: SendError, run: GateRun, *, probing: bool
    ) -> MessageOutcome:
        error = f"{type(exc).__name__}: {exc}"
        self.metrics.error(provider=message.provider.value, error_class=error_class(exc))
        if isinstance(exc, AuthenticationFailed):
            return await self._token_refused(message, exc, run, error)
        if isinstance(exc, PairRateLimited):
            # OU6: this user gets messages more slowly; neither the message nor the channel
            # is at fault, so no attempt is spent and the breaker does not count it.
            wait = self._gate.slowdown(message, exc)
            until = self.clock() + wait
            await self.outbox.release_attempt(
                message.id, at=until, throttled=True, error_code=exc.code, error=error
            )
            log.warning("deliver.pair_slowed", message_id=message.id, wait_s=wait.total_seconds())
            if probing:
                await self._gate.succeeded(message, run, probing=True)
            return Deferred(until=until)
        if isinstance(exc, TransientSendError):
            await self._gate.failed(message, run, reason=error[:200])
            return await self._transient(message, exc, error)
        assert isinstance(exc, PermanentSendError)
        # The provider answered: the channel works, this message cannot go.
        await self._gate.succeeded(message, run, probing=probing)
        return await self._fail(message, exc.code, error, error_type=type(exc).__name__)

    async def _token_refused(
        self, message: OutboundMessage, exc: AuthenticationFailed, run: GateRun, error: str
    ) -> Deferred:
        now = self.clock()
        if await self.providers.refresh(force=True):
            # The token was replaced meanwhile: go again at once with the new one.
            await self.outbox.release_attempt(
                message.id, at=now, throttled=False, error_code=exc.code, error=error
            )
            return Deferred(until=now)
        # OU7: the token, not the message. Pause the channel; the attempt is not spent.
        retry_at = await self._gate.token_rejected(message, run, reason=error[:200])
        await self.outbox.release_attempt(
            message.id, at=retry_at, throttled=False, error_code=exc.code, error=error
        )
        await self._record("channel.degraded", message, error_code=exc.code)
        log.error("deliver.token_rejected", provider=message.provider.value, code=exc.code)
        return Deferred(until=retry_at)

    async def _transient(
        self, message: OutboundMessage, exc: TransientSendError, error: str
    ) -> MessageOutcome:
        now = self.clock()
        attempt = message.attempts  # attempts made before this one
        if isinstance(exc, OutcomeUnknown):
            # It may have arrived: look for its status before anything else (OU9).
            reconcile_at = now + self.reconcile
            await self.outbox.outcome_unknown(message.id, reconcile_at=reconcile_at, error=error)
            log.warning("deliver.outcome_unknown", message_id=message.id, attempt=attempt)
            return Deferred(until=reconcile_at)
        if self.backoff.gives_up_after(attempt):
            failed = await self._fail(message, exc.code, error, error_type=type(exc).__name__)
            log.error("deliver.gave_up", message_id=message.id, code=exc.code)
            return failed
        retry_at = now + self.backoff.delay(
            attempt, jitter=self.jitter(), retry_after=exc.retry_after
        )
        await self.outbox.retry_later(message.id, at=retry_at, error_code=exc.code, error=error)
        log.warning(
            "deliver.retry",
            message_id=message.id,
            attempt=attempt,
            error_type=type(exc).__name__,
            code=exc.code,
        )
        return Deferred(until=retry_at)  # later messages wait: order matters more

    async def _fail(
        self,
        message: OutboundMessage,
        code: str | None,
        error: str,
        *,
        error_type: str | None = None,
    ) -> Failed:
        email_due = self.email is not None
        await self.outbox.failed(message.id, error_code=code, error=error, email_due=email_due)
        await self._record(
            "message.failed", message, error_code=code, error_type=error_type, final=True
        )
        self._count_failed(message)
        log.error("deliver.failed", message_id=message.id, error_type=error_type, code=code)
        return Failed(code=code)


def _uploaded_file(message: OutboundMessage) -> FileMessage | None:
    """The uploaded file a row sends, or None (any other message, or a stored form that does
    not parse: `_send_rich` refuses that one for good)."""
    if message.rich is None or "upload" not in message.rich:
        return None
    try:
        rich = rich_from_json(message.rich)
    except InvalidRichMessage:
        return None
    return rich if isinstance(rich, FileMessage) else None


def _offered_buttons(
    message: OutboundMessage, provider: MessagingProvider
) -> InteractiveMessage | None:
    """The reply buttons a message offers beside its text, when the provider sends buttons;
    None (the text goes alone) otherwise, or when the stored buttons do not parse."""
    if message.interactive is None or not provider.capabilities.interactive:
        return None
    try:
        return InteractiveMessage.parse(message.interactive)
    except InvalidRichMessage:
        log.warning("deliver.buttons_unreadable", message_id=message.id)
        return None
