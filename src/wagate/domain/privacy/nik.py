"""NIK, the 16-digit Indonesian population number (Nomor Induk Kependudukan).

Layout: PP KK CC DDMMYY SSSS — province, regency/city, district, birth date (day + 40 for
women) and a serial. Checking that layout is what separates a NIK from any other 16 digits,
e.g. a card, tracking or virtual-account number; without it we would mask those too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from wagate.domain.privacy.digits import LEFT, RIGHT, SEPARATED, digits_of, preceded_by
from wagate.domain.privacy.spans import EntityType, Span

# Dukcapil province codes, including the Papua provinces created in 2022 (93–96).
PROVINCE_CODES: frozenset[int] = frozenset((
    *range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77),
    81, 82, *range(91, 97),
))  # fmt: skip
FEMALE_DAY_OFFSET = 40

# Plain, or grouped the ways people copy it off the card: 4-4-4-4, 6-6-4, 2-2-2-6-4.
_NIK = re.compile(
    LEFT
    + r"""(?:
        \d{16}
      | \d{4}(?P<a>[ .-])\d{4}(?P=a)\d{4}(?P=a)\d{4}
      | \d{6}(?P<b>[ .-])\d{6}(?P=b)\d{4}
      | \d{2}(?P<c>[ .-])\d{2}(?P=c)\d{2}(?P=c)\d{6}(?P=c)\d{4}
    )"""
    + RIGHT,
    re.VERBOSE,
)
# "NIK saya 3171…", "no. KTP: …": the writer says it is a NIK, so a NIK with a digit too many
# or too few, or an impossible one, is still personal data. Between the word and the number:
# no digits and no line or clause break ("NIK belum ada, no resi 3578…" labels nothing).
_NIK_WORD = re.compile(r"\b(?:nik|e-?ktp|ktp|kependudukan)\b[^\d\n,;|]{0,20}$", re.IGNORECASE)
_NIK_WORD_ANYWHERE = re.compile(r"\b(?:nik|ktp|kependudukan)\b", re.IGNORECASE)
_LABELLED = re.compile(LEFT + SEPARATED + RIGHT)
LABELLED_DIGITS = range(12, 19)


def is_valid_nik(value: str) -> bool:
    """True iff `value` is 16 digits whose region codes, birth date and serial are possible.

    Province: a real code; regency 01–79 (cities 71–79); district not 00; DDMMYY a real
    date, with 40 added to the day for women, where YY is read as 19YY or 20YY and either
    reading suffices (29 Feb is valid only for leap years); serial not 0000.
    """
    if len(value) != 16 or not value.isascii() or not value.isdigit():
        return False
    province, regency, district = int(value[0:2]), int(value[2:4]), int(value[4:6])
    if province not in PROVINCE_CODES or not 1 <= regency <= 79 or district == 0:
        return False
    return _is_birth_date(value[6:12]) and value[12:16] != "0000"


def _is_birth_date(ddmmyy: str) -> bool:
    day, month, yy = int(ddmmyy[0:2]), int(ddmmyy[2:4]), int(ddmmyy[4:6])
    if day > FEMALE_DAY_OFFSET:
        day -= FEMALE_DAY_OFFSET
    return any(_is_date(century + yy, month, day) for century in (1900, 2000))


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def find_niks(text: str) -> Iterator[Span]:
    """Every valid 16-digit NIK in `text`, and every 12–18-digit number right after "NIK"/"KTP"
    (within 20 characters, no other digits between)."""
    for match in _NIK.finditer(text):
        if is_valid_nik(digits_of(match.group())):
            yield _span(match)
    if _NIK_WORD_ANYWHERE.search(text) is None:
        return
    for match in _LABELLED.finditer(text):
        labelled = preceded_by(_NIK_WORD, text, match.start(), 30)
        if labelled and len(digits_of(match.group())) in LABELLED_DIGITS:
            yield _span(match)


def _span(match: re.Match[str]) -> Span:
    return Span(start=match.start(), end=match.end(), kind=EntityType.NIK, value=match.group())
