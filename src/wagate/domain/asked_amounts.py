"""A question that asks "how much / how long / how many" is answered only by a passage that
holds a number near what it asks about (AI3, `KB_STRICT`).

"iuran BPJS kesehatan kelas 3 brp sebulan?", "UMK Kupang 2026 berapa?", "berapa honor PPAT?":
the documents name BPJS, the minimum wage, the PPAT, and words alone rank those passages
first — but none gives the figure asked, and an answer without it is a guess dressed as a
citation. A figure is something a passage plainly holds or does not: digits, or a number
written as a word ("tiga bulan", "separuh"; "gratis", "tidak dipungut biaya" and "cuma-cuma"
answer a fee asked), within a few words of a word the
question asks about ("iuran … Rp42.000", "paling lama 14 hari kerja"). A passage that
gives a figure for something else (the severance table, when the minimum wage is asked)
holds no number near the asked word, and the question is declined.

Pure: it reads the question's normalised words and the passages' text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from wagate.domain.chat_words import (
    content_words,
    named_at,
    normalise,
    topic_weight,
    word_forms,
)

WINDOW = 8  # words between an asked word and a figure in the passage
_ASKS = re.compile(r"\bberapa\b")
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER_TEXT = """
satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas belas puluh ratus ribu
juta miliar triliun persen setengah separuh seperempat sepertiga seratus seribu sejuta
sehari seminggu sepekan sebulan setahun seperlima puluhan ratusan ribuan gratis nol prodeo
"""
# Free of charge said in words: read as "gratis" before the words are split.
_FREE = re.compile(
    r"\b(?:tidak|tanpa) (?:dipungut|dikenakan|dikenai|ada) (?:biaya|bayaran|pungutan)\b"
    r"|\b(?:tanpa|bebas) biaya\b|\bcuma[ -]cuma\b"
)
# A rule's number and year ("13/2003", "PP 35/2021") and a list item's or clause's number at
# a line's start ("1. Surat gugatan", "(2) Pengusaha wajib …") are no figures: removed
# before the words are split. A fraction stays: "1/25" of the monthly wage is a day's.
_NOT_FIGURES = re.compile(r"\b\d{1,4}/(?:19|20)\d{2}\b|^\s*\(?\d{1,2}[.)](?=\s)", re.MULTILINE)
# A number after these names a rule, a year or a list item, not a figure: "Pasal 156",
# "UU Nomor 13 Tahun 2003", "ayat (2)".
_REFERENCE_WORDS = frozenset(
    {"pasal", "ayat", "uu", "undang", "nomor", "no", "tahun", "bab", "pp", "perpres",
     "permen", "perda", "huruf", "angka", "perma", "permenaker", "kepmen", "kepmenaker",
     "keppres", "inpres", "perppu", "pergub", "perbup", "perwali", "sema", "perkap"}
)  # fmt: skip
_NUMBER_WORDS = frozenset(_NUMBER_TEXT.split())
_ASKED_THING_MIN = 0.3  # topic weight of a word that names what is asked about


def asks_for_an_amount(question: str) -> bool:
    """The question asks how much, how long or how many ("brp", "berapa lama")."""
    return _ASKS.search(normalise(question)) is not None


def asked_about(question: str, also: Iterable[str] = ()) -> list[str]:
    """The words naming what the figure is of: the question's topic words, and `also` (the
    document words the search read them as: a typo's correction, a related word)."""
    words = [*content_words(question), *also]
    return list(
        dict.fromkeys(w for w in words if w != "berapa" and topic_weight(w) >= _ASKED_THING_MIN)
    )


def holds_a_figure_near(text: str, asked: Sequence[str], section: str = "") -> bool:
    """A number within `WINDOW` words of one of the asked words (in any affixed form), or
    anywhere in a passage whose own heading (the section path's last part) names one ("6.
    Lama Proses": the section is about it, and its body need not repeat the word). A number
    naming a rule or a year ("Pasal 156", "Tahun 2003") is no figure."""
    if not asked or not any(len(w) > 2 for w in asked):
        return True  # nothing to place the figure by: no judgement
    wanted = frozenset().union(*map(word_forms, asked))
    free = _FREE.sub(lambda found: f"{found.group()} gratis", text.lower())
    tokens = _WORD.findall(_NOT_FIGURES.sub(" ", free))
    at_number = [i for i in range(len(tokens)) if _is_figure(tokens, i)]
    if not at_number:
        return False
    heading = section.rpartition("›")[2].lower()  # its own heading, not its chapter's
    if named_at(_WORD.findall(heading), wanted):
        return True
    return any(abs(i - j) <= WINDOW for i in named_at(tokens, wanted) for j in at_number)


def _is_figure(tokens: Sequence[str], index: int) -> bool:
    token = tokens[index]
    if token in _NUMBER_WORDS or (token.startswith("rp") and token[2:3].isdigit()):
        return True  # "tiga", "gratis", "Rp50000"
    if not token[0].isdigit():
        return False
    return index == 0 or tokens[index - 1] not in _REFERENCE_WORDS
