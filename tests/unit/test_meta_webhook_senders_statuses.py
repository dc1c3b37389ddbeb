"""Meta webhooks: who wrote (phone, BSUID) and what happened to what we sent (protocol §3, §5)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wagate.domain.messages import DeliveryStatus, ProviderError
from wagate.providers.meta.webhook import parse_payload

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def _load(name: str) -> Any:
    return json.loads((DATA / "payloads" / name).read_text(encoding="utf-8"))


def _pywa(file: str, name: str) -> Any:
    return json.loads((DATA / "pywa" / f"pywa-{file}.json").read_text(encoding="utf-8"))[name]


def _value(payload: Any) -> dict[str, Any]:
    value: dict[str, Any] = payload["entry"][0]["changes"][0]["value"]
    return value


def text_payload() -> dict[str, Any]:
    return copy.deepcopy(_load("meta-inbound-text.json"))


# ---------------------------------------------------------------- senders


def test_sender_phone_is_the_normalised_wa_id_with_profile_name() -> None:
    [message] = parse_payload(text_payload(), now=NOW).messages
    assert message.sender.phone == "6281200000001"
    assert message.sender.contact_key == "6281200000001"
    assert message.sender.name == "Budi Santoso"


def test_bsuid_and_parent_bsuid_are_captured_from_contacts() -> None:
    payload = _pywa("message", "text")
    contact = _value(payload)["contacts"][0]
    [message] = parse_payload(payload, now=NOW).messages
    assert message.sender.user_id == contact["user_id"]
    assert message.sender.parent_user_id == contact["parent_user_id"]
    assert message.sender.phone == contact["wa_id"]


def test_from_user_id_on_the_message_is_the_bsuid() -> None:
    payload = _pywa("callback_button", "quick_reply_without_context")
    [message] = parse_payload(payload, now=NOW).messages
    assert message.sender.user_id == _value(payload)["messages"][0]["from_user_id"]


def test_message_with_only_a_bsuid_is_keyed_on_it() -> None:
    payload = text_payload()
    value = _value(payload)
    del value["messages"][0]["from"]
    value["messages"][0]["from_user_id"] = "ID.1234567890"
    value["contacts"] = [
        {"profile": {"name": "Budi", "username": "budi"}, "user_id": "ID.1234567890"}
    ]
    [message] = parse_payload(payload, now=NOW).messages
    assert message.sender.phone is None
    assert message.sender.contact_key == "ID.1234567890"
    assert (message.sender.name, message.sender.username) == ("Budi", "budi")


@pytest.mark.parametrize("wa_id", ["818012345678", "8613800138000", "821012345678"])
def test_foreign_wa_id_starting_with_8_is_kept_as_sent(wa_id: str) -> None:
    payload = text_payload()
    _value(payload)["messages"][0]["from"] = wa_id
    _value(payload)["contacts"][0]["wa_id"] = wa_id
    [message] = parse_payload(payload, now=NOW).messages
    assert message.sender.phone == wa_id


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("meta-status-sent.json", DeliveryStatus.SENT),
        ("meta-status-delivered-pmp.json", DeliveryStatus.DELIVERED),
        ("meta-status-read.json", DeliveryStatus.READ),
        ("meta-status-failed-131047.json", DeliveryStatus.FAILED),
    ],
)
def test_status_fixture_maps_to_delivery_status(name: str, expected: DeliveryStatus) -> None:
    payload = _load(name)
    [raw] = _value(payload)["statuses"]
    [status] = parse_payload(payload, now=NOW).statuses
    assert status.status is expected
    assert status.message_id == raw["id"]
    assert status.recipient == raw["recipient_id"]
    assert status.channel_id == "200000000000001"
    assert status.occurred_at == datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)


def test_failed_status_carries_the_131047_error() -> None:
    [status] = parse_payload(_load("meta-status-failed-131047.json"), now=NOW).statuses
    [error] = status.errors
    assert error.code == "131047"
    assert error.title == "Re-engagement message"
    assert error.details is not None and "24 hours" in error.details


def test_successful_statuses_carry_no_errors() -> None:
    for name in ("meta-status-sent.json", "meta-status-read.json"):
        [status] = parse_payload(_load(name), now=NOW).statuses
        assert status.errors == ()


def test_played_status_from_pywa() -> None:
    [status] = parse_payload(_pywa("message_status", "played"), now=NOW).statuses
    assert status.status is DeliveryStatus.PLAYED


def test_tracker_is_the_biz_opaque_callback_data() -> None:
    [status] = parse_payload(_pywa("message_status", "with_tracker"), now=NOW).statuses
    assert status.tracker == "some data"
    [plain] = parse_payload(_load("meta-status-sent.json"), now=NOW).statuses
    assert plain.tracker is None


def test_failed_status_without_own_errors_falls_back_to_change_errors() -> None:
    payload = copy.deepcopy(_load("meta-status-failed-131047.json"))
    value = _value(payload)
    value["errors"] = value["statuses"][0].pop("errors")
    [status] = parse_payload(payload, now=NOW).statuses
    assert [e.code for e in status.errors] == ["131047"]


def test_unknown_status_value_is_kept_as_an_unreadable_status() -> None:
    payload = copy.deepcopy(_load("meta-status-sent.json"))
    _value(payload)["statuses"][0]["status"] = "deleted"
    batch = parse_payload(payload, now=NOW)
    assert batch.statuses == ()
    [other] = batch.others
    assert other.field_name == "unreadable_status"
    assert other.raw["status"] == "deleted"


def test_provider_error_from_pywa_failed_status() -> None:
    [status] = parse_payload(_pywa("message_status", "failed"), now=NOW).statuses
    assert status.errors[0] == ProviderError(
        code="130472",
        title="User's number is part of an experiment",
        message="User's number is part of an experiment",
        details="Failed to send message because this user's phone number is part of an experiment",
    )
