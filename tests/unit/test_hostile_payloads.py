"""Issue 10 at the edge: the readers clean what PostgreSQL cannot hold, and refuse bodies no
real delivery looks like, before anything is parsed or stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagate.fakes.payloads import fonnte_text, meta_status, meta_text
from wagate.providers.fonnte import webhook as fonnte
from wagate.providers.meta import webhook as meta
from wagate.providers.payload import (
    MAX_DEPTH,
    MAX_IDENTIFIER_CHARS,
    MAX_LIST_ITEMS,
    PayloadRejected,
    check_shape,
    clean,
    clean_tree,
    decode_json,
    epoch,
    identifier,
    stable_digest,
    text,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_clean_removes_nul_and_replaces_lone_surrogates() -> None:
    assert clean("a\x00b") == "ab"
    assert clean("a\ud800b") == "a\ufffdb"
    assert clean("biasa") == "biasa"
    assert text(" \x00 ") is None
    assert text("x\x00y") == "xy"


def test_text_survives_numbers_orjson_can_produce() -> None:
    assert text(1.2345678901234568e29) == "123456789012345677877719597056"
    assert text(float("nan")) is None
    assert text(float("inf")) is None
    assert text(2**80) == str(2**80)


def test_long_identifiers_become_a_stable_digest() -> None:
    long_id = "wamid." + "x" * 3000
    digest = identifier(long_id)
    assert digest is not None and digest.startswith("h:")
    assert len(digest) < MAX_IDENTIFIER_CHARS
    assert identifier(long_id) == digest  # redeliveries still deduplicate
    assert identifier("wamid.short") == "wamid.short"


def test_timestamps_ahead_of_receipt_are_clamped() -> None:
    year_2100 = 4_102_444_800
    assert epoch(year_2100, NOW) == NOW
    assert epoch(year_2100 * 1000, NOW) == NOW
    slightly_ahead = NOW + timedelta(minutes=2)
    assert epoch(slightly_ahead.timestamp(), NOW) == slightly_ahead  # within the tolerance
    assert epoch("1e400", NOW) == NOW
    assert epoch(float("nan"), NOW) == NOW


def _nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 255, 1023])
def test_deep_json_is_refused_with_a_reason(levels: int) -> None:
    with pytest.raises(PayloadRejected, match="nested deeper"):
        decode_json(b'{"entry":' + _nested(levels) + b"}")


def test_json_within_the_depth_bound_can_always_be_written_back() -> None:
    payload = decode_json(b'{"entry":' + _nested(MAX_DEPTH - 2) + b"}")
    # What storage and the digests do with a raw payload: wrap it and write it.
    orjson.dumps({"raw": {"document": payload}})
    stable_digest("meta", None, "unknown", payload)


def test_deliveries_wider_than_any_real_one_are_refused() -> None:
    with pytest.raises(PayloadRejected, match="more than"):
        decode_json(b'{"entry":[' + b",".join([b"{}"] * 300_000) + b"]}")
    many_changes = {"entry": [{"changes": [{} for _ in range(40)]} for _ in range(100)]}
    with pytest.raises(PayloadRejected, match="entries, changes or messages"):
        decode_json(orjson.dumps(many_changes))


def test_a_thousand_statuses_are_still_accepted() -> None:
    statuses = [{"id": f"w{i}", "status": "read", "timestamp": "1"} for i in range(1000)]
    body = orjson.dumps({"entry": [{"changes": [{"value": {"statuses": statuses}}]}]})
    assert decode_json(body)["entry"][0]["changes"][0]["value"]["statuses"][999]["id"] == "w999"


def test_meta_identifiers_with_nul_are_cleaned() -> None:
    payload = meta_text(phone_number_id="123\x00", sender="6281234567890", text="x")
    payload["entry"][0]["changes"][0]["field"] = "messa\x00ges"
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = "wamid.A\x00B"
    batch = meta.parse_payload(payload, now=NOW)
    [parsed] = batch.messages
    assert (parsed.message_id, parsed.channel_id) == ("wamid.AB", "123")


def test_meta_status_error_details_with_nul_are_cleaned() -> None:
    payload = meta_status(
        phone_number_id="1", message_id="wamid.\x00S", status="failed", recipient="62812"
    )
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["errors"] = [{"code": "13\x0001", "error_data": {"details": "ra\x00sa"}}]
    [parsed] = meta.parse_payload(payload, now=NOW).statuses
    assert parsed.message_id == "wamid.S"
    assert parsed.errors[0].code == "1301"
    assert parsed.errors[0].details == "rasa"


def test_fonnte_fields_with_nul_or_surrogates_are_cleaned_raw_included() -> None:
    fields = fonnte_text(device="62822\x00", sender="6281234567890", text="a\ud800", inbox_id=9)
    fields["inboxid"] = "9\x00"
    [message] = fonnte.parse_payload(fields, now=NOW).messages
    assert message.channel_id == "62822"
    assert message.message_id == "62822:9"
    orjson.dumps(message.raw)  # storable as it is


def test_clean_tree_makes_any_tree_writable() -> None:
    tree = {"k\x00": ["\ud800", 2**70, {"x": None}]}
    assert orjson.loads(orjson.dumps(clean_tree(tree))) == {
        "k": ["\ufffd", str(2**70), {"x": None}]
    }


# --- the size shortcut of decode_json (issue 18): short bodies skip the shape walk ---------


def test_a_short_body_nested_too_deep_is_still_refused() -> None:
    body = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)  # 130 bytes: short, but deep
    with pytest.raises(PayloadRejected, match="nested deeper"):
        decode_json(body)


def test_the_shortest_list_over_the_bound_is_longer_than_the_shortcut_allows() -> None:
    body = b"[" + b",".join([b"0"] * (MAX_LIST_ITEMS + 1)) + b"]"
    with pytest.raises(PayloadRejected, match="a list of more than"):
        decode_json(body)
    decode_json(b"[" + b",".join([b"0"] * MAX_LIST_ITEMS) + b"]")  # at the bound: accepted


_json_trees = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=2), children, max_size=5)
    ),
    max_leaves=1_500,
)


@given(tree=_json_trees, padding=st.integers(0, 3))
def test_the_shortcut_never_accepts_what_the_walk_refuses(tree: Any, padding: int) -> None:
    body = orjson.dumps(tree) + b" " * padding
    try:
        check_shape(orjson.loads(body))
    except PayloadRejected:
        with pytest.raises(PayloadRejected):
            decode_json(body)
    else:
        assert decode_json(body) == orjson.loads(body)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_the_shortcut_and_the_walk_agree_at_the_depth_bound(depth: int) -> None:
    body = b'{"a":' * depth + b"1" + b"}" * depth
    refused_by_walk = False
    try:
        check_shape(orjson.loads(body))
    except PayloadRejected:
        refused_by_walk = True
    if refused_by_walk:
        with pytest.raises(PayloadRejected):
            decode_json(body)
    else:
        decode_json(body)


def test_the_exact_type_paths_read_mappings_and_text_as_before() -> None:
    from collections import OrderedDict
    from types import MappingProxyType

    from wagate.providers.payload import items, mapping

    assert mapping(MappingProxyType({"a": 1})) == {"a": 1}
    assert mapping(OrderedDict(a=1)) == {"a": 1}
    assert mapping([("a", 1)]) == {}
    assert items([{"a": 1}, MappingProxyType({"b": 2}), 3, "x", None]) == [
        {"a": 1},
        MappingProxyType({"b": 2}),
    ]
    assert text("  héllo\x00 ") == "héllo"
    assert text("a\ud800b") == "a\ufffdb"
    assert text(" \x00 ") is None
    assert text(True) is None and text(7) == "7" and text(7.0) == "7"
