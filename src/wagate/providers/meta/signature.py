"""Webhook authenticity (IN1, IN2): pure functions, the secret passed in."""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

SIGNATURE_HEADER = "x-hub-signature-256"
_PREFIX = "sha256="
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class SignatureCheck(StrEnum):
    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body`."""
    digest = hmac.digest(app_secret.encode(), body, hashlib.sha256).hex()
    return _PREFIX + digest


def check_signature(body: bytes, header: str | None, app_secret: str) -> SignatureCheck:
    """Compare the header with the HMAC of the raw bytes, in constant time.

    The body must be the exact bytes received: re-serialised JSON gives a different digest.
    """
    if not header:
        return SignatureCheck.MISSING
    header = header.strip()
    digest = header[len(_PREFIX) :]
    if not header.lower().startswith(_PREFIX) or not _HEX_DIGEST.fullmatch(digest):
        return SignatureCheck.MALFORMED
    expected = sign(body, app_secret)
    if hmac.compare_digest(expected, _PREFIX + digest.lower()):
        return SignatureCheck.VALID
    return SignatureCheck.MISMATCH


def verify_subscription(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> str | None:
    """The challenge to echo when Meta's GET handshake is ours, else None (→ 403)."""
    if mode != "subscribe" or token is None or challenge is None:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge
