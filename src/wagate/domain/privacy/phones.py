"""Telephone numbers, Indonesian and international, found with `phonenumbers`.

`PhoneNumberMatcher` (region ID) knows every numbering plan, so "0812-3456-7890", "(021)
555-1234", "6281234567890" and "+44 20 7946 0958" are found and dates like 17-08-2024 are not.
We keep the numbers it calls valid, plus numbers written with `+` that are merely possible
(the `+` says "phone number" and foreign plans change faster than the metadata). It also
accepts bare national numbers without the trunk 0, which in Indonesia include service numbers
such as 1500000 — the digits of "Rp 1.500.000" — so we require the shape people give phone
numbers in: a leading `+`, `0`, `(` or the country code 62.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from wagate.domain.privacy.digits import looks_like_amount, looks_like_date_or_time
from wagate.domain.privacy.spans import EntityType, Span

REGION = "ID"
# Seven digits close together: the least any phone number has. Cheap gate before the
# matcher, which costs far more per message than all our own patterns together.
_MAYBE_PHONE = re.compile(r"\d(?:[\s().\-/+]{0,3}\d){6}")
_PHONE_SHAPE = re.compile(r"(?:\+|\(?0|62)")
# The matcher's own left boundary allows "JP0812…", "INV-0812…", "MPL/0812…" and "12.0812…";
# ours does not, except for WhatsApp links (wa.me/62812…).
# \Z, not $: `$` also matches before a final newline, which took a number at the start of a
# line ("Halo\n0812…") for one glued to the word before it.
_GLUED = re.compile(r"(?:[^\W\d_][#/-]?|\d[.,])\Z")
_WA_LINK = re.compile(r"wa\.me/\Z", re.IGNORECASE)
# A number right after "rek."/"BCA" is the account, even when it is also a valid landline
# (BNI's 0241234567 is Semarang's 024 + 7 digits); mobile-shaped numbers stay phones, since
# "rekening" messages also carry the contact's mobile and e-wallets use it as the account.
_ACCOUNT_BEFORE = re.compile(
    r"\b(?:rek|rekening|norek|account|acc|a/c|bca|bri|bni|mandiri|bsi|btn|cimb|niaga|"
    r"permata|danamon|ocbc|panin|maybank|muamalat|jago|seabank|bjb)\b"
    r"(?:[^\w\n]+[a-z]{1,6}){0,2}[^\w\n]{0,12}$",
    re.IGNORECASE,
)
_MOBILE = re.compile(r"(?:\+62|62|0)[\s.\-]?8")


def find_phones(text: str) -> Iterator[Span]:
    """Valid phone numbers in `text` that are written like phone numbers (see module doc)."""
    if _MAYBE_PHONE.search(text) is None:
        return
    matcher = phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        start, end, raw = match.start, match.end, match.raw_string
        if _is_known_number(match.number, raw) and _is_phone_shaped(text, start, end, raw):
            yield Span(start=start, end=end, kind=EntityType.TELEPON, value=raw)


def _is_known_number(number: phonenumbers.PhoneNumber, raw: str) -> bool:
    return raw.startswith("+") or phonenumbers.is_valid_number(number)


def _is_phone_shaped(text: str, start: int, end: int, raw: str) -> bool:
    before = text[max(0, start - 6) : start]
    if _PHONE_SHAPE.match(raw) is None or (_GLUED.search(before) and not _WA_LINK.search(before)):
        return False
    if end < len(text) and text[end].isalnum():  # "…0021e53e": a hash or file name
        return False
    if looks_like_amount(text, start, end) or looks_like_date_or_time(raw):
        return False
    account_context = _ACCOUNT_BEFORE.search(text[max(0, start - 25) : start]) is not None
    return not account_context or _MOBILE.match(raw) is not None or raw.startswith("+")
