"""Delivery (OU1, OU9): send what a run decided, in order, each message at most once.

Every outbound message exists as a row with an idempotency key before any provider call, and
the attempt is recorded before the call too; a transient failure schedules a later attempt on
the queue (so it survives restarts) and holds back the conversation's later messages, so parts
of an answer never arrive out of order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.domain.errors import PermanentSendError, TransientSendError
from wagate.domain.messages import Provider
from wagate.domain.retry import BackoffPolicy
from wagate.domain.window import OUT_OF_WINDOW, TemplateSet, window_open
from wagate.pipeline.ports import OutboundMessage, Outbox, ProviderDirectory

log = structlog.get_logger(__name__)


@dataclass(kw_only=True)
class Deliver:
    outbox: Outbox
    providers: ProviderDirectory
    backoff: BackoffPolicy
    clock: Callable[[], datetime]
    jitter: Callable[[], float] = field(default=random.random)
    audit: AuditTrail | None = None
    templates: TemplateSet = field(default_factory=TemplateSet)

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
        accepted = 0
        if self.templates.for_purpose(OUT_OF_WINDOW) is not None:
            await self.outbox.reroute_window_failures(conversation_id)
        for message in await self.outbox.pending(conversation_id):
            if message.next_attempt_at is not None and message.next_attempt_at > self.clock():
                # Not due yet, and everything after it waits with it.
                await self.outbox.defer_delivery(conversation_id, run_at=message.next_attempt_at)
                return accepted
            provider = self.providers.get(message.provider, message.channel_id)
            if provider is None:
                await self.outbox.failed(
                    message.id, error_code=None, error=f"provider {message.provider} not configured"
                )
                continue
            template = self._template(message)
            if template is WINDOW_CLOSED:
                # CP5, predicted before sending: no free-form message outside the window.
                await self.outbox.failed(
                    message.id,
                    error_code="window_closed",
                    error="outside the 24-hour window and no out_of_window template is configured",
                )
                await self._record("message.window_closed", message, final=True)
                continue
            await self.outbox.start_attempt(message.id, at=self.clock())
            try:
                if isinstance(template, tuple):
                    name, language, values = template
                    sent = await provider.send_template(
                        to=message.recipient,
                        name=name,
                        language=language,
                        parameters=values,
                        tracker=message.idempotency_key,
                    )
                else:
                    sent = await provider.send_text(
                        to=message.recipient,
                        body=message.text,
                        reply_to=message.reply_to,
                        tracker=message.idempotency_key,
                    )
            except TransientSendError as exc:
                attempt = message.attempts  # attempts made before this one
                error = f"{type(exc).__name__}: {exc}"
                if self.backoff.gives_up_after(attempt):
                    await self.outbox.failed(message.id, error_code=exc.code, error=error)
                    await self._record(
                        "message.failed",
                        message,
                        error_code=exc.code,
                        error_type=type(exc).__name__,
                        final=True,
                    )
                    log.error("deliver.gave_up", message_id=message.id, code=exc.code)
                    continue
                retry_at = self.clock() + self.backoff.delay(
                    attempt, jitter=self.jitter(), retry_after=exc.retry_after
                )
                await self.outbox.retry_later(
                    message.id, at=retry_at, error_code=exc.code, error=error
                )
                await self.outbox.defer_delivery(conversation_id, run_at=retry_at)
                log.warning(
                    "deliver.retry",
                    message_id=message.id,
                    attempt=attempt,
                    error_type=type(exc).__name__,
                    code=exc.code,
                )
                return accepted  # later messages wait: order matters more than speed
            except PermanentSendError as exc:
                await self.outbox.failed(
                    message.id, error_code=exc.code, error=f"{type(exc).__name__}: {exc}"
                )
                await self._record(
                    "message.failed",
                    message,
                    error_code=exc.code,
                    error_type=type(exc).__name__,
                    final=True,
                )
                log.error(
                    "deliver.failed",
                    message_id=message.id,
                    error_type=type(exc).__name__,
                    code=exc.code,
                )
                continue
            await self.outbox.accepted(
                message.id, provider_message_id=sent.provider_message_id, at=self.clock()
            )
            await self._record("message.sent", message, attempt=message.attempts + 1)
            accepted += 1
        return accepted

    def _template(self, message: OutboundMessage) -> tuple[str, str, list[str]] | object | None:
        """How this message must go: None (free-form text), a template (name, language,
        values), or WINDOW_CLOSED when it may not go at all."""
        if message.template:
            t = message.template
            return str(t["name"]), str(t["language"]), [str(v) for v in t["parameters"]]
        needs_template = message.kind == "window_template" or (
            message.provider is Provider.META
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
