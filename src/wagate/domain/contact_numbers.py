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
# "nomor WA LPSK berapa", "no telp pengadilan brp", "minta nomor hp kantor": a number asked
# for. "nomor HP-nya sudah tidak aktif" in a story asks for nothing.
_ASKS = re.compile(
    rf"\b(?:nomor|no|nomer|nmr) {_MEDIUM}\b(?=(?:\s+\S+){{0,5}}?\s+(?:berapa|apa|mana)\b)"
    rf"|\b(?:berapa|minta) (?:nomor|no|nomer|nmr) {_MEDIUM}\b"
    rf"|^(?:nomor|no|nomer|nmr) {_MEDIUM}\b(?:\s+\S+){{0,3}}$"
)
# A phone number: an Indonesian one ("0812-3456-7890", "(0370) 631 234", "+62 370 …") or a
# hotline named as such ("SAPA 129", "call center 1500-xxx", "hotline 110").
_PHONE = re.compile(r"(?:\+?62|\(?0\d{2,4}\)?)[\s.\-]*\d{2,5}(?:[\s.\-]*\d{2,5}){1,3}")
_HOTLINE = re.compile(
    rf"\b{_MEDIUM}\b[^.\n]{{0,40}}?\b\d{{3,5}}\b|\b\d{{3,5}}\b[^.\n]{{0,15}}\b{_MEDIUM}\b",
    re.IGNORECASE,
)


def asks_for_a_number(question: str) -> bool:
    return _ASKS.search(normalise(question)) is not None


def holds_a_number(text: str) -> bool:
    return _PHONE.search(text) is not None or _HOTLINE.search(text) is not None
