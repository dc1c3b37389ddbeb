"""Meta webhook payload → `WebhookBatch` (IN4, IN7). Pure: time is passed in, nothing raises.

Every entry, change, message and status is read; a part we cannot read becomes an
`Unsupported` message (when it has an id) or an `OtherEvent`, so nothing acknowledged is lost.
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
    InteractiveReply,
    Location,
    Media,
    OtherEvent,
    Provider,
    ProviderError,
    Reaction,
    ReplyContext,
    Sender,
    SharedContact,
    SharedContacts,
    StatusUpdate,
    SystemNotice,
    Text,
    Unsupported,
    WebhookBatch,
)
from wagate.domain.phone import InvalidPhoneNumber, normalise_international
from wagate.providers.payload import epoch, identifier, items, mapping, stable_digest, text

_MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
_STATUSES = {status.value: status for status in DeliveryStatus}
_KNOWN_VALUE_KEYS = frozenset(
    {"messaging_product", "metadata", "contacts", "messages", "statuses", "errors"}
)


def parse_payload(payload: Any, *, now: datetime) -> WebhookBatch:
    """Read a whole webhook body (already JSON-decoded)."""
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    others: list[OtherEvent] = []
    body = mapping(payload)
    entries = items(body.get("entry"))
    if not entries:
        others.append(_other(None, "unknown_payload", payload))
    for entry in entries:
        changes = items(entry.get("changes"))
        if not changes:
            others.append(_other(None, "unknown_entry", entry))
        for change in changes:
            _read_change(change, now, messages, statuses, others)
    return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses), others=tuple(others))


def _read_change(
    change: Mapping[str, Any],
    now: datetime,
    messages: list[InboundMessage],
    statuses: list[StatusUpdate],
    others: list[OtherEvent],
) -> None:
    field_name = identifier(change.get("field")) or "unknown"
    value = mapping(change.get("value"))
    channel_id = identifier(mapping(value.get("metadata")).get("phone_number_id"))
    if field_name != "messages" or channel_id is None:
        others.append(_other(channel_id, field_name, change))
        return
    senders = _senders_by_wa_id(value)
    change_errors = _errors(value.get("errors"))
    for raw in items(value.get("messages")):
        message = _message(raw, channel_id, senders, change_errors, now)
        if message is None:
            others.append(_other(channel_id, "unreadable_message", raw))
        else:
            messages.append(message)
    for raw in items(value.get("statuses")):
        status = _status(raw, channel_id, change_errors, now)
        if status is None:
            others.append(_other(channel_id, "unreadable_status", raw))
        else:
            statuses.append(status)
    extra = {key: value[key] for key in value.keys() - _KNOWN_VALUE_KEYS}
    if extra:
        # e.g. `message_echoes`, `calls`, `user_preferences`: kept for later, acknowledged now.
        others.append(_other(channel_id, "messages_extra", extra))


def _other(channel_id: str | None, field_name: str, raw: Any) -> OtherEvent:
    kept = raw if isinstance(raw, Mapping) else {"value": raw}
    return OtherEvent(
        provider=Provider.META,
        channel_id=channel_id,
        field_name=field_name,
        dedup_key=stable_digest("meta", channel_id, field_name, kept),
        raw=kept,
    )


# ---------------------------------------------------------------- senders


def _senders_by_wa_id(value: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    senders: dict[str, Mapping[str, Any]] = {}
    for contact in items(value.get("contacts")):
        for key in (text(contact.get("wa_id")), text(contact.get("user_id"))):
            if key:
                senders[key] = contact
    return senders


def _sender(raw: Mapping[str, Any], senders: Mapping[str, Mapping[str, Any]]) -> Sender | None:
    wa_id = text(raw.get("from"))
    user_id = text(raw.get("from_user_id"))
    contact = senders.get(wa_id or "") or senders.get(user_id or "") or {}
    user_id = user_id or text(contact.get("user_id"))
    phone: str | None = None
    if wa_id:
        try:
            phone = normalise_international(wa_id)
        except InvalidPhoneNumber:
            phone = None
    contact_key = phone or user_id or wa_id
    if contact_key is None:
        return None
    profile = mapping(contact.get("profile"))
    return Sender(
        contact_key=contact_key,
        phone=phone,
        user_id=user_id,
        parent_user_id=text(contact.get("parent_user_id")),
        username=text(profile.get("username")),
        name=text(profile.get("name")),
    )


# ---------------------------------------------------------------- messages


def _message(
    raw: Mapping[str, Any],
    channel_id: str,
    senders: Mapping[str, Mapping[str, Any]],
    change_errors: tuple[ProviderError, ...],
    now: datetime,
) -> InboundMessage | None:
    message_id = identifier(raw.get("id"))
    sender = _sender(raw, senders)
    if message_id is None or sender is None:
        return None
    return InboundMessage(
        provider=Provider.META,
        channel_id=channel_id,
        message_id=message_id,
        sender=sender,
        sent_at=epoch(raw.get("timestamp"), now),
        content=_content(raw, change_errors),
        context=_context(raw.get("context")),
        raw=raw,
    )


def _content(raw: Mapping[str, Any], change_errors: tuple[ProviderError, ...]) -> Content:
    kind = text(raw.get("type")) or "unknown"
    body = mapping(raw.get(kind))
    try:
        content = _typed_content(kind, body, raw)
    except (TypeError, ValueError):
        content = None
    if content is not None:
        return content
    errors = _errors(raw.get("errors")) or change_errors
    reason = errors[0].details or errors[0].title if errors else None
    subtype = text(mapping(raw.get("unsupported")).get("type"))
    return Unsupported(type_name=subtype or kind, reason=reason)


def _typed_content(kind: str, body: Mapping[str, Any], raw: Mapping[str, Any]) -> Content | None:
    if kind == "text":
        value = body.get("body")
        return Text(body=value) if isinstance(value, str) else None
    if kind in _MEDIA_TYPES:
        if not body:
            return None
        return Media(
            media_type=kind,
            media_id=text(body.get("id")),
            url=text(body.get("url")),
            mime_type=text(body.get("mime_type")),
            sha256=text(body.get("sha256")),
            caption=text(body.get("caption")),
            filename=text(body.get("filename")),
            voice=body.get("voice") is True,
            animated=body.get("animated") is True,
        )
    if kind == "interactive":
        return _interactive(body)
    if kind == "button":
        if not body:
            return None
        return ButtonTap(payload=text(body.get("payload")), text=text(body.get("text")))
    if kind == "location":
        if "latitude" not in body or "longitude" not in body:
            return None
        return Location(
            latitude=float(body["latitude"]),
            longitude=float(body["longitude"]),
            name=text(body.get("name")),
            address=text(body.get("address")),
            url=text(body.get("url")),
        )
    if kind == "contacts":
        shared = tuple(
            SharedContact(
                name=text(mapping(contact.get("name")).get("formatted_name")),
                phones=tuple(
                    p for p in (text(ph.get("phone")) for ph in items(contact.get("phones"))) if p
                ),
            )
            for contact in items(raw.get("contacts"))
        )
        return SharedContacts(contacts=shared) if shared else None
    if kind == "reaction":
        return Reaction(message_id=text(body.get("message_id")), emoji=text(body.get("emoji")))
    if kind == "system":
        return SystemNotice(
            notice_type=text(body.get("type")),
            body=text(body.get("body")),
            new_wa_id=text(body.get("wa_id")),
        )
    return None


def _interactive(body: Mapping[str, Any]) -> Content | None:
    reply_type = text(body.get("type"))
    if reply_type is None:
        return None
    reply = mapping(body.get(reply_type))
    if not reply:
        return None
    if reply_type == "nfm_reply":
        response = reply.get("response_json")
        return InteractiveReply(
            reply_type=reply_type,
            title=text(reply.get("name")),
            description=text(reply.get("body")),
            flow_response_json=response if isinstance(response, str) else None,
        )
    return InteractiveReply(
        reply_type=reply_type,
        reply_id=text(reply.get("id")),
        title=text(reply.get("title")),
        description=text(reply.get("description")),
    )


def _context(raw: Any) -> ReplyContext | None:
    context = mapping(raw)
    if not context:
        return None
    return ReplyContext(
        quoted_message_id=text(context.get("id")),
        forwarded=context.get("forwarded") is True,
        frequently_forwarded=context.get("frequently_forwarded") is True,
    )


# ---------------------------------------------------------------- statuses


def _status(
    raw: Mapping[str, Any],
    channel_id: str,
    change_errors: tuple[ProviderError, ...],
    now: datetime,
) -> StatusUpdate | None:
    message_id = identifier(raw.get("id"))
    status = _STATUSES.get(text(raw.get("status")) or "")
    if message_id is None or status is None:
        return None
    errors = _errors(raw.get("errors"))
    if status is DeliveryStatus.FAILED and not errors:
        errors = change_errors
    return StatusUpdate(
        provider=Provider.META,
        channel_id=channel_id,
        message_id=message_id,
        status=status,
        occurred_at=epoch(raw.get("timestamp"), now),
        recipient=text(raw.get("recipient_id")),
        errors=errors,
        tracker=identifier(raw.get("biz_opaque_callback_data")),
        raw=raw,
    )


def _errors(raw: Any) -> tuple[ProviderError, ...]:
    errors = []
    for error in items(raw):
        code = identifier(error.get("code"))
        if code is None:
            continue
        errors.append(
            ProviderError(
                code=code,
                title=text(error.get("title")),
                message=text(error.get("message")),
                details=text(mapping(error.get("error_data")).get("details")),
            )
        )
    return tuple(errors)
