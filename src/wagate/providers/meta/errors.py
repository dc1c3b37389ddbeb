"""Graph API error body → our error types (OU2). Keyed on Meta's `code`, never on HTTP status
alone: Meta returns throttling as 400 and some clients see 190 as 400."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from wagate.domain import errors as e
from wagate.providers.payload import mapping, text

# A provider asking us to wait longer than a day is treated as asking for a day.
MAX_RETRY_AFTER_SECONDS = 86_400.0

_TRANSIENT: dict[int, type[e.TransientSendError]] = {
    4: e.RateLimited,
    80007: e.RateLimited,
    130429: e.RateLimited,
    131056: e.PairRateLimited,
    131000: e.ProviderUnavailable,
    131016: e.ProviderUnavailable,
    131057: e.ProviderUnavailable,
    1: e.ProviderUnavailable,  # "API unknown", documented as temporary
    2: e.ProviderUnavailable,  # "API service" temporary downtime
}
_PERMANENT: dict[int, type[e.PermanentSendError]] = {
    0: e.AuthenticationFailed,
    190: e.AuthenticationFailed,
    10: e.PermissionDenied,
    368: e.PermissionDenied,
    131005: e.PermissionDenied,
    131031: e.PermissionDenied,
    130497: e.PermissionDenied,
    131047: e.WindowClosed,
    470: e.WindowClosed,
    131026: e.RecipientUnreachable,
    131049: e.RecipientUnreachable,
    131050: e.RecipientUnreachable,
    130472: e.RecipientUnreachable,
    131021: e.RecipientUnreachable,
    131030: e.RecipientUnreachable,
    131042: e.QuotaExhausted,
}


def translate(http_status: int, body: Any, retry_after: float | None = None) -> e.SendError:
    """The error a failed Graph API call means."""
    error = mapping(mapping(body).get("error"))
    code_text = text(error.get("code"))
    message = text(error.get("message")) or f"Graph API answered HTTP {http_status}"
    code = int(code_text) if code_text and code_text.isdigit() else None
    if code is not None:
        if code in _TRANSIENT:
            return _TRANSIENT[code](message, code=code_text, retry_after=retry_after)
        if code in _PERMANENT:
            return _PERMANENT[code](message, code=code_text)
        if 200 <= code <= 299:
            return e.PermissionDenied(message, code=code_text)
    if code is None and http_status in (502, 504):
        # A gateway in front of the Graph API gave up waiting: Meta may have taken the message.
        return e.OutcomeUnknown(message, retry_after=retry_after)
    if http_status == 429 or http_status >= 500:
        return e.ProviderUnavailable(message, code=code_text, retry_after=retry_after)
    if http_status == 401:
        return e.AuthenticationFailed(message, code=code_text)
    if http_status == 403:
        return e.PermissionDenied(message, code=code_text)
    return e.InvalidRequest(message, code=code_text)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: not sent by Graph; ignore rather than guess
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)
