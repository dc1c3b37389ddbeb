"""Lookups without plaintext (CP2): identifiers are stored as keyed HMAC digests (a blind
index) and their values sealed beside them, so equality lookups work and a database read
reveals no phone number."""

from __future__ import annotations

from typing import Protocol

CONTACT = "contact"  # a conversation's contact key: phone, BSUID or group id
PHONE = "phone"
USER_ID = "user_id"
USERNAME = "username"


class Indexer(Protocol):
    def digest(self, value: str, *, purpose: str) -> str: ...


def digest_or_none(indexer: Indexer, value: str | None, purpose: str) -> str | None:
    return indexer.digest(value, purpose=purpose) if value else None
