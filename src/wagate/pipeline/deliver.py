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
from wagate.domain.retry import BackoffPolicy
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
            await self.outbox.start_attempt(message.id, at=self.clock())
            try:
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
