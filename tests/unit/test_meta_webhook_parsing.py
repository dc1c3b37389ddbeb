"""Meta webhook bodies → `WebhookBatch` over every golden payload (the protocol docs' fixtures and
every named pywa real-world example): none raises, and every message and status is accounted for.
Content types are checked one by one in test_meta_webhook_content.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wagate.domain.messages import InboundMessage, WebhookBatch
from wagate.providers.meta.webhook import parse_payload

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)  # far from every fixture timestamp


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _golden() -> Iterator[Any]:
    payloads = DATA / "payloads"
    for path in sorted(
        [*payloads.glob("meta-inbound-*.json"), *payloads.glob("meta-status-*.json")]
    ):
        yield pytest.param(_load(path), id=path.stem)
    for path in sorted((DATA / "pywa").glob("*.json")):
        for name, payload in _load(path).items():
            yield pytest.param(payload, id=f"{path.stem}:{name}")


GOLDEN = list(_golden())


def _changes(payload: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for entry in payload["entry"]:
        yield from entry["changes"]


def _routable(change: Mapping[str, Any]) -> bool:
    return change.get("field") == "messages" and bool(
        change.get("value", {}).get("metadata", {}).get("phone_number_id")
    )


def test_golden_set_is_complete() -> None:
    assert len(GOLDEN) >= 16 + 70  # 16 protocol fixtures; the pywa files hold 70+ examples


@pytest.mark.parametrize("payload", GOLDEN)
def test_golden_payload_parses_into_a_non_empty_batch(payload: Any) -> None:
    batch = parse_payload(payload, now=NOW)
    assert isinstance(batch, WebhookBatch)
    assert not batch.is_empty


@pytest.mark.parametrize("payload", GOLDEN)
def test_every_message_and_status_in_a_golden_payload_is_accounted_for(payload: Any) -> None:
    batch = parse_payload(payload, now=NOW)
    kept = [m.raw for m in batch.messages] + [s.raw for s in batch.statuses]
    kept += [o.raw for o in batch.others]
    expected_items = 0
    for change in _changes(payload):
        value = change["value"]
        if not _routable(change):
            # A non-message field (calls, template updates…) is kept whole as one event.
            assert change in kept, change.get("field")
            continue
        for item in [*value.get("messages", []), *value.get("statuses", [])]:
            expected_items += 1
            assert item in kept
    unreadable = [o for o in batch.others if o.field_name.startswith("unreadable_")]
    assert len(batch.messages) + len(batch.statuses) + len(unreadable) == expected_items


@pytest.mark.parametrize("payload", GOLDEN)
def test_parsed_messages_carry_channel_and_payload_timestamp(payload: Any) -> None:
    batch = parse_payload(payload, now=NOW)
    channels = {
        c["value"]["metadata"]["phone_number_id"] for c in _changes(payload) if _routable(c)
    }
    for message in [*batch.messages, *batch.statuses]:
        assert message.channel_id in channels
        stamp = datetime.fromtimestamp(int(message.raw["timestamp"]), tz=UTC)
        when = message.sent_at if isinstance(message, InboundMessage) else message.occurred_at
        assert when == stamp
        assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
