"""Meta webhooks that are broken in every way we could think of: the parser must never raise,
never drop a part, and give the same dedup key to the same part on every redelivery (IN4)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wagate.domain.messages import OtherEvent, Text, Unsupported
from wagate.providers.meta.webhook import parse_payload

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def _pywa(file: str, name: str) -> Any:
    return json.loads((DATA / "pywa" / f"pywa-{file}.json").read_text(encoding="utf-8"))[name]


def _value(payload: Any) -> dict[str, Any]:
    value: dict[str, Any] = payload["entry"][0]["changes"][0]["value"]
    return value


def text_payload() -> dict[str, Any]:
    path = DATA / "payloads" / "meta-inbound-text.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    "payload", [[], [1, 2], "text", None, 42, {}, {"entry": "x"}, {"entry": [1, "x"]}]
)
def test_payload_that_is_not_an_envelope_becomes_one_unknown_event(payload: Any) -> None:
    batch = parse_payload(payload, now=NOW)
    assert batch.messages == () and batch.statuses == ()
    [other] = batch.others
    assert other.field_name == "unknown_payload"
    assert other.channel_id is None


@pytest.mark.parametrize("changes", [None, [], "x", [1]], ids=["absent", "empty", "str", "int"])
def test_entry_without_changes_becomes_an_unknown_entry_event(changes: Any) -> None:
    entry: dict[str, Any] = {"id": "100000000000001"}
    if changes is not None:
        entry["changes"] = changes
    [other] = parse_payload({"entry": [entry]}, now=NOW).others
    assert other.field_name == "unknown_entry"


def test_change_with_another_field_becomes_an_event_named_after_it() -> None:
    payload = text_payload()
    payload["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    batch = parse_payload(payload, now=NOW)
    assert batch.messages == ()
    [other] = batch.others
    assert other.field_name == "message_template_status_update"
    assert other.channel_id == "200000000000001"


def test_messages_change_without_phone_number_id_is_not_routed() -> None:
    payload = text_payload()
    del _value(payload)["metadata"]["phone_number_id"]
    batch = parse_payload(payload, now=NOW)
    assert batch.messages == ()
    assert [o.field_name for o in batch.others] == ["messages"]


def test_message_without_id_is_an_unreadable_event_and_its_neighbour_still_parses() -> None:
    payload = text_payload()
    messages = _value(payload)["messages"]
    messages.append({**messages[0], "id": "wamid.SECOND"})
    del messages[0]["id"]
    batch = parse_payload(payload, now=NOW)
    assert [m.message_id for m in batch.messages] == ["wamid.SECOND"]
    [other] = batch.others
    assert other.field_name == "unreadable_message"


@pytest.mark.parametrize("body", [42, None, {"x": 1}, ["a"], True])
def test_text_with_a_non_string_body_is_unsupported_text(body: Any) -> None:
    payload = text_payload()
    _value(payload)["messages"][0]["text"] = {"body": body}
    [message] = parse_payload(payload, now=NOW).messages
    assert message.content == Unsupported(type_name="text")


def test_empty_string_body_is_still_text() -> None:
    payload = text_payload()
    _value(payload)["messages"][0]["text"] = {"body": ""}
    [message] = parse_payload(payload, now=NOW).messages
    assert message.content == Text(body="")


@pytest.mark.parametrize("latitude", ["north", None, [1.0], {"deg": 1}])
def test_unreadable_coordinates_are_unsupported_location(latitude: Any) -> None:
    payload = text_payload()
    raw = _value(payload)["messages"][0]
    raw["type"] = "location"
    raw["location"] = {"latitude": latitude, "longitude": 106.8}
    [message] = parse_payload(payload, now=NOW).messages
    assert isinstance(message.content, Unsupported) and message.content.type_name == "location"


@pytest.mark.parametrize("stamp", ["garbage", "", None, "-5", 0, "1e999", [1], 10**30])
def test_unreadable_timestamp_falls_back_to_now(stamp: Any) -> None:
    payload = text_payload()
    _value(payload)["messages"][0]["timestamp"] = stamp
    [message] = parse_payload(payload, now=NOW).messages
    assert message.sent_at == NOW


def test_extra_value_keys_are_kept_as_one_event_beside_the_messages() -> None:
    payload = text_payload()
    _value(payload)["message_echoes"] = [{"id": "wamid.ECHO"}]
    batch = parse_payload(payload, now=NOW)
    assert len(batch.messages) == 1
    [other] = batch.others
    assert other.field_name == "messages_extra"
    assert other.raw == {"message_echoes": [{"id": "wamid.ECHO"}]}


def _keys(payload: Any) -> list[str]:
    return [o.dedup_key for o in parse_payload(payload, now=NOW).others]


@pytest.mark.parametrize(
    "payload",
    [_pywa("template_status_update", "approved"), _pywa("call_connect", "user_initiated"), [1]],
    ids=["template", "call", "list"],
)
def test_same_payload_parsed_twice_gives_the_same_dedup_keys(payload: Any) -> None:
    first, second = _keys(payload), _keys(copy.deepcopy(payload))
    assert first and first == second


def test_dedup_key_ignores_key_order_but_not_content() -> None:
    payload = _pywa("template_status_update", "approved")
    value = payload["entry"][0]["changes"][0]["value"]
    reordered = copy.deepcopy(payload)
    reordered["entry"][0]["changes"][0]["value"] = dict(reversed(list(value.items())))
    changed = copy.deepcopy(payload)
    changed["entry"][0]["changes"][0]["value"]["event"] = "REJECTED"
    assert _keys(reordered) == _keys(payload)
    assert _keys(changed) != _keys(payload)


def test_other_events_are_other_event_instances() -> None:
    batch = parse_payload(_pywa("account_update", "account_deleted"), now=NOW)
    assert all(isinstance(o, OtherEvent) for o in batch.others)
    assert [o.field_name for o in batch.others] == ["account_update"]
