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

from wagate.domain.chat_words import normalise

_MEDIUM = (
    r"(?:telepon|telpon|telp|tlp|telefon|phone|hp|ponsel|handphone|wa|whatsapp|hotline"
    r"|call center|sms)"
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
# one ("SAPA 129", "OJK (157)", "hubungi 110", "call center 1500-500", "1500 111").
_PHONE = re.compile(
    r"(?<![\d.,/-])(?:\+62|62(?=\s?8)|\(0\d{2,4}\)|0\d{2,4})[\s.-]?\d{3,4}(?:[\s.-]?\d{2,5}){0,2}(?![\d.,])"
)
_SHORT = r"\(?(?:1[45]0\d[\s-]?\d{3}|\d{3,5})\)?"
_UNIT = r"(?:\s*(?:juta|ribu|miliar|rupiah|tahun|bulan|hari|jam|menit|persen|%|km|meter|orang))"
_HOTLINE = re.compile(
    rf"wa\.me/\d{{8,}}"
    rf"|\b(?:hubungi|telepon|telp|tlp|call center|hotline|sms|wa|whatsapp|pengaduan|darurat)\b"
    rf"(?:\s+(?!tahun|pasal|sejak|rp|nomor|no|sebesar|sampai|hingga|denda)[a-z]+){{0,3}}"
    rf"\s*:?\s*{_SHORT}(?!\d|{_UNIT})"
    rf"|(?-i:\b[A-Z]{{2,}})\s*{_SHORT}(?![\d.,]|{_UNIT})",
    re.IGNORECASE,
)


def asks_for_a_number(question: str) -> bool:
    text = normalise(question)
    found = _ASKS.search(text)
    return found is not None and _OWN.search(found.group()) is None


def holds_a_number(text: str) -> bool:
    return _PHONE.search(text) is not None or _HOTLINE.search(text) is not None
