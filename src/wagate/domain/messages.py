"""Our own value types for everything a provider tells us (IN4, IN7).

Provider adapters parse their payloads into these; nothing past the adapter sees a vendor dict.
Every type is frozen, slotted and keyword-only, and holds no client or session references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Provider(StrEnum):
    META = "meta"
    FONNTE = "fonnte"


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
