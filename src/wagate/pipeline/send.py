"""Messages an operator sends (OU8) and link codes (ID3): queued like replies, delivered in the
conversation's order by its job, idempotent on the caller's key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from wagate.domain.capabilities import Capabilities
from wagate.domain.formatting import split_message
from wagate.domain.messages import Provider
from wagate.domain.phone import InvalidPhoneNumber, is_group_chat, normalise_phone
from wagate.domain.window import TemplateError, TemplateSet


class SendRejected(ValueError):
    """The request cannot be sent as asked; the message says why."""


class OperatorOutbox(Protocol):
    async def enqueue(
        self,
        *,
        provider: Provider,
        channel_id: str,
        target: str,
        text: str,
        key: str,
        kind: str,
        run_at: datetime,
        template: Mapping[str, object] | None = None,
    ) -> tuple[int | None, int]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SendReceipt:
    idempotency_keys: tuple[str, ...]
    conversation_id: int
    provider: Provider
    target: str
    queued: int  # parts newly queued; 0 when every key had been used before


@dataclass(kw_only=True)
class OperatorSend:
    outbox: OperatorOutbox
    channels: Mapping[Provider, str]  # the configured providers and their default channel
    capabilities: Mapping[Provider, Capabilities]  # what each configured provider can send
    clock: Callable[[], datetime]
    templates: TemplateSet = field(default_factory=TemplateSet)

    async def send_template(
        self,
        target: str,
        name: str,
        parameters: Mapping[str, str] | Sequence[str],
        *,
        language: str | None = None,
        key: str | None = None,
    ) -> SendReceipt:
        """A configured template (TP1): allowed outside the 24-hour window, through the first
        configured provider that sends templates."""
        template = self.templates.named(name)
        if template is None:
            raise SendRejected(f"no template named {name!r} is configured")
        chosen = next((p for p in self.channels if self.capabilities[p].templates), None)
        if chosen is None:
            raise SendRejected("no configured provider sends templates (Meta Cloud API does)")
        try:
            values = template.values(parameters)
        except TemplateError as exc:
            raise SendRejected(str(exc)) from exc
        number = self._number(target)
        part_key = key or f"template:{uuid.uuid4()}"
        outbound_id, conversation_id = await self.outbox.enqueue(
            provider=chosen,
            channel_id=self.channels[chosen],
            target=number,
            text=f"[template {template.name}]",
            key=part_key,
            kind="template",
            run_at=self.clock(),
            template={
                "name": template.name,
                "language": language or template.language,
                "parameters": values,
            },
        )
        return SendReceipt(
            idempotency_keys=(part_key,),
            conversation_id=conversation_id,
            provider=chosen,
            target=number,
            queued=int(outbound_id is not None),
        )

    def _number(self, target: str) -> str:
        try:
            return target.strip() if is_group_chat(target.strip()) else normalise_phone(target)
        except InvalidPhoneNumber as exc:
            raise SendRejected("target is not a phone number") from exc

    async def send(
        self,
        target: str,
        text: str,
        *,
        provider: Provider | None = None,
        key: str | None = None,
        kind: str = "operator",
    ) -> SendReceipt:
        if not self.channels:
            raise SendRejected("no WhatsApp provider is configured")
        chosen = provider or next(iter(self.channels))
        if chosen not in self.channels:
            raise SendRejected(f"provider {chosen.value} is not configured")
        if not text.strip():
            raise SendRejected("message is empty")
        number = self._number(target)
        base_key = key or f"operator:{uuid.uuid4()}"
        parts = split_message(text)
        keys = tuple(base_key if len(parts) == 1 else f"{base_key}:{i}" for i in range(len(parts)))
        queued, conversation_id = 0, 0
        for part_key, part in zip(keys, parts, strict=True):
            outbound_id, conversation_id = await self.outbox.enqueue(
                provider=chosen,
                channel_id=self.channels[chosen],
                target=number,
                text=part,
                key=part_key,
                kind=kind,
                run_at=self.clock(),
            )
            queued += outbound_id is not None
        return SendReceipt(
            idempotency_keys=keys,
            conversation_id=conversation_id,
            provider=chosen,
            target=number,
            queued=queued,
        )
