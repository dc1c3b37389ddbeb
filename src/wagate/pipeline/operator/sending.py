"""Messages an operator sends (OU8), link codes (ID3) and templates (TP1): queued like replies,
delivered in the conversation's order by its job, idempotent on the caller's key.

Every message to a number leaves through `Sending._queue`, which asks the recipient check first:
a rule about who may be written to (opt-outs) goes there once and covers every operator path; a
refusal is a Conflict and is audited (`recipients.py`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wagate.domain.capabilities import Capabilities
from wagate.domain.file_types import HEAD_BYTES, sniff
from wagate.domain.flows import FlowMessage
from wagate.domain.formatting import split_message
from wagate.domain.messages import Provider
from wagate.domain.operators import Permission
from wagate.domain.outbound_files import (
    UploadLimits,
    UploadRefused,
    check_upload,
    kind_for,
    shown_name,
)
from wagate.domain.phone import InvalidPhoneNumber, is_group_chat, normalise_phone
from wagate.domain.rich_messages import (
    FileMessage,
    InteractiveMessage,
    InvalidRichMessage,
    ReactionMessage,
    RichMessage,
)
from wagate.domain.window import TemplateError, TemplateSet, window_open
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected, Unavailable
from wagate.pipeline.operator.ports import (
    Delivery,
    DeliveryLog,
    IncomingFile,
    Outbox,
    RecipientCheck,
    WindowLookup,
)
from wagate.pipeline.operator.recipients import AnyoneMayBeWritten, Recipients
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.ports import Kept, MediaVault, NewUpload, StorageUnavailable

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
    vault: MediaVault | None = None  # where uploaded files are kept sealed (`send_file`)
    upload_limits: UploadLimits = field(default_factory=UploadLimits)

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
        chosen = self._chosen(provider)
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
        return await self._one_part_sent(
            by, part_key, conversation_id, chosen, number, outbound_id, parts=1, rich=kind
        )

    async def send_file(
        self,
        target: str,
        file: IncomingFile,
        *,
        by: Actor,
        caption: str | None = None,
        kind: str | None = None,
        filename: str | None = None,
        provider: Provider | None = None,
        key: str | None = None,
    ) -> SendReceipt:
        """A document or image the operator uploads (not a link): checked by its bytes
        (`domain/outbound_files`), kept sealed in the vault, queued with its outbound row;
        delivery uploads it to the provider and sends it (`pipeline/outbound_files`). The
        checks that need no bytes (provider, window, recipient) come first, so a refused
        send reads nothing. `kind`: document or image (None: a JPEG or PNG within the photo
        limit goes as an image, anything else as a document)."""
        by.require(Permission.OPERATE)
        chosen = self._chosen(provider)
        able = self.capabilities[chosen]
        if not able.media_uploads:
            raise Rejected(
                f"provider {chosen.value} cannot send uploaded files: send a link instead "
                "(media.link, wagate send --document URL)"
            )
        if self.vault is None:
            raise Rejected("no file store is configured to keep uploaded files")
        number = recipient(target)
        await self._ensure_window(chosen, number)
        await Recipients(recorder=self.recorder, check=self.check).ensure(
            number, by=by, path=OPERATOR_KIND, provider=chosen.value, channel=self.channels[chosen]
        )
        head = await _head(file)
        actual = sniff(head, filename or file.filename)
        try:
            as_kind = kind_for(actual, file.size, self.upload_limits, kind)
            check_upload(
                kind=as_kind,
                actual=actual,
                size=file.size,
                filename=filename or file.filename,
                declared_mime=file.content_type,
                limits=self.upload_limits,
                provider_ceiling=able.upload_max_bytes,
            )
        except UploadRefused as exc:
            await self.recorder.record(
                by, "operator.refused_file", f"provider:{chosen.value}", problem=exc.problem
            )
            raise Rejected(str(exc)) from exc
        limit = self.upload_limits.for_kind(as_kind, able.upload_max_bytes)
        kept = await self._keep(file, limit)
        try:
            message = FileMessage.parse(
                {
                    "type": as_kind,
                    "filename": shown_name(filename or file.filename, actual),
                    "mimeType": actual.mime,
                    "size": kept.size,
                    "sha256": kept.sha256,
                    **({"caption": caption} if caption else {}),
                }
            )
            part_key = f"{by.via}:{key}" if key else f"operator:{uuid.uuid4()}"
            outbound_id, conversation_id = await self._queue(
                chosen,
                number,
                message.summary(),
                key=part_key,
                kind=OPERATOR_KIND,
                by=by,
                rich=message.as_json(),
                upload=NewUpload(
                    kept=kept,
                    file_type=actual,
                    declared_mime=file.content_type,
                    filename=message.filename,
                ),
            )
        except InvalidRichMessage as exc:
            await self.vault.discard(kept)
            raise Rejected(str(exc)) from exc
        except BaseException:
            await self.vault.discard(kept)
            raise
        if outbound_id is None:  # the key was used before for this same file: queued once
            await self.vault.discard(kept)
        return await self._one_part_sent(
            by,
            part_key,
            conversation_id,
            chosen,
            number,
            outbound_id,
            parts=1,
            rich="upload",
            kind=as_kind,
            fileType=actual.name,
            size=kept.size,
        )

    async def _one_part_sent(
        self,
        by: Actor,
        part_key: str,
        conversation_id: int,
        provider: Provider,
        number: str,
        outbound_id: int | None,
        *,
        action: str = "operator.send",
        **details: Any,
    ) -> SendReceipt:
        """The receipt of a one-part send (a rich message, a file, a template), and its audit
        record under `action`."""
        receipt = SendReceipt(
            idempotency_keys=(part_key,),
            conversation_id=conversation_id,
            provider=provider,
            target=number,
            queued=int(outbound_id is not None),
        )
        await self.recorder.record(
            by, action, f"conversation:{conversation_id}", queued=receipt.queued, **details
        )
        return receipt

    async def _keep(self, file: IncomingFile, limit: int) -> Kept:
        """The file streamed into the vault through `limit` (a size that lied is caught as
        the bytes pass); nothing is left behind when it fails."""
        assert self.vault is not None

        async def bounded() -> AsyncIterator[bytes]:
            seen = 0
            async for piece in file.chunks():
                seen += len(piece)
                if seen > limit:
                    raise UploadRefused(
                        f"the file is over the {limit}-byte limit", problem="too_large"
                    )
                yield piece

        try:
            kept = await self.vault.keep(bounded())
        except UploadRefused as exc:
            raise Rejected(str(exc)) from exc
        except StorageUnavailable as exc:
            raise Unavailable("the file store is unavailable: try again later") from exc
        if kept.size != file.size:  # the file changed while it was read
            await self.vault.discard(kept)
            raise Rejected("the file changed while it was read: send it again")
        return kept

    def _chosen(self, provider: Provider | None) -> Provider:
        if not self.channels:
            raise Rejected("no WhatsApp provider is configured")
        chosen = provider or next(iter(self.channels))
        if chosen not in self.channels:
            raise Rejected(f"provider {chosen.value} is not configured")
        return chosen

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
        return await self._one_part_sent(
            by,
            part_key,
            conversation_id,
            chosen,
            number,
            outbound_id,
            action="operator.send_template",
            template=template.name,
        )

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
        upload: NewUpload | None = None,
    ) -> tuple[int | None, int]:
        await Recipients(recorder=self.recorder, check=self.check).ensure(
            number, by=by, path=kind, provider=provider.value, channel=self.channels[provider]
        )
        # Only what a message has is named: an outbox written before Flows, rich messages or
        # uploaded files sends the rest.
        extra: dict[str, Any] = {
            name: value
            for name, value in (
                ("flow", flow),
                ("rich", rich),
                ("code_template", code_template),
                ("upload", upload),
            )
            if value is not None
        }
        return await self.outbox.enqueue(
            provider=provider,
            channel_id=self.channels[provider],
            target=number,
            text=text,
            key=key,
            kind=kind,
            run_at=self.recorder.clock(),
            template=template,
            **extra,
        )


async def _head(file: IncomingFile) -> bytes:
    """The first HEAD_BYTES of the file (or all of a smaller one), for the sniffer."""
    head = bytearray()
    chunks = file.chunks()
    try:
        async for piece in chunks:
            head += piece
            if len(head) >= HEAD_BYTES:
                break
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    return bytes(head[:HEAD_BYTES])


def _rich_kind(message: RichMessage) -> str:
    """`media`, `interactive` or `reaction`: what the capability check and the audit name."""
    if isinstance(message, InteractiveMessage):
        return "interactive"
    if isinstance(message, ReactionMessage):
        return "reaction"
    return "media"
