"""Helpers shared by the number recognisers: where a number starts and ends, and what it is not.

Chat users write the same number with spaces, dots or dashes, so recognisers match digits
with separators and compare the digits alone. These guards keep amounts, dates, times and
identifiers that merely contain digits (`INV-2024-000123`) from being read as personal data.
"""

from __future__ import annotations

import re

# A number may not continue a word, a decimal or an identifier: "NIK:3171…" and "No.3171…"
# start a number, "INV-3171…", "12.3171…" and "x3171…" do not.
LEFT = r"(?<!\w)(?<!\d[.,])(?<!\w[/#-])"
# …nor run on into one: a sentence may end with "." but "…0001.5" or "…0001/2024" is longer.
RIGHT = r"(?!\w)(?![.,/-]\d)"

# Digits with single separators between them: the shape of every number people type.
SEPARATED = r"\d(?:[ .\-]?\d)*"

_NON_DIGIT = re.compile(r"\D")
_CURRENCY_BEFORE = re.compile(r"(?:\b(?:rp|idr|usd|sgd)|\$|€|£)\.?\s*$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"(?:,-|,\d{1,2}\b|\s*(?:rb|ribu|jt|juta|miliar|milyar|rupiah)\b)", re.IGNORECASE
)
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DATE = re.compile(r"(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})")
_TIME = re.compile(r"\d{1,2}[.:]\d{2}(?:[.:]\d{2})?")


def digits_of(value: str) -> str:
    """The digits of `value`, separators dropped."""
    return _NON_DIGIT.sub("", value)


def looks_like_amount(text: str, start: int, end: int) -> bool:
    """`text[start:end]` is money: after "Rp"/"IDR"/"$", before ",-"/"rb"/"juta", or 1.500.000.

    A dotted thousands grouping counts as money even without a currency sign: account and ID
    numbers are not written that way, amounts nearly always are.
    """
    if preceded_by(_CURRENCY_BEFORE, text, start, 6):
        return True
    if followed_by(_CURRENCY_AFTER, text, end, 10):
        return True
    return _THOUSANDS.fullmatch(text, start, end) is not None


def looks_like_date_or_time(value: str) -> bool:
    """`17-08-2024`, `2024/08/17`, `17.08.24`, `14.30`, `09:15:00`."""
    return _DATE.fullmatch(value) is not None or _TIME.fullmatch(value) is not None


def preceded_by(pattern: re.Pattern[str], text: str, start: int, window: int) -> bool:
    """`pattern`, anchored at its end with `$`, is found in the `window` characters before
    `start`. Sliced rather than searched with pos/endpos so `\b` and `^` see the slice's edge.
    """
    return pattern.search(text[max(0, start - window) : start]) is not None


def followed_by(pattern: re.Pattern[str], text: str, end: int, window: int) -> bool:
    """`pattern` matches at `end`, within the next `window` characters."""
    return pattern.match(text[end : end + window]) is not None
