"""Builders of provider webhook bodies in the shapes the real providers send."""

from __future__ import annotations

import itertools
import time
from typing import Any

_sequence = itertools.count(1)


def new_wamid(prefix: str = "wamid.FAKE") -> str:
    return f"{prefix}{time.time_ns():x}{next(_sequence):06d}"


def meta_envelope(
    phone_number_id: str,
    value: dict[str, Any],
    *,
    waba_id: str = "100000000000001",
    field: str = "messages",
) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def meta_text(
    *,
    phone_number_id: str,
    sender: str,
    text: str,
    message_id: str | None = None,
    timestamp: int | None = None,
    name: str = "Pengguna Sandbox",
    user_id: str | None = None,
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": name}, "wa_id": sender}
    if user_id:
        contact["user_id"] = user_id
    message = {
        "from": sender,
        "id": message_id or new_wamid(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    return meta_envelope(phone_number_id, {"contacts": [contact], "messages": [message]})


def meta_flow_completion(
    *,
    phone_number_id: str,
    sender: str,
    response_json: str,
    message_id: str | None = None,
    flow_message_id: str | None = None,
    name: str = "Pengguna Sandbox",
) -> dict[str, Any]:
    """A completed WhatsApp Flow (`nfm_reply`), as the protocol's meta-inbound-nfm-reply.json:
    `response_json` is the Flow's completion payload as a JSON text."""
    message: dict[str, Any] = {
        "from": sender,
        "id": message_id or new_wamid(),
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"response_json": response_json, "body": "Sent", "name": "flow"},
        },
    }
    if flow_message_id:
        message["context"] = {"from": "15550000000", "id": flow_message_id}
    contact = {"profile": {"name": name}, "wa_id": sender}
    return meta_envelope(phone_number_id, {"contacts": [contact], "messages": [message]})


def meta_button_reply(
    *,
    phone_number_id: str,
    sender: str,
    button_id: str,
    title: str,
    replying_to: str | None = None,
    name: str = "Pengguna Sandbox",
) -> dict[str, Any]:
    """A tap on a reply button we sent (`interactive.button_reply`), as the protocol's
    meta-inbound-button-reply.json."""
    message: dict[str, Any] = {
        "from": sender,
        "id": new_wamid(),
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }
    if replying_to:
        message["context"] = {"from": "15550000000", "id": replying_to}
    contact = {"profile": {"name": name}, "wa_id": sender}
    return meta_envelope(phone_number_id, {"contacts": [contact], "messages": [message]})


def meta_status(
    *,
    phone_number_id: str,
    message_id: str,
    status: str,
    recipient: str,
    timestamp: int | None = None,
    error_code: int | None = None,
    tracker: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient,
    }
    if tracker is not None:
        item["biz_opaque_callback_data"] = tracker
    if error_code is not None:
        item["errors"] = [
            {
                "code": error_code,
                "title": f"error {error_code}",
                "message": f"error {error_code}",
                "error_data": {"details": f"simulated error {error_code}"},
            }
        ]
    return meta_envelope(phone_number_id, {"statuses": [item]})


def fonnte_text(
    *,
    device: str,
    sender: str,
    text: str,
    inbox_id: int | None = None,
    name: str = "Pengguna Sandbox",
    timestamp: int | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "device": device,
        "sender": sender,
        "message": text,
        "text": "",
        "member": "",
        "name": name,
        "location": "",
        "url": "",
        "filename": "",
        "extension": "",
        "timestamp": timestamp if timestamp is not None else int(time.time()),
    }
    if inbox_id is not None:
        fields["inboxid"] = inbox_id
    return fields
