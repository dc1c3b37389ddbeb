"""Other identifiers a client mentions in a legal matter (issue 11): vehicle plates, passport,
family-card (KK), BPJS, driving-licence (SIM) and payment-card numbers.

Plates have a shape of their own (region letters, 1–4 digits, 1–3 letters: "B 1234 XYZ",
"d4567abc"), so they are found anywhere, with guards for ordinary words. The numbers have
none a checker could use (a KK number is laid out like a NIK; BPJS, SIM and card numbers are
plain digits), so they count only right after the word that names them: "No KK 3174…",
"Kartu BPJS Kesehatan 0001…", "paspor C1234567". Their ranks in `spans.RANK` put them above
the NIK, phone and account readings of the same digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wagate.domain.privacy.digits import LEFT, RIGHT, digits_of
from wagate.domain.privacy.spans import EntityType, Span

# Registration regions (Polri): Java and Bali single letters, the rest two letters.
_REGION = frozenset({
    "A", "B", "D", "E", "F", "G", "H", "K", "L", "M", "N", "P", "R", "S", "T", "W", "Z", "AA",
    "AB", "AD", "AE", "AG", "BA", "BB", "BD", "BE", "BG", "BH", "BK", "BL", "BM", "BN", "BP",
    "DA", "DB", "DC", "DD", "DE", "DG", "DH", "DK", "DL", "DM", "DN", "DR", "DS", "DT", "DW",
    "EA", "EB", "ED", "KB", "KH", "KT", "KU", "PA", "PB", "PG", "PY",
})  # fmt: skip
_PLATE = re.compile(
    r"(?<![\w/.\-])(?P<region>[A-Za-z]{1,2})(?P<gap1>[ \t]?)(?P<digits>\d{1,4})"
    r"(?P<gap2>[ \t]?)(?P<suffix>[A-Za-z]{1,3})(?![\w/\-])(?!\.\w)"
)
_PLATE_WORD = re.compile(
    r"\b(?:plat|pelat|nopol|no\.?\s*pol|nomor\s+polisi|kendaraan|mobil|motor|truk|mobilnya"
    r"|motornya|tnkb)\b[^\n]{0,25}$",
    re.IGNORECASE,
)
MIN_BARE_DIGITS = 3  # "b1234xyz" with no word before it; "b2b" is not a plate

# (kind, the naming words, how many digits); letters allowed only in passport numbers.
_LABELLED: tuple[tuple[EntityType, str, str], ...] = (
    (EntityType.PASPOR, r"pas(?:s)?p[oa]r(?:t)?", r"[A-Za-z]{1,2}[ \t]?\d{6,8}"),
    (EntityType.KK, r"kk|kartu[ \t]+keluarga", r"\d(?:[ .\-]?\d){15}"),
    (EntityType.BPJS, r"bpjs|jkn|kis", r"\d(?:[ .\-]?\d){10,12}"),
    (EntityType.SIM, r"sim(?:[ \t]+[abc]\d?)?", r"\d(?:[ .\-]?\d){11,13}"),
    (
        EntityType.KARTU,
        r"kartu[ \t]+(?:kredit|debit|atm)|credit[ \t]+card|debit[ \t]+card|cc",
        r"\d{4}(?:[ .\-]?\d{4}){3}",
    ),
    (
        EntityType.KARTU,
        r"nip|nrp|nisn|nomor[ \t]+induk(?:[ \t]+pegawai)?",
        r"\d(?:[ .\-]?\d){7,17}",
    ),
)
# Between the naming word and the number: a few words ("Kesehatan", "Ketenagakerjaan",
# "saya", "nomor"), no digits, no line break.
_BETWEEN = (
    r"(?:[ \t]*(?:[:#.()]|no\.?|nomor(?:nya)?|nomer|number|saya|sy|kesehatan|ketenagakerjaan"
    r"|tk|a|kk|peserta|kartu|suami|istri|anak|ayah|ibu|nya"
    r"|bca|bri|bni|mandiri|bsi|btn|cimb|niaga|permata|danamon|visa|mastercard|jcb))*"
    r"[ \t]*"
)
_LABELLED_PATTERNS = tuple(
    (
        kind,
        re.compile(
            rf"(?<!\w)(?i:{word})(?!\w)(?i:{_BETWEEN})(?P<value>{LEFT}{number}{RIGHT})"
            if kind is not EntityType.SIM
            else rf"(?<!\w)(?:SIM|[Ss]im)(?:[ \t]+[ABC]\d?)?(?!\w)(?i:{_BETWEEN})"
            rf"(?P<value>{LEFT}{number}{RIGHT})"
        ),
    )
    for kind, word, number in _LABELLED
)


def find_identifiers(text: str) -> Iterator[Span]:
    """Plates anywhere, and the numbers named by their word (see module doc)."""
    yield from find_plates(text)
    for kind, pattern in _LABELLED_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span("value")
            if kind is not EntityType.PASPOR and not digits_of(match["value"]):
                continue
            if kind is EntityType.SIM and match["value"].startswith("0"):
                continue  # "SIM card 0812…" is a phone number
            yield Span(start=start, end=end, kind=kind, value=match["value"])


def find_plates(text: str) -> Iterator[Span]:
    """ "B 1234 XYZ", "b1234xyz", "BK1077RR": spaced plates in capitals or after a vehicle
    word; unspaced ones with at least three digits or after a vehicle word."""
    if not any(c.isdigit() for c in text):
        return
    for match in _PLATE.finditer(text):
        if _is_plate(text, match):
            yield Span(start=match.start(), end=match.end(), kind=EntityType.PLAT, value=match[0])


def _is_plate(text: str, match: re.Match[str]) -> bool:
    if match["region"].upper() not in _REGION:
        return False
    named = _PLATE_WORD.search(text, 0, match.start()) is not None
    if named:
        return True
    letters = match["region"] + match["suffix"]
    if match["gap1"] or match["gap2"]:
        return letters.isupper()
    return len(match["digits"]) >= MIN_BARE_DIGITS and (letters.isupper() or letters.islower())
