"""Messages an operator sends (OU8), link codes (ID3) and templates (TP1): queued like replies,
delivered in the conversation's order by its job, idempotent on the caller's key.

Every message to a number leaves through `Sending._queue`, which asks the recipient check first:
a rule about who may be written to (opt-outs) goes there once and covers every operator path; a
refusal is a Conflict and is audited (`recipients.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wagate.domain.capabilities import Capabilities
from wagate.domain.flows import FlowMessage
from wagate.domain.formatting import split_message
from wagate.domain.messages import Provider
from wagate.domain.operators import Permission
from wagate.domain.phone import InvalidPhoneNumber, is_group_chat, normalise_phone
from wagate.domain.rich_messages import InteractiveMessage, ReactionMessage, RichMessage
from wagate.domain.window import TemplateError, TemplateSet, window_open
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.ports import (
    Delivery,
    DeliveryLog,
    Outbox,
    RecipientCheck,
    WindowLookup,
)
from wagate.pipeline.operator.recipients import AnyoneMayBeWritten, Recipients
from wagate.pipeline.operator.recorder import Recorder

__all__ = ["OPERATOR_KIND", "AnyoneMayBeWritten", "SendReceipt", "Sending", "recipient"]

OPERATOR_KIND = "operator"  # the outbound rows of an operator's message


@dataclass(frozen=True, slots=True, kw_only=True)
class SendReceipt:
    idempotency_keys: tuple[str, ...]
    conversation_id: int
    provider: Provider
    target: str
    queued: int  # parts newly queued; 0 when every key had been used before

    def as_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "target": self.target,
            "provider": self.provider.value,
            "conversationId": self.conversation_id,
            "idempotencyKeys": list(self.idempotency_keys),
        }


def recipient(target: str) -> str:
    """A group chat id as given, a phone number in canonical form; else Rejected."""
    try:
        return target.strip() if is_group_chat(target.strip()) else normalise_phone(target)
    except InvalidPhoneNumber as exc:
        raise Rejected("target is not a phone number") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Sending:
    outbox: Outbox
    channels: Mapping[Provider, str]  # the configured providers and their default channel
    capabilities: Mapping[Provider, Capabilities]  # what each configured provider can send
    recorder: Recorder
    templates: TemplateSet = field(default_factory=TemplateSet)
    check: RecipientCheck = field(default_factory=AnyoneMayBeWritten)
    deliveries: DeliveryLog | None = None  # where a queued message is (`delivery`)

    async def send(
        self,
        target: str,
        text: str,
        *,
        by: Actor,
        provider: Provider | None = None,
        key: str | None = None,
    ) -> SendReceipt:
        """Free text, split into parts under WhatsApp's limit; `key` makes it idempotent
        (namespaced by the door, so an API key never collides with a CLI one)."""
        by.require(Permission.OPERATE)
        receipt = await self.text(
            target, text, by=by, provider=provider, key=f"{by.via}:{key}" if key else None
        )
        await self.recorder.record(
            by,
            "operator.send",
            f"conversation:{receipt.conversation_id}",
            queued=receipt.queued,
            parts=len(receipt.idempotency_keys),
        )
        return receipt

    async def send_rich(
        self,
        target: str,
        message: RichMessage,
        *,
        by: Actor,
        provider: Provider | None = None,
        key: str | None = None,
    ) -> SendReceipt:
        """A document, image, interactive message or reaction (checked by `rich_messages`),
        through a provider that declares it can send it. Free-form: outside the contact's
        24-hour window it is refused (a Conflict), never turned into a template."""
        by.require(Permission.OPERATE)
        if not self.channels:
            raise Rejected("no WhatsApp provider is configured")
        chosen = provider or next(iter(self.channels))
        if chosen not in self.channels:
            raise Rejected(f"provider {chosen.value} is not configured")
        kind = _rich_kind(message)
        able = self.capabilities[chosen]
        if not {"interactive": able.interactive, "reaction": able.reactions}.get(kind, able.media):
            what = {"interactive": "interactive messages", "reaction": "reactions"}.get(
                kind, "documents and images"
            )
            raise Rejected(f"provider {chosen.value} cannot send {what}")
        number = recipient(target)
        await self._ensure_window(chosen, number)
        part_key = f"{by.via}:{key}" if key else f"operator:{uuid.uuid4()}"
        outbound_id, conversation_id = await self._queue(
            chosen,
            number,
            message.summary(),
            key=part_key,
            kind=OPERATOR_KIND,
            by=by,
            rich=message.as_json(),
        )
        receipt = SendReceipt(
            idempotency_keys=(part_key,),
            conversation_id=conversation_id,
            provider=chosen,
            target=number,
            queued=int(outbound_id is not None),
        )
        await self.recorder.record(
            by,
            "operator.send",
            f"conversation:{conversation_id}",
            queued=receipt.queued,
            parts=1,
            rich=kind,
        )
        return receipt

    async def _ensure_window(self, provider: Provider, number: str) -> None:
        """Only templates may go outside the 24-hour window of a provider that has one."""
        if not self.capabilities[provider].window_24h or not isinstance(self.outbox, WindowLookup):
            return
        last = await self.outbox.last_inbound(provider, number)
        if not window_open(last, now=self.recorder.clock()):
            raise Conflict(
                "the contact has not written in the last 24 hours: only a template may be "
                "sent (POST /api/whatsapp/send-template)"
            )

    async def send_template(
        self,
        target: str,
        name: str,
        parameters: Mapping[str, str] | Sequence[str],
        *,
        by: Actor,
        language: str | None = None,
        key: str | None = None,
    ) -> SendReceipt:
        """A configured template: allowed outside the 24-hour window, through the first
        configured provider that sends templates."""
        by.require(Permission.OPERATE)
        template = self.templates.named(name)
        if template is None:
            raise Rejected(f"no template named {name!r} is configured")
        chosen = next((p for p in self.channels if self.capabilities[p].templates), None)
        if chosen is None:
            raise Rejected("no configured provider sends templates (Meta Cloud API does)")
        try:
            values = template.values(parameters)
        except TemplateError as exc:
            raise Rejected(str(exc)) from exc
        number = recipient(target)
        part_key = f"{by.via}:{key}" if key else f"template:{uuid.uuid4()}"
        outbound_id, conversation_id = await self._queue(
            chosen,
            number,
            f"[template {template.name}]",
            key=part_key,
            kind="template",
            by=by,
            template={
                "name": template.name,
                "language": language or template.language,
                "parameters": values,
                # Named parameters ({{nama}}) travel beside their names; positional ones alone.
                **(
                    {"parameter_names": list(template.parameter_names)}
                    if template.parameter_names
                    else {}
                ),
            },
        )
        receipt = SendReceipt(
            idempotency_keys=(part_key,),
            conversation_id=conversation_id,
            provider=chosen,
            target=number,
            queued=int(outbound_id is not None),
        )
        await self.recorder.record(
            by,
            "operator.send_template",
            f"conversation:{conversation_id}",
            template=template.name,
            queued=receipt.queued,
        )
        return receipt

    async def delivery(self, key: str, *, by: Actor) -> Delivery:
        """Where the message queued under this idempotency key (as a receipt names it) is:
        its status, attempts and the statuses its provider reported. A read: not audited."""
        by.require(Permission.READ)
        found = await self.deliveries.delivery(key) if self.deliveries is not None else None
        if found is None:
            raise NotFound(f"no outbound message has the key {key!r}")
        return found

    async def text(
        self,
        target: str,
        text: str,
        *,
        by: Actor,
        provider: Provider | None = None,
        key: str | None = None,
        kind: str = OPERATOR_KIND,
        code_template: Mapping[str, object] | None = None,
    ) -> SendReceipt:
        """Queue a text without an audit record of its own: for actions that record themselves
        (a link code is `account.link_code_sent`). `by` is named in a refusal's record.
        `code_template` (a link code's AUTHENTICATION template) is how the text goes outside
        the 24-hour window; it needs the text in one part."""
        by.require(Permission.OPERATE)
        if not self.channels:
            raise Rejected("no WhatsApp provider is configured")
        chosen = provider or next(iter(self.channels))
        if chosen not in self.channels:
            raise Rejected(f"provider {chosen.value} is not configured")
        if not text.strip():
            raise Rejected("message is empty")
        number = recipient(target)
        base_key = key or f"operator:{uuid.uuid4()}"
        parts = split_message(text)
        keys = tuple(base_key if len(parts) == 1 else f"{base_key}:{i}" for i in range(len(parts)))
        queued, conversation_id = 0, 0
        for part_key, part in zip(keys, parts, strict=True):
            outbound_id, conversation_id = await self._queue(
                chosen, number, part, key=part_key, kind=kind, by=by, code_template=code_template
            )
            queued += outbound_id is not None
        return SendReceipt(
            idempotency_keys=keys,
            conversation_id=conversation_id,
            provider=chosen,
            target=number,
            queued=queued,
        )

    async def flow(
        self,
        target: str,
        invitation: Callable[[str], FlowMessage],
        text: str,
        *,
        by: Actor,
        key: str,
        kind: str,
    ) -> SendReceipt:
        """Queue a WhatsApp Flow message (FL1) through the first configured provider that sends
        Flows, without an audit record of its own (the caller records). `invitation(key)` is
        the message for that idempotency key; `text` goes instead where the Flow cannot (a
        template outside the 24-hour window)."""
        by.require(Permission.OPERATE)
        chosen = next((p for p in self.channels if self.capabilities[p].flows), None)
        if chosen is None:
            raise Rejected("no configured provider sends WhatsApp Flows (Meta Cloud API does)")
        number = recipient(target)
        outbound_id, conversation_id = await self._queue(
            chosen, number, text, key=key, kind=kind, by=by, flow=invitation(key).as_json()
        )
        return SendReceipt(
            idempotency_keys=(key,),
            conversation_id=conversation_id,
            provider=chosen,
            target=number,
            queued=int(outbound_id is not None),
        )

    async def may_write(self, number: str, *, by: Actor, path: str) -> None:
        """The recipient check alone, for an action that must refuse before it stores anything
        (Conflict, audited)."""
        chosen = next(iter(self.channels), None)
        await Recipients(recorder=self.recorder, check=self.check).ensure(
            number,
            by=by,
            path=path,
            provider=chosen.value if chosen else None,
            channel=self.channels[chosen] if chosen else None,
        )

    async def _queue(
        self,
        provider: Provider,
        number: str,
        text: str,
        *,
        key: str,
        kind: str,
        by: Actor,
        template: Mapping[str, object] | None = None,
        flow: Mapping[str, object] | None = None,
        rich: Mapping[str, object] | None = None,
        code_template: Mapping[str, object] | None = None,
    ) -> tuple[int | None, int]:
        await Recipients(recorder=self.recorder, check=self.check).ensure(
            number, by=by, path=kind, provider=provider.value, channel=self.channels[provider]
        )
        return await self.outbox.enqueue(
            provider=provider,
            channel_id=self.channels[provider],
            target=number,
            text=text,
            key=key,
            kind=kind,
            run_at=self.recorder.clock(),
            template=template,
            # Only a Flow message names `flow`: an outbox that predates Flows sends the rest.
            **({"flow": flow} if flow is not None else {}),
            **({"rich": rich} if rich is not None else {}),
            **({"code_template": code_template} if code_template is not None else {}),
        )


def _rich_kind(message: RichMessage) -> str:
    """`media`, `interactive` or `reaction`: what the capability check and the audit name."""
    if isinstance(message, InteractiveMessage):
        return "interactive"
    if isinstance(message, ReactionMessage):
        return "reaction"
    return "media"
