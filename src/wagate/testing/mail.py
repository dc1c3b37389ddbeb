"""A Mailer and ContactEmails in one: every contact has `address`, and mail lands in `sent`."""

from __future__ import annotations

from dataclasses import dataclass, field

from wagate.pipeline.ports import MailDeliveryError, MailMessage


@dataclass
class Mailbox:
    address: str | None = "klien@example.co.id"
    sent: list[MailMessage] = field(default_factory=list)
    fail: MailDeliveryError | None = None  # raised by every send while set

    async def send(self, message: MailMessage) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)

    async def email_for_conversation(
        self, conversation_id: int, phone: str | None = None
    ) -> str | None:
        return self.address
