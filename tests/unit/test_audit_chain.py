"""CP3: the audit chain is deterministic, and verification names the first edited, deleted,
reordered or inserted entry, while entries redacted by retention still verify."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum

import pytest

from wagate.domain.audit import (
    GENESIS,
    MAX_STRING,
    REDACTED,
    AuditEntry,
    AuditEvent,
    BreakReason,
    ChainHead,
    canonical,
    chain_hash,
    details_hash,
    next_entry,
    redact_details,
    sha256_hex,
    verify_chain,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))


def build(count: int, *, tenant: str = "firm-a") -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        event = AuditEvent(
            action="message.received",
            actor=f"contact:{seq % 4}",
            subject=f"conversation:{seq % 3}",
            details={"messages": seq, "kind": "text"},
        )
        entry = next_entry(
            event, tenant=tenant, seq=seq, at=T0 + timedelta(seconds=seq), prev_hash=prev
        )
        entries.append(entry)
        prev = entry.hash
    return entries


def head_of(entries: list[AuditEntry]) -> ChainHead:
    return ChainHead(seq=entries[-1].seq, hash=entries[-1].hash)


# ------------------------------------------------------------------------------ hashing


def test_the_hash_format_is_pinned() -> None:
    """Changing any of these bytes would orphan every chain already stored."""
    content = canonical(
        seq=1,
        tenant="firm-a",
        at=T0,
        action="consent.granted",
        actor="contact:7",
        subject="contact:7",
        details_hash=details_hash({"via": "whatsapp"}),
    )
    assert content == (
        b'{"action":"consent.granted","actor":"contact:7","at":"2026-03-01T09:30:00.000000+00:00",'
        b'"details_sha256":"' + details_hash({"via": "whatsapp"}).encode() + b'","seq":1,'
        b'"subject":"contact:7","tenant":"firm-a","v":1}'
    )
    assert details_hash({"via": "whatsapp"}) == sha256_hex(b'{"via":"whatsapp"}')
    assert chain_hash(GENESIS, "ab" * 32) == sha256_hex(("0" * 64 + ":" + "ab" * 32).encode())


def test_hashing_is_deterministic_across_key_order_and_time_zones() -> None:
    event_a = AuditEvent(action="ai.called", actor="worker", details={"model": "m", "tokens": 3})
    event_b = AuditEvent(action="ai.called", actor="worker", details={"tokens": 3, "model": "m"})
    a = next_entry(event_a, tenant="t", seq=5, at=T0, prev_hash=GENESIS)
    b = next_entry(event_b, tenant="t", seq=5, at=T0.astimezone(WIB), prev_hash=GENESIS)
    assert a.hash == b.hash and a.content_hash == b.content_hash
    assert len(a.hash) == 64 and int(a.hash, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 6},
        {"tenant": "other"},
        {"at": T0 + timedelta(microseconds=1)},
        {"action": "ai.failed"},
        {"actor": "system"},
        {"subject": "conversation:1"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_every_envelope_field_is_in_the_hash(change: dict[str, object]) -> None:
    base = {
        "seq": 5,
        "tenant": "t",
        "at": T0,
        "action": "ai.called",
        "actor": "worker",
        "subject": None,
        "details_hash": details_hash({}),
    }
    assert canonical(**base) != canonical(**(base | change))  # type: ignore[arg-type]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        next_entry(
            AuditEvent(action="a", actor="system"),
            tenant="t",
            seq=1,
            at=datetime(2026, 1, 1),
            prev_hash=GENESIS,
        )


def test_an_event_needs_an_action_and_an_actor() -> None:
    with pytest.raises(ValueError):
        AuditEvent(action="", actor="system")
    with pytest.raises(ValueError):
        AuditEvent(action="send.failed", actor="")


# ------------------------------------------------------------------------------ verification


def test_an_intact_chain_verifies() -> None:
    entries = build(50)
    report = verify_chain(entries, start_prev=GENESIS, head=head_of(entries))
    assert report.ok and report.entries == 50 and report.head_seq == 50
    assert report.head_hash == entries[-1].hash
    assert report.summary().startswith("audit chain intact: 50 entries")


def test_an_empty_chain_verifies() -> None:
    report = verify_chain([], start_prev=GENESIS, head=ChainHead(seq=0, hash=GENESIS))
    assert report.ok and report.entries == 0


@pytest.mark.parametrize(
    "field",
    ["details", "action", "actor", "subject", "at", "tenant", "hash", "content_hash"],
)
def test_an_edited_entry_is_named(field: str) -> None:
    entries = build(10)
    changed = {
        "details": {"messages": 999, "kind": "text"},
        "action": "message.deleted",
        "actor": "operator:cli",
        "subject": "conversation:99",
        "at": entries[6].at + timedelta(seconds=1),
        "tenant": "firm-b",
        "hash": "f" * 64,
        "content_hash": "e" * 64,
    }[field]
    entries[6] = replace(entries[6], **{field: changed})  # type: ignore[arg-type]
    report = verify_chain(entries, start_prev=GENESIS)
    assert not report.ok
    assert (report.broken_seq, report.reason) == (7, BreakReason.EDITED)
    assert report.entries == 6 and "seq 7: edited" in report.summary()


@pytest.mark.parametrize("position", [0, 4, 9])
def test_a_deleted_entry_is_named(position: int) -> None:
    entries = build(10)
    head = head_of(entries)
    del entries[position]
    report = verify_chain(entries, start_prev=GENESIS, head=head)
    assert not report.ok
    assert (report.broken_seq, report.reason) == (position + 1, BreakReason.DELETED)


def test_deleting_the_latest_entries_shows_against_the_head() -> None:
    entries = build(10)
    head = head_of(entries)
    report = verify_chain(entries[:7], start_prev=GENESIS, head=head)
    assert (report.ok, report.broken_seq, report.reason) == (False, 8, BreakReason.DELETED)


def test_swapped_entries_are_named() -> None:
    """Rows 4 and 5 trade places: ordered by seq, row 4 now points at the wrong predecessor."""
    entries = build(10)
    fourth, fifth = entries[3], entries[4]
    entries[3], entries[4] = replace(fifth, seq=4), replace(fourth, seq=5)
    report = verify_chain(entries, start_prev=GENESIS)
    assert (report.broken_seq, report.reason) == (4, BreakReason.REORDERED)


def test_an_inserted_entry_is_named_even_with_valid_hashes() -> None:
    """A forger computes a perfect entry after 3 and renumbers the rest: 5 (the old 4) no
    longer points at its predecessor."""
    entries = build(10)
    forged = next_entry(
        AuditEvent(action="consent.granted", actor="contact:1"),
        tenant="firm-a",
        seq=4,
        at=entries[2].at,
        prev_hash=entries[2].hash,
    )
    renumbered = [replace(e, seq=e.seq + 1) for e in entries[3:]]
    report = verify_chain([*entries[:3], forged, *renumbered], start_prev=GENESIS)
    assert (report.broken_seq, report.reason) == (5, BreakReason.REORDERED)


def test_an_entry_out_of_seq_order_is_named() -> None:
    entries = build(5)
    report = verify_chain([*entries, entries[2]], start_prev=GENESIS)
    assert (report.broken_seq, report.reason) == (3, BreakReason.REORDERED)


def test_only_the_first_break_is_reported() -> None:
    entries = build(10)
    entries[2] = replace(entries[2], actor="system")
    del entries[6]
    report = verify_chain(entries, start_prev=GENESIS)
    assert (report.broken_seq, report.reason, report.entries) == (3, BreakReason.EDITED, 2)


def test_a_rewritten_chain_is_caught_by_the_head_or_an_anchor() -> None:
    """A keyless chain can be recomputed end to end; only a hash kept elsewhere shows it."""
    original = build(10)
    forged = build(10, tenant="firm-a")
    forged[4:] = []
    prev = forged[-1].hash
    for seq in range(5, 11):
        entry = next_entry(
            AuditEvent(action="nothing.happened", actor="system"),
            tenant="firm-a",
            seq=seq,
            at=T0,
            prev_hash=prev,
        )
        forged.append(entry)
        prev = entry.hash
    assert verify_chain(forged, start_prev=GENESIS).ok
    by_head = verify_chain(forged, start_prev=GENESIS, head=head_of(original))
    assert (by_head.broken_seq, by_head.reason) == (10, BreakReason.REWRITTEN)
    by_anchor = verify_chain(forged, start_prev=GENESIS, anchors={7: original[6].hash})
    assert (by_anchor.broken_seq, by_anchor.reason) == (7, BreakReason.REWRITTEN)
    assert verify_chain(original, start_prev=GENESIS, anchors={7: original[6].hash}).ok


def test_an_anchor_beyond_the_log_is_a_deletion() -> None:
    entries = build(5)
    report = verify_chain(entries, start_prev=GENESIS, anchors={8: "a" * 64})
    assert (report.broken_seq, report.reason) == (8, BreakReason.DELETED)


def test_a_chain_can_be_verified_from_a_checkpoint() -> None:
    entries = build(10)
    report = verify_chain(entries[5:], start_prev=entries[4].hash, start_seq=6)
    assert report.ok and report.entries == 5


# ------------------------------------------------------------------------------ redaction


def test_redacted_entries_still_verify() -> None:
    entries = build(10)
    when = T0 + timedelta(days=400)
    entries[:6] = [replace(e, details=REDACTED, redacted_at=when) for e in entries[:6]]
    report = verify_chain(entries, start_prev=GENESIS, head=head_of(entries))
    assert report.ok and report.entries == 10


def test_a_redacted_entry_keeps_its_envelope_tamper_evident() -> None:
    entries = build(10)
    redacted = replace(entries[3], details=REDACTED, redacted_at=T0)
    entries[3] = replace(redacted, actor="operator:api")
    assert verify_chain(entries, start_prev=GENESIS).broken_seq == 4


def test_a_redacted_entry_cannot_smuggle_new_details() -> None:
    entries = build(10)
    entries[3] = replace(entries[3], details={"messages": 1}, redacted_at=T0)
    report = verify_chain(entries, start_prev=GENESIS)
    assert (report.broken_seq, report.reason) == (4, BreakReason.EDITED)


# ------------------------------------------------------------------------------ details


class Kind(Enum):
    TEXT = "text"


class Opaque:
    def __str__(self) -> str:
        return "opaque"


def test_redact_details_drops_sensitive_keys_at_any_depth() -> None:
    cleaned = redact_details(
        {
            "Text": "Saya mau cerai",
            "body": "…",
            "message": "…",
            "content": "…",
            "phone": "6281234567890",
            "EMAIL": "a@b.id",
            "name": "Siti",
            "model": "gpt-x",
            "error": {"code": 131047, "content": "…", "contact": {"name": "Budi"}},
        }
    )
    assert cleaned == {"model": "gpt-x", "error": {"code": 131047, "contact": {}}}


def test_redact_details_truncates_and_bounds() -> None:
    cleaned = redact_details(
        {"note": "x" * 10_000, "ids": list(range(500)), "deep": {"a": {"b": {"c": {"d": 1}}}}}
    )
    assert len(cleaned["note"]) == MAX_STRING and cleaned["note"].endswith("…")
    assert len(cleaned["ids"]) == 50
    assert cleaned["deep"]["a"]["b"]["c"] == "{'d': 1}"


def test_redact_details_makes_values_json_safe() -> None:
    cleaned = redact_details(
        {
            "nan": float("nan"),
            "huge": 1e20,
            "negative_zero": -0.0,
            "ratio": 0.25,
            "kind": Kind.TEXT,
            "at": T0.astimezone(WIB),
            "tags": {"b", "a"},
            "pair": (1, "x"),
            "nul": "a\x00b",
            "surrogate": "\ud800",
            "other": Opaque(),
        }
    )
    json.dumps(cleaned, allow_nan=False)  # no NaN, nothing exotic
    assert cleaned["nan"] == "nan" and cleaned["huge"] == "1e+20"
    assert cleaned["ratio"] == 0.25 and str(cleaned["negative_zero"]) == "0.0"
    assert cleaned["kind"] == "text" and cleaned["at"] == "2026-03-01T09:30:00.000000+00:00"
    assert cleaned["tags"] == ["a", "b"] and cleaned["pair"] == [1, "x"]
    assert cleaned["nul"] == "ab" and cleaned["surrogate"] == "?"
    assert cleaned["other"] == "opaque"


def test_entries_are_built_from_redacted_details() -> None:
    entry = next_entry(
        AuditEvent(action="message.received", actor="contact:3", details={"text": "halo"}),
        tenant="t",
        seq=1,
        at=T0,
        prev_hash=GENESIS,
    )
    assert entry.details == {} and entry.details_hash == details_hash({})
    assert "halo" not in json.dumps(entry.as_json())
