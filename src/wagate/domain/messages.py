"""Our own value types for everything a provider tells us (IN4, IN7).

Provider adapters parse their payloads into these; nothing past the adapter sees a vendor dict.
Every type is frozen, slotted and keyword-only, and holds no client or session references.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class Provider(str):
    """A provider adapter's name: an open set, so an adapter that is not built in (a plugin)
    brings its own. Stored as text; `Provider.META` and `Provider.FONNTE` are the built-ins.

    Names are interned, so `Provider("meta") is Provider.META` holds like it did for the enum
    this replaces. A name is lower-case ASCII (letters, digits, `-`, `_`; 32 at most) because it
    appears in URLs, metrics labels and log lines.
    """

    META: ClassVar[Provider]
    FONNTE: ClassVar[Provider]
    # Weak: a name parsed from a request that names no provider is not kept forever.
    _interned: ClassVar[weakref.WeakValueDictionary[str, Provider]] = weakref.WeakValueDictionary()

    def __new__(cls, name: object) -> Provider:
        if isinstance(name, Provider):
            return name
        if not isinstance(name, str) or not _PROVIDER_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is not a provider name (lower-case letters, digits, '-' or '_')"
            )
        interned = cls._interned.get(name)
        if interned is None:
            interned = super().__new__(cls, name)
            cls._interned[name] = interned
        return interned

    @property
    def value(self) -> str:
        """The name as plain text (what the enum's `.value` gave)."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Provider({self.value!r})"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> Any:
        # pydantic (the API body, the CLI through typer) asks the type how to validate it. The
        # schema is pydantic-core's plain-dict form, so the domain needs no import of pydantic.
        return {
            "type": "function-after",
            "function": {"type": "no-info", "function": cls},
            "schema": {"type": "str", "pattern": f"^{_PROVIDER_NAME.pattern}$"},
            "serialization": {"type": "to-string"},
        }

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema.update(
            {
                "title": "Provider",
                "description": "A configured provider's name: meta, fonnte, or a plugin's own.",
                "examples": ["meta", "fonnte"],
            }
        )
        return schema


Provider.META = Provider("meta")
Provider.FONNTE = Provider("fonnte")


# ---------------------------------------------------------------- who wrote


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """The person behind an inbound message.

    `contact_key` is what a conversation is keyed on: the normalised phone number where the
    provider gives one, else Meta's business-scoped user id (BSUID), else the group id.
    """

    contact_key: str
    phone: str | None = None
    user_id: str | None = None  # Meta BSUID, e.g. "US.1349…"
    parent_user_id: str | None = None
    username: str | None = None
    name: str | None = None  # WhatsApp profile (push) name
    group_id: str | None = None  # Fonnte group chats: the group; `phone` is then the member


# ---------------------------------------------------------------- what they wrote


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    body: str
    kind: str = field(default="text", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractiveReply:
    """A tap on a reply button or list row we sent, or a completed WhatsApp Flow."""

    reply_type: str  # button_reply | list_reply | nfm_reply
    reply_id: str | None = None
    title: str | None = None
    description: str | None = None
    flow_response_json: str | None = None  # nfm_reply: JSON text of the Flow's last screen
    kind: str = field(default="interactive", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonTap:
    """A tap on a template's quick-reply button."""

    payload: str | None
    text: str | None
    kind: str = field(default="button", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """A reference to media held by the provider; bytes are fetched later, never inline."""

    media_type: str  # image | video | audio | document | sticker
    media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False
    kind: str = field(default="media", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None
    kind: str = field(default="location", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedContact:
    name: str | None
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedContacts:
    contacts: tuple[SharedContact, ...]
    kind: str = field(default="contacts", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    message_id: str | None
    emoji: str | None  # None or "" means the reaction was removed
    kind: str = field(default="reaction", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemNotice:
    notice_type: str | None  # user_changed_number | customer_identity_changed | …
    body: str | None
    new_wa_id: str | None = None
    kind: str = field(default="system", init=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsupported:
    """Anything we cannot model (yet): kept whole in the raw payload, acknowledged, not dropped."""

    type_name: str
    reason: str | None = None
    kind: str = field(default="unsupported", init=False)


Content = (
    Text
    | InteractiveReply
    | ButtonTap
    | Media
    | Location
    | SharedContacts
    | Reaction
    | SystemNotice
    | Unsupported
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyContext:
    """What an inbound message refers to: a quoted message, or a forwarding mark."""

    quoted_message_id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    provider: Provider
    channel_id: str  # Meta phone_number_id, Fonnte device number: where the user wrote to
    message_id: str  # provider id; unique per provider (the dedup key)
    sender: Sender
    sent_at: datetime  # the provider's timestamp: order a burst by this, not by arrival
    content: Content
    context: ReplyContext | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # the message object as received


# ---------------------------------------------------------------- delivery statuses


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"


# Statuses arrive out of order and duplicated: an outbound message only ever moves up this
# ladder, and `failed` is terminal (IN7).
_STATUS_RANK = {
    DeliveryStatus.ACCEPTED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.PLAYED: 4,
    DeliveryStatus.FAILED: 100,
}


def status_rank(status: DeliveryStatus) -> int:
    return _STATUS_RANK[status]


def advances(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    """True when `new` may replace `current`: never backwards, nothing after `failed`."""
    if current is None:
        return True
    if current is DeliveryStatus.FAILED:
        return False
    return status_rank(new) > status_rank(current)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderError:
    code: str
    title: str | None = None
    message: str | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    provider: Provider
    channel_id: str
    message_id: str  # the id the provider gave our outbound message
    status: DeliveryStatus
    occurred_at: datetime
    recipient: str | None = None
    errors: tuple[ProviderError, ...] = ()
    tracker: str | None = None  # Meta biz_opaque_callback_data
    raw: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- everything else


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherEvent:
    """A webhook part that is neither a message nor a status (template updates, calls, device
    status, shapes we do not know). Stored as unsupported and acknowledged (IN4)."""

    provider: Provider
    channel_id: str | None
    field_name: str
    dedup_key: str  # a stable hash of the part, so redeliveries are stored once
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookBatch:
    """Everything one webhook delivery carried, in the order it carried it."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    others: tuple[OtherEvent, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.messages or self.statuses or self.others)
