"""The words of a person's name from a given position (CP1, issue 11): how far a name runs
once a cue has said one may start there, by casing and by what the lexicon says of each
word. `names.py` finds the cues; this module decides where the name ends.

`Cue` says how much the cue vouches for what follows (see names.py): only after strong
cues may a name start with an ordinary word or be written in lower case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum

from wagate.domain.privacy.lexicon import WordClass, looks_spoken, word_class
from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.privacy.vocabulary import (
    CONNECTORS,
    HONORIFICS,
    LAST_NAME_WORDS,
    MONTH_NAMES,
    NAMES_AFTER_FIRST_WORD,
    NOT_NAMES,
    TITLES,
    WORD_TITLES,
)

MAX_NAME_WORDS = 4
MAX_LONG_NAME_WORDS = 7
MIN_UPPER_NAME = 5  # a lone ALL-CAPS word shorter than this is an acronym


class Cue(Enum):
    HONORIFIC = 1
    RELATION = 2
    NAMED = 3
    SELF = 4
    WEAK = 5
    UPPER = 6


def _words(options: Sequence[str] | frozenset[str]) -> str:
    return "|".join(re.escape(o).replace(r"\ ", r"[ \t]+") for o in sorted(options, key=len)[::-1])


_TITLE = re.compile(
    "(?i:" + "|".join(TITLES) + r")\.[ \t]*|(?i:" + "|".join(WORD_TITLES) + r")[ \t]+(?=[A-Za-z])"
)
# "Moh. Rizal": a short abbreviated name word counts when a name word follows.
_CAPITALISED = re.compile(
    r"(?:Moh|Muh|Mhd|Moch|Much|Abd|Ach|St)\.(?=[ \t]+[A-Z][a-z])|[A-Z][a-z]+(?:['’-][A-Za-z]+)*"
    r"|[A-Z]{2,}(?:['’-][A-Z]+)*|[A-Z]\."
)
_INITIAL = re.compile(r"[A-Z](?=[ \t]+[A-Z][a-z])")  # Balinese "I Gusti", "M Rizky"
_LOWER = re.compile(r"[a-z]+(?:['’-][a-z]+)*")
_UPPER_WORD = re.compile(r"[A-Z]{2,}(?:['’-][A-Z]+)*")
_GAP = re.compile(r"[ \t]+")
_PAUSE = re.compile(r"[ \t]*(?:[,.!?\n]|$)")
_NEXT_TITLE = re.compile(r"[ \t]+([A-Z][a-z]+)(?:[ \t]+([A-Z][a-z]+))?")
_CONNECTOR = re.compile(rf"(?i:{_words(CONNECTORS)})\.?[ \t]+(?=[A-Z])")
_DIGIT_AFTER = re.compile(r"[ \t]*\d")
_HONORIFIC_SET = frozenset(HONORIFICS)


def all_namey(value: str) -> bool:
    """No word of `value` is an ordinary word ("Kornelis Tabuni", not "Bank Rakyat")."""
    return all(word_class(word) is not WordClass.COMMON for word in value.split())


def name_at(text: str, position: int, cue: Cue, *, lower: bool) -> Span | None:
    """The name starting at `position` (after any titles), if the words there make one."""
    while title := _TITLE.match(text, position):
        position = title.end()
    if cue is Cue.UPPER:
        end = _run(text, position, _UPPER_WORD, cue)
    elif position < len(text) and text[position].islower():
        end = _lower_run(text, position, cue) if lower else position
    else:
        end = _run(text, position, _CAPITALISED, cue)
    value = text[position:end]
    if end == position or not _is_name(value, cue):
        return None
    return Span(start=position, end=end, kind=EntityType.NAMA, value=value)


def _run(text: str, position: int, pattern: re.Pattern[str], cue: Cue) -> int:
    """End of the capitalised (or ALL-CAPS) words of a name from `position`."""
    end = position
    words = 0
    while words < MAX_LONG_NAME_WORDS:
        word = pattern.match(text, position) or _INITIAL.match(text, position)
        if word is None or _ends_name(text, word, cue, words):
            break
        end, words = word.end(), words + 1
        gap = _GAP.match(text, end)
        if gap is None:
            break
        position = gap.end()
        if connector := _CONNECTOR.match(text, position):
            position = connector.end()
    return end


def _ends_name(text: str, word: re.Match[str], cue: Cue, words: int) -> bool:
    """Whether `word` (the name's `words`-th so far) is not part of the name."""
    value = word.group()
    folded = value.rstrip(".").lower()
    if _continues(text, word.end()):
        return True
    if words >= MAX_NAME_WORDS and word_class(value) is WordClass.COMMON:
        return folded not in LAST_NAME_WORDS  # "Pak Satu Dua Tiga Empat Lima" is cut
    if folded in NOT_NAMES or folded in _HONORIFIC_SET:
        if words == 0 and cue is not Cue.WEAK and folded in MONTH_NAMES:
            return bool(_DIGIT_AFTER.match(text, word.end()))  # "Bu Mei", not "Mei 2024"
        return words == 0 or folded not in NAMES_AFTER_FIRST_WORD
    first_must_be_namey = cue in (Cue.WEAK, Cue.SELF)
    if words or not first_must_be_namey or word_class(value) is not WordClass.COMMON:
        return False
    # "saya Putri Ayu Lestari": an ordinary first word, but a name-like capitalised word
    # follows; "Saya Bingung Sekali" stays a sentence.
    following = _NEXT_TITLE.match(text, word.end())
    return following is None or not any(
        w is not None and word_class(w) in (WordClass.NAMEY, WordClass.ROOT)
        for w in following.groups()
    )


def _lower_run(text: str, position: int, cue: Cue) -> int:
    """End of a lower-case name from `position`, or `position` when there is none: a name's
    words are not ordinary words, and one of them must look like a name unless the writer
    said a name follows ("nama: budi prakoso")."""
    start = end = position
    classes: list[WordClass] = []
    while len(classes) < MAX_NAME_WORDS:
        word = _LOWER.match(text, position)
        if word is None or _continues(text, word.end()):
            break
        kind = word_class(word.group())
        if kind is WordClass.COMMON or not looks_spoken(word.group()):
            break
        end = word.end()
        classes.append(kind)
        gap = _GAP.match(text, end)
        if gap is None:
            break
        position = gap.end()
    name_like = {WordClass.NAMEY, WordClass.ROOT}
    if cue is Cue.SELF and not _PAUSE.match(text, end):
        name_like = {WordClass.NAMEY}  # "saya duda dua anak" is no name, "aku tiara," is
    if cue is Cue.NAMED or name_like.intersection(classes):
        return end
    return start


def _is_name(value: str, cue: Cue) -> bool:
    """Not initials alone; after a bare "an", not one short acronym ("an API", "an OTP");
    elsewhere not one two-letter acronym ("Ibu, CP: …", "ID pelanggan")."""
    words = value.replace(".", " ").split()
    if not any(len(word) > 1 for word in words):
        return False
    if len(words) == 1 and value.isupper() and len(value) <= 2:
        return False
    return cue is not Cue.UPPER or len(words) > 1 or len(value) >= MIN_UPPER_NAME


def _continues(text: str, end: int) -> bool:
    """The matched letters are only the start of a longer token ("Budi2", "Ani_x") or of an
    abbreviation ("Sp.PD", "S.H.")."""
    if end >= len(text):
        return False
    if text[end] == "." and end + 1 < len(text) and text[end + 1].isalpha():
        return True
    return text[end].isalnum() or text[end] == "_"
