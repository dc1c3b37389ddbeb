"""E-mail fallback (OU4): what WhatsApp could not deliver goes by e-mail to the contact's
account address. A refusal (5xx) is final; a mail server that is down or says "try later" (4xx)
gets more tries, from the conversation's queue, before the e-mail is given up on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from wagate.domain.outbound import EmailStatus
from wagate.domain.phone import is_group_chat
from wagate.pipeline.outbound_audit import OutboundAudit
from wagate.pipeline.ports import (
    ContactEmails,
    MailDeliveryError,
    Mailer,
    MailMessage,
    OutboundMessage,
    Outbox,
)

log = structlog.get_logger("wagate.pipeline.deliver")

# Tries for a temporarily failing mail server, 5 s apart and doubling.
MAX_EMAIL_ATTEMPTS = 6
EMAIL_RETRY_BASE = timedelta(seconds=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailFallback:
    """The configuration: where mail goes out, where addresses come from, the subject."""

    mailer: Mailer
    contacts: ContactEmails
    subject: str


@dataclass(kw_only=True)
class SendEmails:
    fallback: EmailFallback
    outbox: Outbox
    clock: Callable[[], datetime]
    record: OutboundAudit

    async def __call__(self, conversation_id: int) -> None:
        """Mail every message of the conversation that failed for good and is due; the
        idempotency key is the Message-ID, so a resend is recognisable."""
        for message in await self.outbox.emails_due(conversation_id):
            phone = None if is_group_chat(message.recipient) else message.recipient
            address = await self.fallback.contacts.email_for_conversation(conversation_id, phone)
            if not address:
                await self.outbox.email_outcome(
                    message.id, status=EmailStatus.NO_ADDRESS, error=None
                )
                continue
            try:
                await self.fallback.mailer.send(
                    MailMessage(
                        to=address,
                        subject=self.fallback.subject,
                        body=message.text,
                        message_id=message.idempotency_key,
                    )
                )
            except MailDeliveryError as exc:
                await self._failed(message, exc)
                continue
            await self.outbox.email_outcome(
                message.id, status=EmailStatus.SENT, error=None, attempted=True
            )
            await self.record("message.emailed", message)
            log.info("deliver.emailed", message_id=message.id)

    async def _failed(self, message: OutboundMessage, exc: MailDeliveryError) -> None:
        tries = message.email_attempts + 1
        if not exc.permanent and tries < MAX_EMAIL_ATTEMPTS:
            next_at = self.clock() + EMAIL_RETRY_BASE * (2 ** (tries - 1))
            await self.outbox.email_outcome(
                message.id,
                status=EmailStatus.PENDING,
                error=str(exc)[:300],
                attempted=True,
                next_at=next_at,
            )
            await self.outbox.defer_delivery(message.conversation_id, run_at=next_at)
            log.warning("deliver.email_retry", message_id=message.id, attempt=tries)
            return
        await self.outbox.email_outcome(
            message.id, status=EmailStatus.FAILED, error=str(exc)[:300], attempted=True
        )
        await self.record("message.email_failed", message, permanent=exc.permanent)
        log.error("deliver.email_failed", message_id=message.id, permanent=exc.permanent)
