"""Fonnte webhook body → `WebhookBatch` (IN3). Pure: time passed in, nothing raises.

Fonnte documents no type field: the kind is derived from which fields are filled. One URL may
receive incoming messages, message statuses and device statuses; they are told apart by content.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from wagate.domain.messages import (
    ButtonTap,
    Content,
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    OtherEvent,
    Provider,
    Sender,
    StatusUpdate,
    Text,
    Unsupported,
    WebhookBatch,
)
from wagate.domain.phone import InvalidPhoneNumber, is_group_chat, normalise_international
from wagate.providers.payload import clean_tree, epoch, identifier, mapping, stable_digest, text

# Fonnte's processing vocabulary (`status`) and WhatsApp delivery vocabulary (`state`).
_STATE = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.PLAYED,
}
_PROCESS = {
    "sent": DeliveryStatus.SENT,
    "invalid": DeliveryStatus.FAILED,
    "expired": DeliveryStatus.FAILED,
    "url unreachable": DeliveryStatus.FAILED,
    "pending": DeliveryStatus.ACCEPTED,
    "processing": DeliveryStatus.ACCEPTED,
    "waiting": DeliveryStatus.ACCEPTED,
}
_MEDIA_BY_EXTENSION = {
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "webp": "image",
    "gif": "image",
    "mp4": "video",
    "3gp": "video",
    "mov": "video",
    "ogg": "audio",
    "opus": "audio",
    "mp3": "audio",
    "m4a": "audio",
    "aac": "audio",
}
_SECRET_FIELDS = ("token",)


def parse_payload(payload: Mapping[str, Any], *, now: datetime) -> WebhookBatch:
    """Read one Fonnte webhook body (form fields or JSON object)."""
    # Cleaned once: the raw body is kept for the record and must be storable as it is.
    body = clean_tree({k: v for k, v in payload.items() if k not in _SECRET_FIELDS})
    device = identifier(body.get("device"))
    sender_raw = text(body.get("sender"))
    if (
        sender_raw is None
        and text(body.get("id"))
        and (text(body.get("status")) or text(body.get("state")) or text(body.get("stateid")))
    ):
        status = _status(body, device, now)
        if status is not None:
            return WebhookBatch(statuses=(status,))
    if sender_raw is None:
        field_name = "device_status" if device and text(body.get("status")) else "unknown"
        return WebhookBatch(others=(_other(device, field_name, body),))
    message = _message(body, device or "unknown", sender_raw, now)
    if message is None:
        return WebhookBatch(others=(_other(device, "unreadable_message", body),))
    return WebhookBatch(messages=(message,))


def dedup_id(body: Mapping[str, Any]) -> str:
    """Fonnte's `inboxid` where the inbox feature gives one, else a stable content hash."""
    device = identifier(body.get("device")) or "unknown"
    inbox_id = identifier(body.get("inboxid")) or identifier(body.get("id"))
    if inbox_id:
        return identifier(f"{device}:{inbox_id}") or inbox_id
    fields = ("sender", "member", "message", "pesan", "text", "url", "location", "timestamp")
    return "h:" + stable_digest(device, *(text(body.get(f)) for f in fields))


def _message(
    body: Mapping[str, Any], device: str, sender_raw: str, now: datetime
) -> InboundMessage | None:
    group = is_group_chat(sender_raw)
    author = text(body.get("member")) if group else sender_raw
    phone: str | None = None
    if author:
        try:
            phone = normalise_international(author)
        except InvalidPhoneNumber:
            phone = None
    if not group and phone is None:
        return None
    sender = Sender(
        contact_key=sender_raw if group else phone or sender_raw,
        phone=phone,
        name=text(body.get("name")),
        group_id=sender_raw if group else None,
    )
    return InboundMessage(
        provider=Provider.FONNTE,
        channel_id=device,
        message_id=dedup_id(body),
        sender=sender,
        sent_at=epoch(body.get("timestamp"), now),
        content=_content(body),
        raw=body,
    )


def _content(body: Mapping[str, Any]) -> Content:
    message = text(body.get("message")) or text(body.get("pesan"))
    url = text(body.get("url"))
    if url:
        extension = (text(body.get("extension")) or "").lower().lstrip(".")
        return Media(
            media_type=_MEDIA_BY_EXTENSION.get(extension, "document"),
            url=url,
            filename=text(body.get("filename")),
            caption=message,
        )
    location = text(body.get("location"))
    if location:
        latitude, _, longitude = location.partition(",")
        try:
            return Location(latitude=float(latitude), longitude=float(longitude))
        except ValueError:
            return Unsupported(type_name="location", reason="unreadable coordinates")
    if text(body.get("pollname")):
        return Unsupported(type_name="poll", reason="poll answers are not modelled")
    button = text(body.get("text"))
    if button:
        return ButtonTap(payload=button, text=button)
    # The text as sent (not stripped): `message`, or its alias `pesan` when `message` is empty.
    for key in ("message", "pesan"):
        raw = body.get(key)
        if isinstance(raw, str) and raw.strip():
            return Text(body=raw)
    return Text(body=message or "")


def _status(body: Mapping[str, Any], device: str | None, now: datetime) -> StatusUpdate | None:
    state = _STATE.get((text(body.get("state")) or "").lower())
    process = _PROCESS.get((text(body.get("status")) or "").lower())
    # A failure in processing outranks a plausible-looking state.
    status = process if process is DeliveryStatus.FAILED else state or process
    message_id = identifier(body.get("id"))
    if status is None or message_id is None:
        return None
    return StatusUpdate(
        provider=Provider.FONNTE,
        channel_id=device or "unknown",
        message_id=message_id,
        status=status,
        occurred_at=epoch(body.get("timestamp"), now),
        raw=body,
    )


def _other(device: str | None, field_name: str, body: Mapping[str, Any]) -> OtherEvent:
    return OtherEvent(
        provider=Provider.FONNTE,
        channel_id=device,
        field_name=field_name,
        dedup_key=stable_digest("fonnte", device, field_name, dict(mapping(body))),
        raw=body,
    )
