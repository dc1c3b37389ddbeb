"""Is this photo an identity document? (CP1 for images, MD1.)

A photo cannot be masked: given to a vision model, every number on it leaves the gateway. A
KTP, KK, NPWP card, passport or driving licence carries exactly what masking exists to hide
(a NIK above all), and clients of a law firm send them often. So a photo whose text (OCR)
shows such an identifier, or the heading of such a card, is not given to the vision model;
its OCR text still is, masked like everything the person writes.

A heuristic over OCR, not a guarantee: a photo OCR cannot read (blurred, rotated, Tesseract
not installed) is not recognised. That is why vision is off unless AI_VISION_MODEL is set.
"""

from __future__ import annotations

import re

from wagate.domain.privacy.recognizers import find_structured_pii
from wagate.domain.privacy.spans import EntityType

# Identifiers that only identity documents, cards and accounts carry (a phone number or an
# e-mail address on a letterhead does not make a letter an identity document).
_IDENTIFIERS = frozenset(
    {
        EntityType.NIK,
        EntityType.NPWP,
        EntityType.KK,
        EntityType.PASPOR,
        EntityType.SIM,
        EntityType.BPJS,
        EntityType.KARTU,
        EntityType.REKENING,
    }
)

# Headings and labels printed on Indonesian identity documents. OCR reads large printed
# headings far more reliably than the digits under them.
_HEADINGS = re.compile(
    r"\b(?:kartu\s+tanda\s+penduduk|kartu\s+keluarga|nomor\s+pokok\s+wajib\s+pajak|"
    r"surat\s+izin\s+mengemudi|paspor|passport|NIK\s*[:.]|NPWP\s*[:.]|"
    r"gol\.?\s*darah|kewarganegaraan\s*[:.]?\s*WNI)",
    re.IGNORECASE,
)


def looks_like_identity_document(text: str | None) -> bool:
    """True when `text` (a photo's OCR text) shows an identity number or the heading of an
    identity document."""
    if not text:
        return False
    if _HEADINGS.search(text):
        return True
    return any(span.kind in _IDENTIFIERS for span in find_structured_pii(text))
