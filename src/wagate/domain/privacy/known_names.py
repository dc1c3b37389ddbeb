"""Names we already know, found wherever they are mentioned again (CP1, issue 11).

Known names are the contact's WhatsApp profile name and the account's name, every name the
conversation's vault has masked before, and every name found elsewhere in the same text. A
name found once must not leak at its next mention, whatever its case:
* a known name of two or more words is matched whole, case-insensitively;
* its single words (3+ letters, not a listed common word) are matched alone: in any case
  when the word looks like a name to the lexicon ("marlina", "JOKO"); when it is also an
  ordinary word ("Bagus", "budi") only written capitalised, right after an honorific, or
  where the writer signs with it ("saya budi", "salam, budi", "budi disini");
* a hit followed by capitalised name words takes them along: with the profile name "Andi",
  "Andi Wijaya di sini" is one name, so the surname does not leak.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from wagate.domain.privacy.lexicon import WordClass, word_class
from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.privacy.vocabulary import HONORIFICS, NOT_NAMES

MIN_KNOWN_WORD = 3
_ANY_CASE = frozenset({WordClass.NAMEY, WordClass.ROOT})
MAX_SURNAME_WORDS = 3

_HONORIFIC_WORDS = "|".join(sorted(HONORIFICS, key=len, reverse=True))
_HONORIFIC_BEFORE = re.compile(rf"(?<!\w)(?:{_HONORIFIC_WORDS})\b\.?[ \t]+$", re.IGNORECASE)
# A known name's word in lower case still names the writer here: "dewi disini", "salam, dewi".
_SELF_BEFORE = re.compile(r"(?<!\w)(?:saya|sy|aku|salam|ttd|namaku)\W{0,3}$", re.IGNORECASE)
_SELF_AFTER = re.compile(r"[ \t]+(?:disini|di[ \t]+sini)\b", re.IGNORECASE)
_GAP = re.compile(r"[ \t]+")
_NAME_PART = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_LOWER_WORD = re.compile(r"[ \t]+([a-z]{3,})(?![\w])")
_TITLE_WORD = re.compile(r"[ \t]+([A-Z][a-z]+(?:['’-][A-Za-z]+)*)(?![\w])")


def find_known(text: str, names: tuple[str, ...]) -> Iterator[Span]:
    """Every mention of `names` in `text` (see module doc). One pass over the words of
    `text`, no pattern compiled per name set: the set changes with every message."""
    if not names:
        return
    wholes, singles = _known_words(names)
    words, at = _words_of(text)
    if wholes:
        for parts in wholes:
            for index in at.get(parts[0], ()):
                window = words[index : index + len(parts)]
                if [w[2] for w in window] == list(parts) and all(
                    _GAP.fullmatch(text, a[1], b[0]) for a, b in itertools.pairwise(window)
                ):
                    yield _span(
                        text, window[0][0], _with_surname(text, window[0][0], window[-1][1])
                    )
    # The words that are one of the single names, in the text's order: looked up by name in
    # the index rather than every word of the text tested against the names.
    found = sorted(index for single in singles for index in at.get(single, ()))
    hits = [
        (start, end)
        for start, end, _ in (words[index] for index in found)
        if _written_as_name(text, start, end)
    ]
    for start, end in _merge_adjacent(text, hits):
        yield _span(text, start, _with_surname(text, start, end))


_Word = tuple[int, int, str]  # start, end, lower case


@lru_cache(maxsize=32)
def _words_of(text: str) -> tuple[tuple[_Word, ...], dict[str, tuple[int, ...]]]:
    """The name-like words of `text` and where each (lower-cased) stands among them. Kept for
    the last texts: the system prompt is the same text in every AI call of a tenant, and a
    conversation's turns come back in each of its calls, with other names to look for."""
    words = tuple((m.start(), m.end(), m[0].lower()) for m in _NAME_PART.finditer(text))
    at: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        at.setdefault(word[2], []).append(index)
    return words, {word: tuple(indexes) for word, indexes in at.items()}


def _span(text: str, start: int, end: int) -> Span:
    return Span(start=start, end=end, kind=EntityType.NAMA, value=text[start:end])


def _with_surname(text: str, start: int, end: int) -> int:
    """`end` moved past up to three name words that follow it: capitalised ones that are not
    ordinary words, or after a lower-case hit ("rina marlina") lower-case name-like ones."""
    pattern = _LOWER_WORD if text[start].islower() else _TITLE_WORD
    for _ in range(MAX_SURNAME_WORDS):
        word = pattern.match(text, end)
        if word is None:
            break
        kind = word_class(word[1])
        if kind is WordClass.COMMON or (pattern is _LOWER_WORD and kind is not WordClass.NAMEY):
            break
        if word.end() < len(text) and text[word.end()] in "._":
            break  # "Budi Jl." or "Budi Santoso_x": not a plain name word
        end = word.end()
    return end


def _written_as_name(text: str, start: int, end: int) -> bool:
    if text[start].isupper() or word_class(text[start:end]) in _ANY_CASE:
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
def _known_words(names: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], ...], frozenset[str]]:
    """(whole names of 2+ words, their usable single words), lower-cased."""
    wholes: set[tuple[str, ...]] = set()
    singles: set[str] = set()
    for name in names:
        parts = [p.lower() for p in name_parts(name)]
        if len(parts) >= 2:
            wholes.add(tuple(parts))
        singles.update(p for p in parts if len(p) >= MIN_KNOWN_WORD and p not in NOT_NAMES)
    return tuple(sorted(wholes)), frozenset(singles)


def name_parts(name: str) -> list[str]:
    """Letter words of a name; degrees ("S.H."), initials ("R.") and emoji dropped."""
    kept = (part for part in re.split(r"[\s,]+", name) if "." not in part)
    return [word for part in kept for word in _NAME_PART.findall(part)]
