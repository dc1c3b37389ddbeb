"""Small, defensive readers for vendor JSON: every field may be missing or of the wrong type."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

# Fonnte's timestamp unit is unconfirmed: anything above this is milliseconds.
_MILLISECONDS_THRESHOLD = 10**10


def text(value: Any) -> str | None:
    """A non-empty string, or None. Numbers become their decimal text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Mapping[str, Any]]:
    """The dict elements of a list; anything else is an empty list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def epoch(value: Any, default: datetime) -> datetime:
    """Unix seconds (or milliseconds) as an aware UTC datetime; `default` when unreadable."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if number <= 0:
        return default
    if number > _MILLISECONDS_THRESHOLD:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return default


def stable_digest(*parts: Any) -> str:
    """A hash that is the same for the same content on every delivery (key order ignored)."""
    encoded = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(encoded).hexdigest()


class NotJson(ValueError):
    """A webhook body that does not decode as JSON."""


def json_body(body: bytes) -> Any:
    """Decode a webhook body (the one JSON decoder every inbound adapter uses). Raises NotJson."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NotJson(str(exc)) from exc
