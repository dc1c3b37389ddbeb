"""Person names: the names we know (contact's WhatsApp profile name, account name) and names
introduced by an honorific ("Pak Budi Santoso") or by the writer ("nama saya Rina", "a.n.
BUDI SANTOSO").

Decisions, for precision (a false name costs a word of meaning in every answer):
* A known name of two or more words is matched whole, case-insensitively. Its single words
  (3+ letters, not a common word from `vocabulary.NOT_NAMES`) are matched alone only when
  written capitalised, right after an honorific, or where the writer signs with it ("saya
  budi", "salam, budi", "budi disini"): "pak budi" is Budi, "budi daya" is not.
* After an honorific, a role ("Notaris"), kinship ("anak saya,", "ibu dari") or "saya", a name
  is 1–4 capitalised words (initials like "M." allowed inside); it ends at a lowercase word,
  punctuation, a line break or a listed common word.
  Titles after the honorific ("H.", "Dr.") are skipped; the span is the name alone, so the AI
  still reads "Pak [NAMA_1]".
* After "nama"/"namanya"/"a.n."/"atas nama" ALL-CAPS words count too (bank slips), after a
  bare "an" only they do; after "nama saya"/"nama lengkap" lowercase words do as well, since
  the writer has just said it is a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from functools import lru_cache

from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.privacy.vocabulary import (
    HONORIFICS,
    KIN,
    NAMES_AFTER_FIRST_WORD,
    NOT_NAMES,
    ROLES,
    TITLES,
)

MAX_NAME_WORDS = 4
MIN_KNOWN_WORD = 3
MIN_UPPER_NAME = 5  # a lone ALL-CAPS word shorter than this is an acronym


class _Casing(Enum):
    TITLE = 1  # Budi
    CAPS = 2  # Budi, BUDI
    ANY = 3  # Budi, BUDI, budi
    UPPER = 4  # BUDI


def _words(options: Iterable[str]) -> str:
    return "|".join(sorted(options, key=len, reverse=True))


_HONORIFIC_WORDS = _words(HONORIFICS)
_HONORIFIC_BEFORE = re.compile(rf"(?<!\w)(?:{_HONORIFIC_WORDS})\b\.?[ \t]+$", re.IGNORECASE)
# Everything that may introduce a name, one alternative per casing rule; where two could
# start at the same place the more specific comes first ("nama saya" before "saya", "ibu
# dari" before "ibu", "an." before "an").
_TRIGGER = re.compile(
    r"(?<!\w)(?:"
    r"(?P<own>nama[ \t]+(?:lengkap(?:[ \t]+(?:saya|aku))?|saya|aku|sy))"
    r"|(?P<named>nama(?:[ \t]+(?:klien|suami|istri|anak|ibu|ayah|pemilik)"
    r"(?:[ \t]+(?:saya|kami|aku))?)?|namanya|bernama|atas[ \t]+nama|a\.[ \t]?n\.?|a/n|an\.)"
    rf"|(?P<kin>(?:{_words(KIN)})[ \t]+(?:saya|sy|kami|aku|dari|kandung)[ \t]*,?)"
    r"|(?P<upper>an)"
    rf"|(?P<honorific>(?:{_HONORIFIC_WORDS})\b\.?|(?:{_words(ROLES)})\b)"
    r"|(?P<self>saya|aku|sy)"
    r")(?!\w)[ \t]*(?:adalah|:|=|-)?[ \t]*",
    re.IGNORECASE,
)
_CASING = {
    "own": _Casing.ANY,
    "named": _Casing.CAPS,
    "kin": _Casing.TITLE,
    "upper": _Casing.UPPER,
    "honorific": _Casing.TITLE,
    "self": _Casing.TITLE,
}
# A known name's word in lower case still names the writer here: "dewi disini", "salam, dewi".
_SELF_BEFORE = re.compile(r"(?<!\w)(?:saya|sy|aku|salam|ttd|namaku)\W{0,3}$", re.IGNORECASE)
_SELF_AFTER = re.compile(r"[ \t]+(?:disini|di[ \t]+sini)\b", re.IGNORECASE)
_TITLE = re.compile("(?:" + "|".join(TITLES) + r")\.[ \t]*")
_WORDS = {
    _Casing.TITLE: re.compile(r"[A-Z][a-z]+(?:['’-][A-Za-z]+)*|[A-Z]\."),
    _Casing.CAPS: re.compile(r"[A-Z][a-z]+(?:['’-][A-Za-z]+)*|[A-Z]{2,}(?:['’-][A-Z]+)*|[A-Z]\."),
    _Casing.ANY: re.compile(r"[A-Za-z][a-z]+(?:['’-][A-Za-z]+)*|[A-Z]{2,}|[A-Z]\."),
    _Casing.UPPER: re.compile(r"[A-Z]{2,}(?:['’-][A-Z]+)*"),
}
_GAP = re.compile(r"[ \t]+")
_NAME_PART = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def find_names(text: str, known_names: Sequence[str] = ()) -> Iterator[Span]:
    """Names in `text`: known names (see module doc) and names after honorifics or intros."""
    yield from _known(text, tuple(known_names))
    for match in _TRIGGER.finditer(text):
        yield from _name_at(text, match.end(), _CASING[str(match.lastgroup)])


def _name_at(text: str, position: int, casing: _Casing) -> Iterator[Span]:
    """The name starting at `position` (after any titles), if the words there make one."""
    while title := _TITLE.match(text, position):
        position = title.end()
    start = end = position
    words = 0
    pattern = _WORDS[casing]
    while words < MAX_NAME_WORDS and (word := pattern.match(text, position)):
        if _is_common(word.group(), first=words == 0) or _continues(text, word.end()):
            break
        if words and word.group()[0].islower() != text[start].islower():
            break  # "nama saya Budi Santoso buat …": a name keeps its casing
        end, words = word.end(), words + 1
        gap = _GAP.match(text, end)
        if gap is None:
            break
        position = gap.end()
    if _is_name(text[start:end], casing):
        yield Span(start=start, end=end, kind=EntityType.NAMA, value=text[start:end])


def _is_name(value: str, casing: _Casing) -> bool:
    """Not initials alone; after a bare "an", not one short acronym ("an API", "an OTP")."""
    words = value.replace(".", " ").split()
    if not any(len(word) > 1 for word in words):
        return False
    return casing is not _Casing.UPPER or len(words) > 1 or len(value) >= MIN_UPPER_NAME


def _is_common(word: str, *, first: bool) -> bool:
    folded = word.rstrip(".").lower()
    return folded in NOT_NAMES and (first or folded not in NAMES_AFTER_FIRST_WORD)


def _continues(text: str, end: int) -> bool:
    """The matched letters are only the start of a longer token ("Budi2", "Ani_x")."""
    return end < len(text) and (text[end].isalnum() or text[end] == "_")


def _known(text: str, names: tuple[str, ...]) -> Iterator[Span]:
    whole, single = _known_patterns(names)
    if whole is not None:
        for match in whole.finditer(text):
            yield Span(start=match.start(), end=match.end(), kind=EntityType.NAMA, value=match[0])
    if single is not None:
        hits = [m.span() for m in single.finditer(text) if _written_as_name(text, *m.span())]
        for start, end in _merge_adjacent(text, hits):
            yield Span(start=start, end=end, kind=EntityType.NAMA, value=text[start:end])


def _written_as_name(text: str, start: int, end: int) -> bool:
    if text[start].isupper():
        return True
    before = text[max(0, start - 14) : start]
    return bool(
        _HONORIFIC_BEFORE.search(before)
        or _SELF_BEFORE.search(before)
        or _SELF_AFTER.match(text, end)
    )


def _merge_adjacent(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join "Budi" + "Santoso" into one span when only spaces lie between them."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and _GAP.fullmatch(text, merged[-1][1], start):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


@lru_cache(maxsize=1024)
def _known_patterns(
    names: tuple[str, ...],
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """(whole names of 2+ words, their usable single words), compiled once per name set."""
    wholes: set[str] = set()
    singles: set[str] = set()
    for name in names:
        parts = _name_parts(name)
        if len(parts) >= 2:
            wholes.add(r"[ \t]+".join(map(re.escape, parts)))
        singles.update(
            re.escape(p) for p in parts if len(p) >= MIN_KNOWN_WORD and p.lower() not in NOT_NAMES
        )
    return _alternation(wholes), _alternation(singles)


def _name_parts(name: str) -> list[str]:
    """Letter words of a profile or account name; degrees ("S.H.") and emoji dropped."""
    kept = (part for part in re.split(r"[\s,]+", name) if "." not in part)
    return [word for part in kept for word in _NAME_PART.findall(part)]


def _alternation(options: set[str]) -> re.Pattern[str] | None:
    if not options:
        return None
    ordered = sorted(options, key=lambda option: (-len(option), option))
    return re.compile(r"(?<!\w)(?:" + "|".join(ordered) + r")(?!\w)", re.IGNORECASE)
