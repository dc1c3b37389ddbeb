"""NPWP, the taxpayer number: the 15-digit form `01.234.567.8-901.000` and the 16-digit one.

Since 2024 an individual's NPWP is their NIK and an organisation's is `0` + the old 15
digits. A bare 15- or 16-digit number is too ambiguous to call an NPWP on its own (tax
billing codes, BRI accounts and tracking numbers look the same), so we need either the NPWP
layout with all its separators or the word "NPWP" just before or after the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wagate.domain.privacy.digits import (
    LEFT,
    RIGHT,
    SEPARATED,
    digits_of,
    followed_by,
    preceded_by,
)
from wagate.domain.privacy.spans import EntityType, Span

# 2-3-3-1-3-3 (15 digits) or 3-3-3-1-3-3 (16), each separator a dot, dash or space.
_LAID_OUT = re.compile(
    LEFT + r"\d{2,3}[.\- ]\d{3}[.\- ]\d{3}[.\- ]\d[.\- ]\d{3}[.\- ]\d{3}" + RIGHT
)
_ANY_NUMBER = re.compile(LEFT + SEPARATED + RIGHT)
# Between the word and the number: no line or clause break and no other number, but "(16
# digit)" is fine.
_NPWP_WORD = re.compile(r"\bnpwp\b(?:[^\d\n,;|]|(?<!\d)\d{1,2}(?!\d)){0,25}$", re.IGNORECASE)
# "012345678901000 (NPWP)": only when nothing between says the label belongs elsewhere, and the
# number does not carry a label of its own ("NIK 3171… | NPWP saya 01.234…").
_NPWP_WORD_AFTER = re.compile(r"[^\d\n|,;]{0,20}?\bnpwp\b", re.IGNORECASE)
_OTHER_LABEL = re.compile(
    r"\b(?:nik|e-?ktp|ktp|rek\w*|norek|hp|wa|telp|tlp|telepon)\b[^\d\n]{0,20}$", re.IGNORECASE
)
NPWP_LENGTHS = (15, 16)


def find_npwps(text: str) -> Iterator[Span]:
    """NPWPs in `text`: every number in the NPWP layout, and every 15/16-digit number that
    the word "NPWP" precedes within 25 characters or follows within 20, on the same line."""
    laid_out = [m.span() for m in _LAID_OUT.finditer(text)]
    for start, end in laid_out:
        yield Span(start=start, end=end, kind=EntityType.NPWP, value=text[start:end])
    if "npwp" not in text.casefold():
        return
    for match in _ANY_NUMBER.finditer(text):
        if match.span() in laid_out or len(digits_of(match.group())) not in NPWP_LENGTHS:
            continue
        if _labelled_npwp(text, match.start(), match.end()):
            yield Span(
                start=match.start(), end=match.end(), kind=EntityType.NPWP, value=match.group()
            )


def _labelled_npwp(text: str, start: int, end: int) -> bool:
    if preceded_by(_NPWP_WORD, text, start, 35):
        return True
    return followed_by(_NPWP_WORD_AFTER, text, end, 26) and not preceded_by(
        _OTHER_LABEL, text, start, 30
    )
