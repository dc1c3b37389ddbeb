"""Small, defensive readers for vendor JSON: every field may be missing or of the wrong type.

Hostile input is cleaned here, at the edge, so nothing a provider (or an attacker who knows a
Fonnte path secret) sends can make PostgreSQL refuse a row: NUL characters and lone surrogates
never leave these readers, identifiers longer than an index can hold become a stable digest,
and a body nested deeper or wider than any real delivery is refused before it is parsed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

# Fonnte's timestamp unit is unconfirmed: anything above this is milliseconds.
_MILLISECONDS_THRESHOLD = 10**10
# Provider clocks may run a little ahead of ours; beyond this a timestamp is not believed.
CLOCK_TOLERANCE = timedelta(minutes=5)
# PostgreSQL refuses NUL in text; lone surrogates cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Real ids are under 100 characters; a B-tree entry must stay under ~2,700 bytes.
MAX_IDENTIFIER_CHARS = 256
# orjson reads 1,024 levels but writes 254; real deliveries are about ten deep. The bound
# leaves room for the envelopes the storage and the digests wrap around a raw payload.
MAX_DEPTH = 64
# Meta batches at most 1,000 updates; a delivery of more parts is not one of theirs.
MAX_LIST_ITEMS = 1_000
MAX_VALUES = 50_000
# Objects inside lists (entries, changes, messages, statuses, their errors): each may become a
# stored row, so their number bounds the work one delivery can cause.
MAX_RECORDS = 3_000


class PayloadRejected(ValueError):
    """The body is JSON but no real delivery looks like it; `reason` says why (for a 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean(value: str) -> str:
    """`value` without the characters PostgreSQL or UTF-8 cannot store (NUL → removed,
    lone surrogate → U+FFFD)."""
    # ASCII without NUL is the usual case, told by two C scans (`isascii` is a flag check).
    if (value.isascii() and "\x00" not in value) or not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def text(value: Any) -> str | None:
    """A non-empty, storable string, or None. Numbers become their decimal text."""
    if type(value) is str:  # the usual case first (every webhook reads a dozen)
        stripped = clean(value).strip()
        return stripped or None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        stripped = clean(value).strip()
        return stripped or None
    return None


def identifier(value: Any) -> str | None:
    """Like `text`, for values stored in indexed columns: one too long for an index becomes
    `h:` and its digest — stable, so redeliveries still deduplicate."""
    found = text(value)
    if found is None or len(found) <= MAX_IDENTIFIER_CHARS:
        return found
    return "h:" + hashlib.sha256(found.encode()).hexdigest()


def mapping(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:  # what orjson decodes: no ABC check
        return value
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Mapping[str, Any]]:
    """The dict elements of a list; anything else is an empty list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if type(item) is dict or isinstance(item, Mapping)]


def epoch(value: Any, default: datetime) -> datetime:
    """Unix seconds (or milliseconds) as an aware UTC datetime; `default` (the time of receipt)
    when unreadable or further ahead of it than `CLOCK_TOLERANCE`."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if not number > 0:  # also NaN
        return default
    if number > _MILLISECONDS_THRESHOLD:
        number /= 1000
    try:
        moment = datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return default
    return default if moment > default + CLOCK_TOLERANCE else moment


def stable_digest(*parts: Any) -> str:
    """A hash that is the same for the same content on every delivery (key order ignored)."""
    option = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    try:
        encoded = orjson.dumps(parts, option=option)
    except orjson.JSONEncodeError:  # lone surrogates, integers beyond 64 bits
        encoded = orjson.dumps(clean_tree(parts), option=option)
    return hashlib.sha256(encoded).hexdigest()


class NotJson(ValueError):
    """A webhook body that does not decode as JSON."""


def json_body(body: bytes) -> Any:
    """Decode a webhook body (the one JSON decoder every inbound adapter uses). Raises NotJson
    for non-JSON and `PayloadRejected` for JSON deeper or larger than any delivery."""
    try:
        return decode_json(body)
    except orjson.JSONDecodeError as exc:
        raise NotJson(str(exc)) from exc


def clean_tree(value: Any) -> Any:
    """`value` with every string (keys too) passed through `clean`; unchanged when already
    clean. Integers orjson cannot write (beyond 64 bits) become their decimal text."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {clean(str(k)): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)
    return value


def decode_json(body: bytes) -> Any:
    """Decode a webhook body. Raises `orjson.JSONDecodeError` for non-JSON and
    `PayloadRejected` for JSON deeper or larger than any delivery (see `check_shape`)."""
    payload = orjson.loads(body)
    if not _within_bounds_by_size(body):
        check_shape(payload)
    return payload


# A body this short cannot break the list, record or value bounds: a list of more than
# MAX_LIST_ITEMS items needs at least 2 × MAX_LIST_ITEMS + 1 bytes ("[0,0,…]"), and the record
# and value bounds need more still.
_SHORT_BODY = 2 * MAX_LIST_ITEMS


def _within_bounds_by_size(body: bytes | bytearray | memoryview | str) -> bool:
    """True when `body` is too short to break any bound of `check_shape`, so walking the
    decoded tree is not needed (issue 18: the walk was a fifth of the parsing of a text
    message). Depth: a container nested `MAX_DEPTH` deep needs that many opening brackets in
    the body (brackets inside strings only make the count larger, never smaller)."""
    if len(body) > _SHORT_BODY or not isinstance(body, bytes):
        return False
    return body.count(b"[") + body.count(b"{") < MAX_DEPTH


def check_shape(payload: Any) -> None:
    """Raise `PayloadRejected` when `payload` nests deeper than `MAX_DEPTH`, has a list longer
    than `MAX_LIST_ITEMS`, more than `MAX_RECORDS` objects in lists or more than `MAX_VALUES`
    values. Iterative: no recursion limit, and it stops at the first excess.

    It runs on every webhook (issue 18), so only containers are walked (values are counted by
    their parent) and orjson's plain dicts and lists are recognised by their exact type before
    the slower `Mapping` check."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    seen = 1
    records = 0
    while stack:
        value, depth = stack.pop()
        if _is_mapping(value):
            children: Any = value.values()
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                raise PayloadRejected(f"a list of more than {MAX_LIST_ITEMS} items")
            records += sum(1 for child in value if _is_mapping(child))
            if records > MAX_RECORDS:
                raise PayloadRejected(f"more than {MAX_RECORDS} entries, changes or messages")
            children = value
        else:
            continue
        if depth >= MAX_DEPTH and children:
            raise PayloadRejected(f"nested deeper than {MAX_DEPTH} levels")
        seen += len(children)
        if seen > MAX_VALUES:
            raise PayloadRejected(f"more than {MAX_VALUES} values")
        stack.extend((child, depth + 1) for child in children if _is_container(child))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    return kind is dict or (
        kind not in _SCALARS and kind is not list and isinstance(value, Mapping)
    )


def _is_container(value: Any) -> bool:
    kind = type(value)
    return (
        kind is dict or kind is list or (kind not in _SCALARS and isinstance(value, Mapping | list))
    )
