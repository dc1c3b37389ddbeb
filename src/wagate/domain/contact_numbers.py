"""A question that asks for a phone number is answered only by a passage that holds one (AI3,
`KB_STRICT`).

"no telp pengadilan agama praya brp?" shares "pengadilan agama" and "Praya" with the divorce
guide, which names the court but gives no number for it: words alone rank that guide first,
and the answer would be a passage without what was asked. A phone number is the one kind of
answer a passage either plainly holds or does not (digits in a phone's shape, or a hotline
named as one), so this check can decline without judging meaning. Other kinds of answer
(amounts, dates, places) are held by passages that do not answer too: they stay with the
scope model.

Pure: it reads the question's normalised words and the passages' text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from wagate.domain.chat_words import content_words, named_at, normalise, word_forms

_MEDIUM = (
    r"(?:telepon|telpon|telp|tlp|telefon|phone|hp|ponsel|handphone|wa|whatsapp|hotline"
    r"|call center|sms|darurat|rekening|rek)"
)
# "nomor WA LPSK berapa", "no telp pengadilan brp", "call center bpjs berapa", "nomor WA
# pandawa": a number asked for. Not "no wa sy diretas, apa langkahnya", "polisi minta nomor
# hp sy", "nomor HP-nya sudah tidak aktif": the writer's own number, or none asked.
_NUMBER = r"(?:(?:nomor|no|nomer|nmr) )"
_ENTITY = r"(?:\s+(?!saya\b|aku\b|kami\b|kita\b|ku\b)\S+){0,5}?"
# Without "nomor", only a line's name asks ("telp kantor brp"), not a phone ("cicilan hp
# berapa"); and "berapa lama/kali …" asks how long or how often, not for a number.
_LINE = r"(?:telepon|telpon|telp|tlp|wa|whatsapp|hotline|call center)"
_NOT_A_NUMBER = r"(?!\s+(?:lama|kali|banyak|hari|bulan|tahun|jam|persen|denda|biaya|nya))"
_ASKS = re.compile(
    rf"\b(?:{_NUMBER}{_MEDIUM}|{_LINE})\b{_ENTITY}\s+berapa\b{_NOT_A_NUMBER}"
    rf"|\bberapa {_NUMBER}{_MEDIUM}\b"
    rf"|^{_NUMBER}{_MEDIUM}{_ENTITY}$"
)
_OWN = re.compile(r"\b(?:saya|aku|kami|ku)\b")
# A phone number: an Indonesian one ("0812-3456-7890", "(0370) 631 234", "+62 370 …"), not
# inside an amount or a date ("Rp 2.062.500.000", "2023-05-12"); or a short line named as
# one ("SAPA 129", "OJK (157)", "hubungi 110", "call center 1500-500", "1500 111"). A comma
# or full stop after it ends the sentence ("WhatsApp 08118165165, atau …"), not an amount.
_PHONE = re.compile(
    r"(?<![\d.,/-])(?:\+62|62(?=\s?8)|\(0\d{2,4}\)|0\d{2,4})[\s.-]?\d{3,4}(?:[\s.-]?\d{2,5}){0,2}(?!\d|[.,]\d)"
)
_SHORT = r"\(?(?:1[45]0\d[\s-]?\d{3}|\d{3,5})\)?"
_UNIT = r"(?:\s*(?:juta|ribu|miliar|rupiah|tahun|bulan|hari|jam|menit|persen|%|km|meter|orang))"
_HOTLINE = re.compile(
    rf"wa\.me/\d{{8,}}"
    rf"|\b(?:hubungi|telepon|telp|tlp|call center|care center|contact center|hotline|sms|wa"
    rf"|whatsapp|pengaduan|darurat)\b"
    rf"(?:\s+(?!tahun|pasal|sejak|rp|nomor|no|sebesar|sampai|hingga|denda)[a-z]+){{0,3}}"
    rf"\s*:?\s*{_SHORT}(?!\d|{_UNIT})"
    rf"|(?-i:\b[A-Z]{{2,}})\s*{_SHORT}(?![\d.,]|{_UNIT})",
    re.IGNORECASE,
)


def asks_for_a_number(question: str) -> bool:
    found = _asked_number(normalise(question))
    return found is not None and _OWN.search(found.group()) is None


def _asked_number(text: str) -> re.Match[str] | None:
    """Where the question asks for a number: "… berapa", or a line's name before an
    institution's ("Mohon informasi nomor telepon Pengadilan Agama Padang.")."""
    return _ASKS.search(text) or _ASKS_OF_INSTITUTION.search(text)


# A bank account: "Rekening BRI 0123-01-004567-50-8", "rek. BNI 1234567890 a.n. …".
_ACCOUNT = re.compile(r"\b(?:rekening|rek)\b[^\n]{0,60}?\d(?:[\s.-]?\d){7,}", re.IGNORECASE)


def holds_a_number(text: str) -> bool:
    return any(p.search(text) is not None for p in (_PHONE, _HOTLINE, _ACCOUNT))


# Whose number is asked: the words beside the line's name ("no telp pengadilan agama praya
# brp" → pengadilan, agama, praya). A passage answers only when a number in it stands within
# `WINDOW` words of them: the office's own contact page holds a number and the town's name
# ("Jl. Sam Ratulangi, Manado, telp 0431 …"), and that is not the court's number. Two of the
# holder's words must be there (one when it has one): the town alone is not the court.
WINDOW = 12
_HOLDER_SKIP_TEXT = """
nomor no nomer nmr berapa telepon telpon telp tlp telefon phone hp ponsel handphone wa
whatsapp hotline call center sms kantor resmi aktif yang bisa dihubungi pengaduan aduan darurat
rekening rek lebih ditelepon menelepon nelpon ditelpon dikontak
"""
_HOLDER_SKIP = frozenset(_HOLDER_SKIP_TEXT.split())
_SENTENCE_END = re.compile(r"[.?!\n]")
_TOKEN = re.compile(r"[a-z0-9]+")


def number_holder(question: str) -> list[str]:
    """The words naming whose number the question asks for ([] when it names none: "no wa
    nya brp" after a question on appointments)."""
    text = normalise(question)
    found = _asked_number(text)
    if found is None:
        return []
    words = found.group()
    if words.startswith("berapa"):  # "berapa nomor telepon Pengadilan Agama Kupang?"
        words = _SENTENCE_END.split(text[found.end() :], maxsplit=1)[0]
    return [
        w
        for w in dict.fromkeys(content_words(words))
        if w not in _HOLDER_SKIP and not w.isdigit() and len(w) > 2
    ]


def holds_a_number_of(
    text: str,
    holder: Sequence[str],
    section: str = "",
    read_as: Mapping[str, Sequence[str]] | None = None,
    *,
    account: bool = False,
) -> bool:
    """A number in `text` within `WINDOW` words of two of the `holder` words (`number_holder`;
    one when it names one), counting those the passage's own heading names; `read_as`: the
    document words the search read a question word as (a typo's correction). With `account`
    (a bank account asked: `asks_for_an_account`) only an account number counts, not the
    office's phone beside its name."""
    patterns = (_ACCOUNT,) if account else (_PHONE, _HOTLINE, _ACCOUNT)
    if not holder:
        return any(p.search(text) is not None for p in patterns)
    return _held_near(text, holder, section, read_as, patterns)


def asks_for_an_account(question: str) -> bool:
    """The number asked is a bank account's ("no rekening lbh brp?")."""
    found = _asked_number(normalise(question))
    return found is not None and re.search(r"\b(?:rekening|rek)\b", found.group()) is not None


# A street address or opening hours asked of another institution: "alamat pengadilan agama
# palu di jln apa?", "kantor pertanahan bukanya jam brp?", "jam besuk rutan jam berapa?". The
# divorce guide names the court and its town but gives no street; the office's page gives
# its own street and hours. Like a phone number, a street ("Jl. Dewi Sartika No. 27") or a
# time of day ("08.00", "pukul 9") is plainly held or not, so the check needs no meaning:
# one must stand near the institution asked about. Only an institution (`_INSTITUTIONS`)
# makes the check: "alamat kantor lbh dmn?", "besong pung kantor buka jam brapa?" ask the
# office's own, which its page answers whatever else the client writes.
ADDRESS_ASKED = re.compile(
    r"\balamat(?:nya)?\b(?:\s+\S+){0,6}?\s+(?:di ?mana|mana|apa)\b"
    r"|^alamat(?:\s+\S+){0,4}$|\bdi jalan apa(?: ya| sih| kak| min| kah)?$"
    r"|^lokasi(?:\s+\S+){0,4}$|\blokasi(?:nya)?\b(?:\s+\S+){0,6}?\s+(?:di ?mana|mana)\b"
)
_ADDRESS = re.compile(r"\b(?:Jl|Jln|Jalan)\.?\s+[A-Z0-9]|\bNo\.\s*\d+|\bKm\.?\s*\d+")
HOURS_ASKED = re.compile(
    r"\b(?:buka|tutup) (?:jam|pukul) berapa\b|\b(?:jam|pukul) berapa (?:buka|tutup)\b"
    r"|\bjam (?:buka|operasional|layanan|pelayanan|besuk|kunjungan)\b|\bjam besuk\b"
    r"|\bbesuk\b[^.?!]{0,30}\bjam berapa\b|\bjam berapa\b[^.?!]{0,30}\bbesuk\b"
)
_TIME = re.compile(r"\b(?:[01]?\d|2[0-3])[.:][0-5]\d\b|\bpukul \d", re.IGNORECASE)
_INSTITUTIONS = frozenset(
    {"pengadilan", "kejaksaan", "kejari", "kejati", "polres", "polsek", "polda", "polresta",
     "polrestabes", "rutan", "lapas", "lpka", "bapas", "bpn", "pertanahan", "atr", "imigrasi",
     "dukcapil", "disdukcapil", "capil", "samsat", "kua", "kemenag", "disnaker", "bpjs", "lpsk",
     "ojk", "ombudsman", "komnas", "puskesmas", "rsud", "kelurahan", "kecamatan", "bp2mi",
     "bp3mi", "kemenkumham", "notaris", "ppat", "dprd", "pemda", "pemkot", "pemkab", "bupati",
     "walikota", "gubernur", "dinas", "kantah", "mahkamah", "kpu", "bawaslu", "ksop",
     "syahbandar", "rudenim", "baitul", "baitulmal", "ptsp", "mpp", "kodim", "koramil",
     "bpbd", "bnpb", "basarnas", "bnn", "bnnk", "bnnp", "dinsos", "dinkes", "bpom", "kpk", "kpai",
     "dp3a", "uptd", "bapenda", "kpp", "pegadaian", "satpol", "damkar", "unhcr", "kbri",
     "kedutaan", "konsulat", "dishub", "baznas", "dpmptsp", "disperindag", "kemensos", "kanwil",
     "ppa", "upt", "bpkad"}
)  # fmt: skip
# A line's name before an institution's asks its number, "berapa" or not.
_ASKS_OF_INSTITUTION = re.compile(
    rf"\b{_NUMBER}?{_MEDIUM}\b(?:\s+(?!saya\b|aku\b|kami\b|ku\b)\S+){{0,2}}?"
    rf"\s+(?:{'|'.join(sorted(_INSTITUTIONS))})\b(?:\s+\S+){{0,3}}"
)
# An institution named by an acronym no list above knows ("alamat kantor BPBD kota padang
# dmn?"): an institution too, unless it is a legal-aid office's own kind (the office) or
# a time zone, a medium or a document everyone has (WIB, WA, KTP).
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{2,6}\b")
# The kinds of legal-aid office: the office itself, never another institution.
OFFICE_KINDS = frozenset(
    {"LBH", "YLBH", "YLBHI", "PBH", "OBH", "PKBH", "LKBH", "PBHI", "BKBH", "LPBH", "POSBAKUM"}
)
_NO_INSTITUTION = OFFICE_KINDS | {
    "WA", "WIB", "WITA", "WIT", "SMS", "PDF", "KTP", "NIK", "NPWP", "ATM", "HP", "CS"
}  # fmt: skip
# Words of the office's own: a clause that has one and names no institution asks the office.
_OWN_PLACE = frozenset({"kantor", "lbh", "lebih", "posbakum", "kalian", "anda", "sini", "kamu"})
_CLAUSE = re.compile(r"[.?!,;\n]+")


def asks_for_an_address(question: str) -> bool:
    """A street address of an institution asked ("alamat PA kupang", "alamat kantor BPN di
    mana?"); not the office's own, not the writer's ("alamat saya pindah")."""
    return bool(institutions_asked(question, ADDRESS_ASKED))


def asks_for_hours(question: str) -> bool:
    """Opening or visiting hours of an institution asked ("kantor pertanahan buka jam brp?",
    "jam besuk rutan?"); not the office's own ("kantor lbh buka jam brp?")."""
    return bool(institutions_asked(question, HOURS_ASKED))


def institutions_asked(question: str, asks: re.Pattern[str]) -> list[str]:
    """The institutions whose address or hours (`asks`) the question asks: named in the
    clause that asks, or, when that clause names no one ("Jam besuk itu jam berapa?"), in
    the clause before it. [] when nothing is asked or it is the office's own."""
    raw = [c for c in _CLAUSE.split(question) if c.strip()]
    clauses = [normalise(c) for c in raw]
    for index, clause in enumerate(clauses):
        if asks.search(clause) is None:
            continue
        words = clause.split()
        named = [w for w in words if w in _INSTITUTIONS] or [
            m.group().lower()
            for m in _ACRONYM.finditer(raw[index])
            if m.group() not in _NO_INSTITUTION and m.group().lower() in words
        ]
        if named or not set(words).isdisjoint(_OWN_PLACE) or index == 0:
            return list(dict.fromkeys(named))
        return list(dict.fromkeys(w for w in clauses[index - 1].split() if w in _INSTITUTIONS))
    return []


def holds_an_address_of(text: str, institutions: Sequence[str], section: str = "") -> bool:
    """A street address in `text` within `WINDOW` words of one of the `institutions`."""
    return any(_held_near(text, [name], section, None, (_ADDRESS,)) for name in institutions)


def holds_hours_of(text: str, institutions: Sequence[str], section: str = "") -> bool:
    """A time of day in `text` within `WINDOW` words of one of the `institutions`."""
    return any(_held_near(text, [name], section, None, (_TIME,)) for name in institutions)


def _held_near(
    text: str,
    holder: Sequence[str],
    section: str,
    read_as: Mapping[str, Sequence[str]] | None,
    patterns: Sequence[re.Pattern[str]],
) -> bool:
    wanted = [
        frozenset().union(word_forms(w), *(word_forms(c) for c in (read_as or {}).get(w, ())))
        for w in holder
    ]
    needed = min(2, len(wanted))
    found = list(_TOKEN.finditer(text.lower()))
    spans = [(m.start(), m.end()) for m in found]
    tokens = [m.group() for m in found]
    heading = _TOKEN.findall(section.rpartition("›")[2].lower())
    in_heading = {i for i, forms in enumerate(wanted) if named_at(heading, forms)}
    at = [named_at(tokens, forms) for forms in wanted]
    for number in [found for pattern in patterns for found in pattern.finditer(text)]:
        first = next((i for i, (_, end) in enumerate(spans) if end > number.start()), len(spans))
        last = max((i for i, (start, _) in enumerate(spans) if start < number.end()), default=first)
        named = in_heading | {
            i
            for i, places in enumerate(at)
            if any(first - WINDOW <= p <= last + WINDOW for p in places)
        }
        if len(named) >= needed:
            return True
    return False
