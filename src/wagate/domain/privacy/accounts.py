"""Bank account numbers: 8–16 digits close to a word that says "bank account".

Account numbers have no structure we could check (each bank has its own length and no public
check digit), so context is all we have: a bank name or "rek."/"a.n."/"transfer ke" within
40 characters. Amounts, dates and numbers that name themselves something else ("invoice
2024081700123", "resi …") are skipped even then.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wagate.domain.privacy.digits import (
    LEFT,
    RIGHT,
    digits_of,
    looks_like_amount,
    looks_like_date_or_time,
    preceded_by,
)
from wagate.domain.privacy.spans import EntityType, Span

MIN_DIGITS, MAX_DIGITS = 8, 16
WINDOW = 40

# A digit run whose groups are joined by one dot, dash or space: "123-456-7890", "0123 01
# 012345 50 1". Split again below when it swallowed the next number ("1234567890 0812…").
_NUMBER = re.compile(LEFT + r"\d+(?:[.\- ]\d+)*" + RIGHT)
_BANK_WORD = re.compile(
    r"\b(?:rekening|rek|norek|no\.?\s?rek|a\.\s?n|an|atas\s+nama|transfer|trf|tf|bank|"
    r"account|acc|a/c|virtual\s+account|va|bca|bri|bni|mandiri|bsi|btn|cimb|niaga|permata|"
    r"danamon|ocbc|panin|maybank|mega|muamalat|jago|jenius|seabank|bjb|bpd)\b",
    re.IGNORECASE,
)
# The number says what it is, and it is not an account: "invoice 2024…", "no. resi: …".
# Up to two words may sit between the label and the number: "resi anteraja …", "nomor kartu
# member …", "ID pelanggan PLN …".
_OTHER_ID_BEFORE = re.compile(
    r"\b(?:inv|invoice|order|pesanan|resi|awb|perkara|register|kode|code|ref|referensi|"
    r"trx|transaksi|booking|tiket|ticket|id|polis|kontrak|surat|sk|billing|bpjs|npwp|nik|"
    r"ktp|kk|hp|wa|telp|telepon|tlp|kartu|card|member|pelanggan|meter|antrian)\b"
    r"(?:[^\w\n]+[A-Za-z&]{1,12}){0,2}[^\w\n]{0,3}(?:no\.?|nomor|nomer|number|#)?[^\w\n]{0,3}$",
    re.IGNORECASE,
)


def find_accounts(text: str) -> Iterator[Span]:
    """Numbers of 8–16 digits within `WINDOW` characters of a bank word (see module doc)."""
    if _BANK_WORD.search(text) is None:
        return
    for match in _NUMBER.finditer(text):
        for start, end in _pieces(match.group(), match.start()):
            if _is_account(text, start, end):
                yield Span(start=start, end=end, kind=EntityType.REKENING, value=text[start:end])


def _pieces(value: str, offset: int) -> Iterator[tuple[int, int]]:
    """The run itself, or its space-separated parts when it is too long to be one account."""
    if len(digits_of(value)) <= MAX_DIGITS or " " not in value:
        yield offset, offset + len(value)
        return
    position = offset
    for part in value.split(" "):
        yield position, position + len(part)
        position += len(part) + 1


def _is_account(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    if not MIN_DIGITS <= len(digits_of(value)) <= MAX_DIGITS:
        return False
    if looks_like_amount(text, start, end) or looks_like_date_or_time(value):
        return False
    if preceded_by(_OTHER_ID_BEFORE, text, start, 45):
        return False
    near = text[max(0, start - WINDOW) : start] + " " + text[end : end + WINDOW]
    return _BANK_WORD.search(near) is not None
