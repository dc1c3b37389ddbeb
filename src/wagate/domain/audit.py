"""The audit trail's rules (CP3): what an entry is, how it is hashed, how a chain is verified.

Each entry is hashed in two steps so that retention can drop an entry's details later without
breaking the chain ("entries keep hashes, not content"):

    details_hash = sha256(canonical(details))
    content_hash = sha256(canonical(v, seq, tenant, at, action, actor, subject, details_hash))
    hash         = sha256(prev_hash ":" content_hash)        prev_hash of seq 1 = GENESIS

A redacted entry has lost its details but keeps `details_hash`, so its envelope (who, what,
when) and its place in the chain stay verifiable.

What goes in `details`: masked or derived facts only: ids, counts, kinds, error codes, model
names, durations. Never message text, names, phone numbers or e-mail addresses. The log is
append-only, so a leaked value could only be removed by redaction; `redact_details` drops the
obvious keys and truncates long strings as a second line of defence, not as the first.

The hash is keyless: someone who can write to the database can recompute a whole chain. Record
the head (`seq`, `hash`) somewhere else now and then and check it with `anchors`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any, Protocol

GENESIS = "0" * 64
FORMAT_VERSION = 1
REDACTED: Mapping[str, Any] = {"redacted": True}
SENSITIVE_KEYS = frozenset(
    {
        "text", "body", "message", "content", "caption",
        "phone", "phone_number", "msisdn", "email", "email_address",
        "name", "full_name", "profile_name", "nik", "npwp", "address",
    }
)  # fmt: skip
MAX_STRING = 256
MAX_ITEMS = 50
MAX_DEPTH = 4
_FLOAT_LIMIT = 1e15  # beyond this, jsonb prints floats as integers: kept as strings instead


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """Something worth recording. `actor`: "system", "worker", "operator:api", "operator:cli",
    "contact:<id>"; `subject`: what it concerns, as an id ("conversation:12", "outbound:7")."""

    action: str
    actor: str
    subject: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.action or not self.actor:
            raise ValueError("an audit event needs an action and an actor")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    seq: int
    tenant: str
    at: datetime
    action: str
    actor: str
    subject: str | None
    details: Mapping[str, Any]
    details_hash: str
    content_hash: str
    prev_hash: str
    hash: str
    redacted_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tenant": self.tenant,
            "at": utc_iso(self.at),
            "action": self.action,
            "actor": self.actor,
            "subject": self.subject,
            "details": dict(self.details),
            "redactedAt": utc_iso(self.redacted_at) if self.redacted_at else None,
            "detailsHash": self.details_hash,
            "contentHash": self.content_hash,
            "prevHash": self.prev_hash,
            "hash": self.hash,
        }


class AuditTrail(Protocol):
    """The port the pipeline records through."""

    async def record(self, event: AuditEvent, *, at: datetime) -> int: ...

    async def record_many(self, events: Iterable[AuditEvent], *, at: datetime) -> list[int]: ...


# ------------------------------------------------------------------------------------ hashing


def utc_iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, ASCII only."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def details_hash(details: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(details))


def canonical(
    *,
    seq: int,
    tenant: str,
    at: datetime,
    action: str,
    actor: str,
    subject: str | None,
    details_hash: str,
) -> bytes:
    return canonical_json(
        {
            "v": FORMAT_VERSION,
            "seq": seq,
            "tenant": tenant,
            "at": utc_iso(at),
            "action": action,
            "actor": actor,
            "subject": subject,
            "details_sha256": details_hash,
        }
    )


def chain_hash(prev_hash: str, content_hash: str) -> str:
    return sha256_hex(f"{prev_hash}:{content_hash}".encode("ascii"))


def next_entry(
    event: AuditEvent, *, tenant: str, seq: int, at: datetime, prev_hash: str
) -> AuditEntry:
    """The entry that follows `prev_hash` at `seq`, details cleaned by `redact_details`."""
    details = redact_details(event.details)
    digest = details_hash(details)
    content = sha256_hex(
        canonical(
            seq=seq,
            tenant=tenant,
            at=at,
            action=event.action,
            actor=event.actor,
            subject=event.subject,
            details_hash=digest,
        )
    )
    return AuditEntry(
        seq=seq,
        tenant=tenant,
        at=at,
        action=event.action,
        actor=event.actor,
        subject=event.subject,
        details=details,
        details_hash=digest,
        content_hash=content,
        prev_hash=prev_hash,
        hash=chain_hash(prev_hash, content),
    )


# ------------------------------------------------------------------------------------ details


def redact_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy without sensitive keys (case-insensitive), strings cut to MAX_STRING,
    collections to MAX_ITEMS, nesting to MAX_DEPTH; whatever else becomes a short string. The
    result survives a round trip through jsonb unchanged, so its hash can be recomputed."""
    return _clean_mapping(details, depth=1)


def _clean_mapping(value: Mapping[Any, Any], *, depth: int) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        name = _clean_string(str(key))
        if name.lower() in SENSITIVE_KEYS:
            continue
        if len(cleaned) >= MAX_ITEMS:
            break
        cleaned[name] = _clean(item, depth=depth)
    return cleaned


def _clean(value: Any, *, depth: int) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and abs(value) < _FLOAT_LIMIT:
            return value + 0.0  # -0.0 would come back from jsonb as 0.0
        return repr(value)
    if isinstance(value, str):
        return _clean_string(value)
    if isinstance(value, Enum):
        return _clean(value.value, depth=depth)
    if isinstance(value, datetime):
        return utc_iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        return _clean_string(repr(value))
    if isinstance(value, Mapping):
        return _clean_mapping(value, depth=depth + 1)
    if isinstance(value, list | tuple):
        return [_clean(item, depth=depth + 1) for item in value[:MAX_ITEMS]]
    if isinstance(value, set | frozenset):
        return [_clean(item, depth=depth + 1) for item in sorted(value, key=repr)[:MAX_ITEMS]]
    return _clean_string(str(value))


def _clean_string(value: str) -> str:
    # PostgreSQL text and jsonb refuse NUL and lone surrogates.
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return value if len(value) <= MAX_STRING else value[: MAX_STRING - 1] + "…"


# ------------------------------------------------------------------------------- verification


class BreakReason(StrEnum):
    EDITED = "edited"  # an entry's content or hash no longer matches
    DELETED = "deleted"  # a seq is missing, or the log ends before its head
    REORDERED = "reordered"  # prev_hash points elsewhere: an entry was inserted or moved
    REWRITTEN = "rewritten"  # consistent chain that disagrees with the head or an anchor


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    ok: bool
    entries: int  # entries checked (up to the first break)
    head_seq: int  # the last entry that verified
    head_hash: str
    broken_seq: int | None = None
    reason: BreakReason | None = None
    explanation: str | None = None

    def summary(self) -> str:
        if self.ok:
            return (
                f"audit chain intact: {self.entries} entries"
                f" (head seq {self.head_seq}, hash {self.head_hash})"
            )
        return f"audit chain broken at seq {self.broken_seq}: {self.reason} ({self.explanation})"

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "headSeq": self.head_seq,
            "headHash": self.head_hash,
            "brokenSeq": self.broken_seq,
            "reason": self.reason.value if self.reason else None,
            "explanation": self.explanation,
            "summary": self.summary(),
        }


class ChainVerifier:
    """Checks entries one at a time, in seq order, so a log of any length verifies in bounded
    memory. `feed` returns False from the first break on; `finish` gives the report."""

    def __init__(
        self,
        *,
        start_prev: str = GENESIS,
        start_seq: int = 1,
        anchors: Mapping[int, str] | None = None,
    ) -> None:
        self._expected_seq = start_seq
        self._prev = start_prev
        self._anchors = dict(anchors or {})
        self._count = 0
        self._broken: tuple[int, BreakReason, str] | None = None

    def feed(self, entry: AuditEntry) -> bool:
        if self._broken is None:
            problem = self._check(entry)
            if problem is not None:
                self._broken = problem
            else:
                self._expected_seq, self._prev = entry.seq + 1, entry.hash
                self._count += 1
        return self._broken is None

    def _check(self, e: AuditEntry) -> tuple[int, BreakReason, str] | None:
        n = self._expected_seq
        if e.seq > n:
            return n, BreakReason.DELETED, f"entry {n} is missing; the next entry is {e.seq}"
        if e.seq < n:
            return e.seq, BreakReason.REORDERED, f"entry {e.seq} appears again after {n - 1}"
        if e.prev_hash != self._prev:
            return n, BreakReason.REORDERED, "prev_hash is not the previous entry's hash"
        if e.redacted_at is None and details_hash(e.details) != e.details_hash:
            return n, BreakReason.EDITED, "details do not match their hash"
        if e.redacted_at is not None and dict(e.details) != REDACTED:
            return n, BreakReason.EDITED, "a redacted entry carries details"
        content = sha256_hex(
            canonical(
                seq=e.seq,
                tenant=e.tenant,
                at=e.at,
                action=e.action,
                actor=e.actor,
                subject=e.subject,
                details_hash=e.details_hash,
            )
        )
        if content != e.content_hash:
            return n, BreakReason.EDITED, "time, action, actor or subject changed"
        if chain_hash(e.prev_hash, e.content_hash) != e.hash:
            return n, BreakReason.EDITED, "the stored hash was changed"
        anchored = self._anchors.pop(n, None)
        if anchored is not None and anchored != e.hash:
            return n, BreakReason.REWRITTEN, "hash differs from the anchored hash"
        return None

    def finish(self, head: ChainHead | None = None) -> VerifyReport:
        last_seq = self._expected_seq - 1
        broken = self._broken
        if broken is None and head is not None and (head.seq, head.hash) != (last_seq, self._prev):
            if head.seq > last_seq:
                broken = (
                    last_seq + 1,
                    BreakReason.DELETED,
                    f"the log ends at {last_seq} but its head is at {head.seq}",
                )
            elif head.seq < last_seq:
                broken = (
                    head.seq + 1,
                    BreakReason.REWRITTEN,
                    f"the log runs past its head at {head.seq}",
                )
            else:
                broken = (head.seq, BreakReason.REWRITTEN, "the head records another hash")
        if broken is None and self._anchors:
            missing = min(self._anchors)
            broken = (missing, BreakReason.DELETED, f"anchored entry {missing} is missing")
        if broken is None:
            return VerifyReport(
                ok=True, entries=self._count, head_seq=last_seq, head_hash=self._prev
            )
        seq, reason, explanation = broken
        return VerifyReport(
            ok=False,
            entries=self._count,
            head_seq=last_seq,
            head_hash=self._prev,
            broken_seq=seq,
            reason=reason,
            explanation=explanation,
        )


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    start_prev: str = GENESIS,
    start_seq: int = 1,
    head: ChainHead | None = None,
    anchors: Mapping[int, str] | None = None,
) -> VerifyReport:
    """Verify entries given in seq order; stops at the first break."""
    verifier = ChainVerifier(start_prev=start_prev, start_seq=start_seq, anchors=anchors)
    for entry in entries:
        if not verifier.feed(entry):
            break
    return verifier.finish(head)
