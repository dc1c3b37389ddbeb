"""Is a word an ordinary Indonesian word or could it be a name? (issue 11)

Three classes, from the generated tiers in `data/words.py` (wordfreq's Indonesian frequencies
and the KBBI root list, see tests/data/pii/make_words.py) and the hand lists in
`vocabulary.py`:
* COMMON: function words, everyday words and their derived forms ("ditipu", "pengacara"),
  chat spellings and the hand-listed roles, places and months. Written in lower case, never
  a name; capitalised, a name only where a strong cue says so ("Pak Bunga Siregar").
* SHARED: words that are ordinary and also given names ("budi", "agus", "siti") or very common
  names that are also used as words: in lower case a name only beside a NAMEY word.
* ROOT: the other dictionary roots ("cerai", "duda", but also "ratna", "galih"): rare
  words, as often names; a lower-case one is a name after an honorific, not after "saya".
* NAMEY: everything else, which is how most names look to a dictionary.
"""

from __future__ import annotations

from enum import Enum
from functools import lru_cache

from wagate.domain.privacy.data.words import COMMON, RARE_ROOTS, SHARED
from wagate.domain.privacy.vocabulary import CHAT_WORDS, NOT_NAMES

_VOWELS = frozenset("aeiouy")


class WordClass(Enum):
    COMMON = 1
    SHARED = 2
    ROOT = 3
    NAMEY = 4


@lru_cache(maxsize=16384)
def word_class(word: str) -> WordClass:
    """The class of `word` (any case; a trailing dot is ignored)."""
    folded = word.rstrip(".").lower()
    if folded in NOT_NAMES or folded in CHAT_WORDS or folded in COMMON:
        return WordClass.COMMON
    if folded in SHARED:
        return WordClass.SHARED
    if folded in RARE_ROOTS:
        return WordClass.ROOT
    return WordClass.NAMEY


def looks_spoken(word: str) -> bool:
    """A lower-case word that could be said as a name: chat abbreviations ("sdh", "tgl", "yg")
    often have no vowel at all."""
    return any(letter in _VOWELS for letter in word.lower())
