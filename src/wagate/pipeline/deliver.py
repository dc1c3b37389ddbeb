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
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.domain.breaker import BreakerPolicy, ChannelHealth, ChannelState, GateKind
from wagate.domain.errors import (
    AuthenticationFailed,
    OutcomeUnknown,
    PairRateLimited,
    PermanentSendError,
    SendError,
    TransientSendError,
)
from wagate.domain.messages import Provider
from wagate.domain.pacing import PairPacing
from wagate.domain.phone import is_group_chat
from wagate.domain.provider_port import CredentialCheck, MessagingProvider, SentMessage
from wagate.domain.retry import BackoffPolicy
from wagate.domain.window import OUT_OF_WINDOW, TemplateSet, window_open
from wagate.pipeline.ports import (
    ChannelHealthStore,
    ContactEmails,
    MailDeliveryError,
    Mailer,
    MailMessage,
    OutboundMessage,
    Outbox,
    ProviderDirectory,
)

log = structlog.get_logger(__name__)

# A wait this short is slept inside the job; a longer one hands the conversation back to the
# queue (a worker slot is worth more than a job's warm state).
MAX_INLINE_WAIT = timedelta(seconds=1.5)
# Status webhooks seen this recently show that Meta's silence about a message means it never
# arrived (Meta sends `sent` within seconds of taking one).
STATUS_EVIDENCE = timedelta(hours=24)
# E-mail fallback: tries for a temporarily failing mail server, 5 s apart and doubling.
MAX_EMAIL_ATTEMPTS = 6
EMAIL_RETRY_BASE = timedelta(seconds=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailFallback:
    mailer: Mailer
    contacts: ContactEmails
    subject: str


class _Stop(Exception):
    """Internal: the conversation's delivery must stop for now (it has been deferred)."""


@dataclass
class _Run:
    """What one delivery run learnt once and reuses for each of its messages."""

    recent: list[datetime] | None = None  # the pair's recent sends (pacing)
    health: ChannelHealth | None = None  # the channel's state as last seen


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

    async def _record(self, action: str, message: OutboundMessage, **details: object) -> None:
        if self.audit is not None:
            await self.audit.record(
                AuditEvent(
                    action=action,
                    actor="worker",
                    subject=f"conversation:{message.conversation_id}",
                    details={"outbound": message.id, "provider": message.provider.value, **details},
                ),
                at=self.clock(),
            )

    async def __call__(self, conversation_id: int) -> int:
        """Send what is due for the conversation; returns how many were accepted."""
        await self.providers.refresh()  # a token replaced elsewhere (throttled: cheap)
        if self.templates.for_purpose(OUT_OF_WINDOW) is not None:
            await self.outbox.reroute_window_failures(conversation_id)
        accepted = 0
        run = _Run()
        try:
            for message in await self.outbox.pending(conversation_id):
                if await self._deliver_one(message, run):
                    accepted += 1
        except _Stop:
            pass
        await self._send_emails_due(conversation_id)
        return accepted

    async def _defer(self, message: OutboundMessage, until: datetime) -> None:
        await self.outbox.defer_delivery(message.conversation_id, run_at=until)
        raise _Stop

    async def _deliver_one(self, message: OutboundMessage, run: _Run) -> bool:
        """True when the provider accepted it; raises _Stop when the rest must wait."""
        now = self.clock()
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            await self._defer(message, message.next_attempt_at)  # everything after waits too
        provider = self.providers.get(message.provider, message.channel_id)
        if provider is None:
            await self._fail(message, None, f"provider {message.provider} not configured")
            return False
        template = self._template(message, provider)
        if template is WINDOW_CLOSED:
            # CP5, predicted before sending: no free-form message outside the window.
            await self._fail(
                message,
                "window_closed",
                "outside the 24-hour window and no out_of_window template is configured",
            )
            return False
        unknown = message.status == "sending"
        if unknown and not await self._may_resend(message, provider, now):
            return False
        # Pacing before the breaker: a probe, once claimed, must not wait behind the pair.
        if self.pacing is not None:
            await self._pace(message, run)
        probing, provider = await self._gate(message, provider, now, run)
        if unknown:
            await self._resending(message)
        await self.outbox.start_attempt(message.id, at=self.clock())
        try:
            sent = await self._send(provider, message, template)
        except SendError as exc:
            await self._failed_attempt(message, exc, run, probing=probing)
            return False
        await self.outbox.accepted(
            message.id, provider_message_id=sent.provider_message_id, at=self.clock()
        )
        if run.recent is not None:
            run.recent.append(self.clock())
        await self._channel_succeeded(message, run, probing=probing)
        await self._record("message.sent", message, attempt=message.attempts + 1)
        return True

    # ------------------------------------------------------------------ before the send

    async def _may_resend(
        self, message: OutboundMessage, provider: MessagingProvider, now: datetime
    ) -> bool:
        """A message left in `sending`: its last attempt may have reached the provider. A status
        webhook with our key would have moved it on; until `reconcile` has passed without one,
        it waits. After that it may go again (counted in `_resending`) unless its attempts are
        spent: then it is a dead letter, never e-mailed (the user may have it already)."""
        started = message.last_attempt_at or now
        if now < started + self.reconcile:
            await self._defer(message, started + self.reconcile)
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
        return True

    async def _statuses_flow(self, provider: Provider, now: datetime) -> bool:
        last = await self.outbox.last_status_at(provider)
        return last is not None and now - last <= STATUS_EVIDENCE

    async def _give_up_unknown(self, message: OutboundMessage, reason: str) -> bool:
        await self.outbox.failed(
            message.id, error_code="outcome_unknown", error=reason, email_due=False
        )
        await self._record("message.failed", message, error_code="outcome_unknown", final=True)
        log.error("deliver.outcome_unknown", message_id=message.id)
        return False

    async def _resending(self, message: OutboundMessage) -> None:
        """The send about to go may duplicate one the provider took silently: count it."""
        await self.outbox.resending_unknown(message.id)
        await self._record("message.resent_unknown_outcome", message, attempt=message.attempts + 1)
        log.warning("deliver.resend_unknown_outcome", message_id=message.id)

    async def _gate(
        self, message: OutboundMessage, provider: MessagingProvider, now: datetime, run: _Run
    ) -> tuple[bool, MessagingProvider]:
        """Ask the channel's breaker; returns (is this send the probe, the client to use)."""
        if self.health is None:
            return False, provider
        if run.health is None:
            run.health = await self.health.load(message.provider, message.channel_id)
        health = run.health
        if health.healthy:
            return False, provider
        if health.state is ChannelState.DEGRADED and await self.providers.refresh(force=True):
            # A replaced token: the client changed, and so may the verdict.
            provider = self.providers.get(message.provider, message.channel_id) or provider
        gate = self.breaker.gate(health, now)
        if gate.kind is GateKind.WAIT:
            assert gate.until is not None
            await self._defer(message, gate.until)
        if gate.kind is GateKind.SEND:
            return False, provider
        if not await self._claim_probe(message, now, run):
            await self._defer(message, now + timedelta(seconds=2))
        if health.state is ChannelState.DEGRADED:
            check = await provider.check_credentials()
            if check is CredentialCheck.REJECTED:
                await self._change(
                    message,
                    run,
                    lambda h: self.breaker.rejected_token(h, now, reason=h.reason or ""),
                )
                await self._defer(message, now + self.breaker.degraded_probe)
            if check is CredentialCheck.VALID:
                await self._change(message, run, lambda h: self.breaker.token_valid(h, now))
                return False, provider
        return True, provider  # UNKNOWN, or open: the message itself is the probe

    async def _claim_probe(self, message: OutboundMessage, now: datetime, run: _Run) -> bool:
        def claim(health: ChannelHealth) -> ChannelHealth | None:
            if self.breaker.gate(health, now).kind is not GateKind.PROBE:
                return None
            return self.breaker.probing(health, now)

        before, after = await self._change(message, run, claim)
        return after != before

    async def _pace(self, message: OutboundMessage, run: _Run) -> None:
        assert self.pacing is not None
        now = self.clock()
        if run.recent is None:
            since = now - self.pacing.lookback
            run.recent = await self.outbox.recent_sends(message.conversation_id, since=since)
        at = self.pacing.next_send_at(run.recent, now)
        if at <= now:
            return
        if at - now > MAX_INLINE_WAIT:
            await self._defer(message, at)
        await asyncio.sleep((at - now).total_seconds())

    # ------------------------------------------------------------------ the send

    async def _send(
        self, provider: MessagingProvider, message: OutboundMessage, template: object
    ) -> SentMessage:
        if isinstance(template, tuple):
            name, language, values = template
            return await provider.send_template(
                to=message.recipient,
                name=name,
                language=language,
                parameters=values,
                tracker=message.idempotency_key,
            )
        return await provider.send_text(
            to=message.recipient,
            body=message.text,
            reply_to=message.reply_to,
            tracker=message.idempotency_key,
        )

    # ------------------------------------------------------------------ after a failed send

    async def _failed_attempt(
        self, message: OutboundMessage, exc: SendError, run: _Run, *, probing: bool
    ) -> None:
        now = self.clock()
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AuthenticationFailed):
            if await self.providers.refresh(force=True):
                # The token was replaced meanwhile: go again at once with the new one.
                await self.outbox.release_attempt(
                    message.id, at=now, throttled=False, error_code=exc.code, error=error
                )
                await self._defer(message, now)
            # OU7: the token, not the message. Pause the channel; the attempt is not spent.
            await self._change(
                message, run, lambda h: self.breaker.rejected_token(h, now, reason=error[:200])
            )
            retry_at = now + self.breaker.degraded_probe
            await self.outbox.release_attempt(
                message.id, at=retry_at, throttled=False, error_code=exc.code, error=error
            )
            await self._record("channel.degraded", message, error_code=exc.code)
            log.error("deliver.token_rejected", provider=message.provider.value, code=exc.code)
            await self._defer(message, retry_at)
        if isinstance(exc, PairRateLimited):
            # OU6: this user gets messages more slowly; neither the message nor the channel
            # is at fault, so no attempt is spent and the breaker does not count it.
            wait = (
                self.pacing.slowdown(message.throttles + 1, exc.retry_after)
                if self.pacing is not None
                else timedelta(seconds=max(exc.retry_after or 0.0, 6.0))
            )
            await self.outbox.release_attempt(
                message.id, at=now + wait, throttled=True, error_code=exc.code, error=error
            )
            log.warning("deliver.pair_slowed", message_id=message.id, wait_s=wait.total_seconds())
            if probing:
                await self._channel_succeeded(message, run, probing=True)
            await self._defer(message, now + wait)
        if isinstance(exc, TransientSendError):
            await self._change(
                message, run, lambda h: self.breaker.failed(h, now, reason=error[:200])
            )
            await self._transient(message, exc, error)
            return
        assert isinstance(exc, PermanentSendError)
        # The provider answered: the channel works, this message cannot go.
        await self._channel_succeeded(message, run, probing=probing)
        await self._fail(message, exc.code, error, error_type=type(exc).__name__)

    async def _transient(
        self, message: OutboundMessage, exc: TransientSendError, error: str
    ) -> None:
        now = self.clock()
        attempt = message.attempts  # attempts made before this one
        if isinstance(exc, OutcomeUnknown):
            # It may have arrived: look for its status before anything else (OU9).
            reconcile_at = now + self.reconcile
            await self.outbox.outcome_unknown(message.id, reconcile_at=reconcile_at, error=error)
            log.warning("deliver.outcome_unknown", message_id=message.id, attempt=attempt)
            await self._defer(message, reconcile_at)
        if self.backoff.gives_up_after(attempt):
            await self._fail(message, exc.code, error, error_type=type(exc).__name__)
            log.error("deliver.gave_up", message_id=message.id, code=exc.code)
            return
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
        await self._defer(message, retry_at)  # later messages wait: order matters more

    async def _fail(
        self,
        message: OutboundMessage,
        code: str | None,
        error: str,
        *,
        error_type: str | None = None,
    ) -> None:
        email_due = self.email is not None
        await self.outbox.failed(message.id, error_code=code, error=error, email_due=email_due)
        await self._record(
            "message.failed", message, error_code=code, error_type=error_type, final=True
        )
        log.error("deliver.failed", message_id=message.id, error_type=error_type, code=code)

    # ------------------------------------------------------------------ channel health

    async def _change(
        self,
        message: OutboundMessage,
        run: _Run,
        transition: Callable[[ChannelHealth], ChannelHealth | None],
    ) -> tuple[ChannelHealth, ChannelHealth]:
        if self.health is None:
            return ChannelHealth(), ChannelHealth()
        before, after = await self.health.change(message.provider, message.channel_id, transition)
        run.health = after
        if before.state is not after.state:
            log.warning(
                "channel.state_changed",
                provider=message.provider.value,
                before=before.state.value,
                after=after.state.value,
            )
            if self.audit is not None:
                await self.audit.record(
                    AuditEvent(
                        action="channel.state_changed",
                        actor="worker",
                        subject=f"channel:{message.provider.value}",
                        details={"before": before.state.value, "after": after.state.value},
                    ),
                    at=self.clock(),
                )
        return before, after

    async def _channel_succeeded(
        self, message: OutboundMessage, run: _Run, *, probing: bool
    ) -> None:
        if self.health is None:
            return
        now = self.clock()
        # The common case (healthy and no failures counted, as this run last saw it) needs no
        # write; failures another process counts meanwhile are reset by its own next success.
        seen = run.health
        if not probing and seen is not None and seen.healthy and seen.failures == 0:
            return
        await self._change(message, run, lambda h: self.breaker.succeeded(h, now))

    # ------------------------------------------------------------------ e-mail fallback

    async def _send_emails_due(self, conversation_id: int) -> None:
        """OU4: what WhatsApp could not deliver goes by e-mail to the account's address."""
        if self.email is None:
            return
        for message in await self.outbox.emails_due(conversation_id):
            phone = None if is_group_chat(message.recipient) else message.recipient
            address = await self.email.contacts.email_for_conversation(conversation_id, phone)
            if not address:
                await self.outbox.email_outcome(message.id, status="no_address", error=None)
                continue
            try:
                await self.email.mailer.send(
                    MailMessage(
                        to=address,
                        subject=self.email.subject,
                        body=message.text,
                        message_id=message.idempotency_key,
                    )
                )
            except MailDeliveryError as exc:
                await self._email_failed(message, exc)
                continue
            await self.outbox.email_outcome(message.id, status="sent", error=None, attempted=True)
            await self._record("message.emailed", message)
            log.info("deliver.emailed", message_id=message.id)

    async def _email_failed(self, message: OutboundMessage, exc: MailDeliveryError) -> None:
        """A refusal (5xx) is final; a server that is down or says "try later" (4xx) gets
        more tries, from the queue, before the e-mail is given up on."""
        tries = message.email_attempts + 1
        if not exc.permanent and tries < MAX_EMAIL_ATTEMPTS:
            next_at = self.clock() + EMAIL_RETRY_BASE * (2 ** (tries - 1))
            await self.outbox.email_outcome(
                message.id, status="pending", error=str(exc)[:300], attempted=True, next_at=next_at
            )
            await self.outbox.defer_delivery(message.conversation_id, run_at=next_at)
            log.warning("deliver.email_retry", message_id=message.id, attempt=tries)
            return
        await self.outbox.email_outcome(
            message.id, status="failed", error=str(exc)[:300], attempted=True
        )
        await self._record("message.email_failed", message, permanent=exc.permanent)
        log.error("deliver.email_failed", message_id=message.id, permanent=exc.permanent)

    # ------------------------------------------------------------------ templates

    def _template(
        self, message: OutboundMessage, provider: MessagingProvider
    ) -> tuple[str, str, list[str]] | object | None:
        """How this message must go: None (free-form text), a template (name, language,
        values), or WINDOW_CLOSED when it may not go at all."""
        if message.template:
            t = message.template
            return str(t["name"]), str(t["language"]), [str(v) for v in t["parameters"]]
        needs_template = message.kind == "window_template" or (
            provider.capabilities.window_24h
            and not window_open(message.last_inbound_at, now=self.clock())
        )
        if not needs_template:
            return None
        fallback = self.templates.for_purpose(OUT_OF_WINDOW)
        if fallback is None or len(fallback.parameters) > 1:
            return WINDOW_CLOSED
        # The template's one parameter (if it has one) carries the message itself.
        return fallback.name, fallback.language, [message.text][: len(fallback.parameters)]


WINDOW_CLOSED = object()
