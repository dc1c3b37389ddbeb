"""Fonnte webhook bodies → `WebhookBatch` (fonnte.md §2): the kind is derived from which fields
are filled; statuses, device events and messages share one URL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wagate.domain.messages import (
    DeliveryStatus,
    Location,
    Media,
    Provider,
    Text,
    WebhookBatch,
)
from wagate.providers.fonnte.webhook import dedup_id, parse_payload

DATA = Path(__file__).parent.parent / "data" / "payloads"
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
INBOUND = sorted(DATA.glob("fonnte-inbound-*.json"))


def load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((DATA / f"fonnte-{name}.json").read_text(encoding="utf-8"))
    return body


def only_message(body: dict[str, Any]) -> Any:
    batch = parse_payload(body, now=NOW)
    assert batch.statuses == () and batch.others == ()
    [message] = batch.messages
    return message


@pytest.mark.parametrize("path", INBOUND, ids=lambda p: p.stem)
def test_every_inbound_fixture_is_one_message_from_the_device(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    message = only_message(body)
    assert message.provider is Provider.FONNTE
    assert message.channel_id == body["device"]
    assert message.sender.name == body["name"]
    assert message.sent_at == datetime.fromtimestamp(body["timestamp"], tz=UTC)
    assert message.raw == body


def test_inbound_fixture_set_is_the_documented_four() -> None:
    assert [p.stem for p in INBOUND] == [
        "fonnte-inbound-group",
        "fonnte-inbound-location",
        "fonnte-inbound-media",
        "fonnte-inbound-text",
    ]


def test_private_text_is_text_from_the_sender_number() -> None:
    body = load("inbound-text")
    message = only_message(body)
    assert message.content == Text(body=body["message"])
    assert message.sender.phone == body["sender"]
    assert message.sender.contact_key == body["sender"]
    assert message.sender.group_id is None


def test_media_is_a_url_reference_with_filename_and_caption() -> None:
    body = load("inbound-media")
    message = only_message(body)
    assert message.content == Media(
        media_type="image", url=body["url"], filename=body["filename"], caption=body["message"]
    )


@pytest.mark.parametrize(
    ("extension", "media_type"),
    [("JPG", "image"), ("mp4", "video"), ("ogg", "audio"), ("pdf", "document"), ("", "document")],
)
def test_media_type_follows_the_extension(extension: str, media_type: str) -> None:
    body = {**load("inbound-media"), "extension": extension}
    content = only_message(body).content
    assert isinstance(content, Media) and content.media_type == media_type


def test_group_message_is_keyed_on_the_group_and_authored_by_the_member() -> None:
    body = load("inbound-group")
    message = only_message(body)
    assert message.sender.contact_key == body["sender"]
    assert message.sender.group_id == body["sender"]
    assert message.sender.phone == body["member"]
    assert message.content == Text(body=body["message"])


def test_location_is_parsed_into_float_coordinates() -> None:
    message = only_message(load("inbound-location"))
    assert message.content == Location(latitude=-6.2001, longitude=106.8166)


def test_unreadable_location_is_unsupported_not_an_exception() -> None:
    body = {**load("inbound-location"), "location": "somewhere,else"}
    content = only_message(body).content
    assert content.kind == "unsupported"


def test_button_text_is_a_button_tap() -> None:
    body = {**load("inbound-text"), "message": "", "text": "Ya"}
    content = only_message(body).content
    assert content.kind == "button"
    assert (content.payload, content.text) == ("Ya", "Ya")


def test_pesan_is_read_when_message_is_absent() -> None:
    body = load("inbound-text")
    body["pesan"] = body.pop("message")
    assert only_message(body).content == Text(body="Halo admin, stok masih ada?")


def test_pesan_is_read_when_message_is_an_empty_string() -> None:
    body = {**load("inbound-text"), "message": "", "pesan": "Halo admin"}
    assert only_message(body).content == Text(body="Halo admin")


# ---------------------------------------------------------------- statuses and device events


def test_status_webhook_is_a_status_update_for_the_sent_id() -> None:
    body = load("status-webhook")
    batch = parse_payload(body, now=NOW)
    assert batch.messages == () and batch.others == ()
    [status] = batch.statuses
    assert status.message_id == body["id"]
    assert status.channel_id == body["device"]
    # state (WhatsApp delivery) "delivered" outranks status (processing) "sent"
    assert status.status is DeliveryStatus.DELIVERED
    assert status.occurred_at == NOW  # the fixture has no timestamp


@pytest.mark.parametrize("process", ["invalid", "expired", "url unreachable"])
def test_failed_processing_is_failed_whatever_the_state(process: str) -> None:
    body = {**load("status-webhook"), "status": process}
    [status] = parse_payload(body, now=NOW).statuses
    assert status.status is DeliveryStatus.FAILED


@pytest.mark.parametrize(
    ("status", "state", "expected"),
    [
        ("sent", None, DeliveryStatus.SENT),
        ("pending", None, DeliveryStatus.ACCEPTED),
        (None, "read", DeliveryStatus.READ),
        ("sent", "READ", DeliveryStatus.READ),
    ],
)
def test_status_vocabulary(status: str | None, state: str | None, expected: DeliveryStatus) -> None:
    body: dict[str, Any] = {"device": "6282200000000", "id": "80367170"}
    if status:
        body["status"] = status
    if state:
        body["state"] = state
    [update] = parse_payload(body, now=NOW).statuses
    assert update.status is expected


def test_device_status_is_an_event_without_the_device_token() -> None:
    body = load("device-status-webhook")
    batch = parse_payload(body, now=NOW)
    assert batch.messages == () and batch.statuses == ()
    [event] = batch.others
    assert event.field_name == "device_status"
    assert event.channel_id == body["device"]
    assert "token" not in event.raw
    assert body["token"] not in json.dumps(dict(event.raw))
    assert event.raw["status"] == "disconnect"


def test_device_event_dedup_key_does_not_depend_on_the_token() -> None:
    body = load("device-status-webhook")
    [first] = parse_payload(body, now=NOW).others
    [second] = parse_payload({**body, "token": "another"}, now=NOW).others
    assert first.dedup_key == second.dedup_key


def test_body_with_neither_sender_nor_status_is_an_unknown_event() -> None:
    batch = parse_payload({"foo": "bar"}, now=NOW)
    assert isinstance(batch, WebhookBatch)
    assert [o.field_name for o in batch.others] == ["unknown"]


def test_sender_that_is_not_a_number_is_an_unreadable_message_event() -> None:
    body = {**load("inbound-text"), "sender": "not-a-number"}
    [event] = parse_payload(body, now=NOW).others
    assert event.field_name == "unreadable_message"


# ---------------------------------------------------------------- dedup ids and coercion


def test_dedup_id_uses_device_and_inboxid() -> None:
    body = load("inbound-text")
    assert only_message(body).message_id == f"{body['device']}:{body['inboxid']}"


def test_dedup_id_without_inboxid_is_a_stable_content_hash() -> None:
    body = load("inbound-group")  # the group fixture has no inboxid
    same = dict(reversed(list(body.items())))
    first = only_message(body).message_id
    assert first == only_message(same).message_id == dedup_id(body)
    assert str(body["timestamp"]) not in first and body["message"] not in first


@pytest.mark.parametrize(
    "change", [{"timestamp": 1735689721}, {"message": "Rapat jam 4"}, {"member": "6281200000003"}]
)
def test_dedup_hash_changes_with_the_content(change: dict[str, Any]) -> None:
    body = load("inbound-group")
    assert dedup_id({**body, **change}) != dedup_id(body)


def test_millisecond_timestamp_is_the_same_moment() -> None:
    body = load("inbound-text")
    in_ms = {**body, "timestamp": body["timestamp"] * 1000}
    assert only_message(in_ms).sent_at == only_message(body).sent_at
    assert only_message(body).sent_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_numbers_as_ints_or_strings_parse_the_same() -> None:
    as_strings = {k: str(v) for k, v in load("inbound-text").items()}
    as_ints = {
        **as_strings,
        "device": 6282200000000,
        "sender": 6281200000001,
        "timestamp": 1735689600,
        "inboxid": 123456789,
    }
    a, b = only_message(as_strings), only_message(as_ints)
    assert (a.message_id, a.sender, a.sent_at, a.channel_id) == (
        b.message_id,
        b.sender,
        b.sent_at,
        b.channel_id,
    )
    assert a.sender.phone == "6281200000001"


def test_foreign_sender_starting_with_8_is_kept_as_sent() -> None:
    body = {**load("inbound-text"), "sender": "818012345678"}
    assert only_message(body).sender.phone == "818012345678"
