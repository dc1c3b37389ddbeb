"""Who may talk to the assistant (ID2, ID3). Pure; time and randomness are passed in."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

LINK_CODE_DIGITS = 6
LINK_CODE_TTL = timedelta(minutes=10)
LINK_CODE_MAX_ATTEMPTS = 5
# The outbound kind of a link-code message, and what every listing shows in its place: the code
# proves the phone only while nobody but the phone's holder can read it.
LINK_CODE_KIND = "link_code"
LINK_CODE_PLACEHOLDER = "[kode verifikasi]"


def displayed(kind: str, content: Any) -> Any:
    """An outbound message's opened content as an operator may see it: a link code's text is
    replaced by the placeholder (what was sent is still sealed at rest, for the provider)."""
    if kind != LINK_CODE_KIND or not isinstance(content, dict):
        return content
    return {**content, "text": LINK_CODE_PLACEHOLDER}


LINK_NOTICE_INTERVAL = timedelta(days=1)


class IdentityPolicy(StrEnum):
    OPEN = "open"  # anyone may talk; an account whatsapp_<digits> is made on first contact
    VERIFIED = "verified"  # only numbers linked to an approved account get answers


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountView:
    id: int
    username: str
    approved: bool


def may_converse(policy: IdentityPolicy, account: AccountView | None) -> bool:
    if policy is IdentityPolicy.OPEN:
        return account is None or account.approved
    return account is not None and account.approved


def link_notice_due(last_notice_at: datetime | None, now: datetime) -> bool:
    """Unlinked numbers hear "link your number first" at most once a day and nothing else."""
    return last_notice_at is None or now - last_notice_at >= LINK_NOTICE_INTERVAL


def open_username(contact_key: str) -> str:
    """`whatsapp_<digits>`, as the seeds name auto-created accounts."""
    digits = re.sub(r"\D", "", contact_key)
    return f"whatsapp_{digits or contact_key}"


def new_link_code(random_below: int) -> str:
    """A 6-digit code from a random integer the caller draws from `secrets`."""
    return f"{random_below % 10**LINK_CODE_DIGITS:0{LINK_CODE_DIGITS}d}"


def hash_link_code(code: str, *, account_id: int, pepper: str) -> str:
    """Codes are stored hashed and bound to their account, so a database read reveals none."""
    message = f"{account_id}:{code.strip()}".encode()
    return hmac.new(pepper.encode(), message, hashlib.sha256).hexdigest()


class LinkCheck(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NO_CODE = "no_code"


def check_link_code(
    *,
    stored_hash: str | None,
    attempts: int,
    expires_at: datetime | None,
    offered_hash: str,
    now: datetime,
) -> LinkCheck:
    if stored_hash is None or expires_at is None:
        return LinkCheck.NO_CODE
    if attempts >= LINK_CODE_MAX_ATTEMPTS:
        return LinkCheck.TOO_MANY_ATTEMPTS
    if now >= expires_at:
        return LinkCheck.EXPIRED
    if not hmac.compare_digest(stored_hash, offered_hash):
        return LinkCheck.WRONG
    return LinkCheck.OK
