"""Misspellings corrected against the knowledge base's own words (issue 13, branch kb10).

A client types "perceriaan", "pesngon", "warisn": words no document uses and no dictionary
knows. The search's trigram look-up (migration 0011) catches the long ones whose letter
triples mostly survive, but a short word with one letter wrong shares few triples with the
right one ("gaji" → "gaij": similarity 0.0). Edit distance does not care about triples: a
word within one edit (two for long words) of a word the documents use is most likely that
word mistyped.

The vocabulary is the tenant's own (`knowledge_vocabulary`, read once per load or refresh,
never per question), so a correction can only point at what some document says. It never
replaces the typed word: the search gets both, and the typed word keeps its own chance
(a name the documents spell differently). Only words that may be misspelt are looked at
(the caller decides: not a dictionary word, not an acronym, not a word the documents hold).

Lookup by deletions ("symmetric delete"): every vocabulary word is indexed under itself and
each form with one letter deleted (and two for long words); a question word's own deletions
are looked up there and each hit is checked with a true edit distance. Building it is
linear in the vocabulary; a look-up touches a few dozen keys, so it costs microseconds.

Pure: the standard library and `related_words`, whose groups the vocabulary indexes too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from wagate.domain.chat_words import STOPWORDS, is_generic, word_forms
from wagate.domain.privacy.data.words import COMMON
from wagate.domain.related_words import document_members, related_document_words

MIN_LENGTH = 4  # a shorter document word is close to too many others to be a target
MIN_TYPED = 3  # a typed word of 3 letters only gets its dropped vowels back ("hri" → "hari")
LONG_WORD = 8  # from this length two edits are allowed ("perceriaan" → "perceraian")
# Below this length only dropped vowels, letters typed twice and swapped letters are
# corrected: a short regional word is often one letter away from an Indonesian one (Banjar
# "kada", not, is no typo of "kata"; "urang", person, none of "uang"), while chat drops a
# short word's vowels ("tutp").
SHORT_WORD = 6
MAX_SUGGESTIONS = 2  # more ties than this at the best distance: only the most used one
# No document word is longer (the vocabulary's own cap): a longer typed word is no typo of one,
# and its deletions would cost n²/2 strings of n letters (a 1,600-letter mash: 12 s, 2 GB).
MAX_TYPED = 40
# The most used words a vocabulary indexes: each costs ~10 kB of index (a ten-letter word has
# 56 deletion keys), so a very large knowledge base keeps ~200 MB at most, and a word used by
# fewer documents than the 20,000th is rarely what a client meant.
MAX_WORDS = 20_000


# Four consonants at least: three are as often an acronym ("pns", "lbh", "jkn") as a word
# ("panas", "lebih", "ajukan"); the common three-letter shortenings are chat words ("krj").
MIN_SKELETON = 4
# With one consonant dropped too, four letters reach unrelated words ("sbln" → "sembilan",
# "stnk" → "setangkai"): only five or more ("brgkt" → "berangkat").
MIN_SKELETON_DROPPED = 5


def skeleton(word: str) -> str:
    """A word's consonants, in order ("berangkat" → "brngkt")."""
    return "".join(letter for letter in word if letter not in VOWELS)


@cache
def _everyday_skeletons() -> Mapping[str, frozenset[str]]:
    """The everyday words a question is made of (`chat_words`' stop words and generic words:
    "sekarang", "sebenarnya", "kemarin"), by their consonants."""
    table: dict[str, set[str]] = {}
    for word in STOPWORDS | {w for w in COMMON if is_generic(w)}:
        if word.isalpha() and len(bones := skeleton(word)) >= MIN_SKELETON:
            table.setdefault(bones, set()).add(word)
    return {bones: frozenset(words) for bones, words in table.items()}


def max_distance(word: str) -> int:
    """Edits allowed for a word of this length (and deletion depth of the index): 0 below
    `MIN_TYPED`, 1, then 2."""
    if len(word) < MIN_TYPED:
        return 0
    return 2 if len(word) >= LONG_WORD else 1


def _deletions(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` letters deleted (itself included)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


VOWELS = frozenset("aiueo")
# Chat drops vowels more than it mistypes anything else ("lahn", "srtifkasi", "wakf", "tutp"):
# a letter the typed word lacks costs half an edit when it is a vowel, so "tanh" is nearer
# "tanah" (0.5) than "tani" (1).
MISSING_VOWEL = 0.5
REPEATED_LETTER = 0.5


def distance(typed: str, word: str, limit: float, *, strict: bool = False) -> float:
    """Optimal string alignment distance from `typed` to `word` (a letter `typed` lacks, one
    it has too many, one wrong, two adjacent letters swapped: one edit each, a missing
    vowel `MISSING_VOWEL`, a letter typed again `REPEATED_LETTER`), or `limit + 1` as soon as
    it must exceed `limit`. `strict`: only missing vowels, repeated letters and swaps are
    edits (anything else costs more than `limit`)."""
    if len(typed) - len(word) > limit or len(word) - len(typed) > 2 * limit:
        return limit + 1
    other = limit + 1 if strict else 1.0

    def missing(letter: str) -> float:
        return MISSING_VOWEL if letter in VOWELS else other

    before: list[float] | None = None
    previous = [0.0]
    for j in range(1, len(word) + 1):
        previous.append(previous[-1] + missing(word[j - 1]))
    for i in range(1, len(typed) + 1):
        current = [i * other] + [0.0] * len(word)
        # A letter typed twice in a row ("gajii", "tanahh"): chat stretches words as it drops
        # vowels, so the repeat costs what a missing vowel does, short words included.
        extra = REPEATED_LETTER if i > 1 and typed[i - 1] == typed[i - 2] else other
        for j in range(1, len(word) + 1):
            cost = 0.0 if typed[i - 1] == word[j - 1] else other
            current[j] = min(
                previous[j] + extra,  # a letter typed too many
                current[j - 1] + missing(word[j - 1]),  # a letter not typed
                previous[j - 1] + cost,
            )
            if (
                before is not None
                and j > 1
                and typed[i - 1] == word[j - 2]
                and typed[i - 2] == word[j - 1]
            ):
                current[j] = min(current[j], before[j - 2] + 1.0)
        if min(current) > limit and min(previous) + 1.0 > limit:
            return limit + 1  # no later row can come back under it (a swap reaches one back)
        before, previous = previous, current
    return previous[-1]


@dataclass(slots=True)
class Vocabulary:
    """A tenant's document words, each with how many documents use it, indexed for edits."""

    uses: dict[str, int] = field(default_factory=dict)
    _index: dict[str, list[str]] = field(default_factory=dict)
    # Group member → the document words that are it (`related_words.document_members`),
    # for the question words no document uses.
    related: dict[str, list[str]] = field(default_factory=dict)
    # Every document word and each stem it may be an affixed form of ("menabrak" → "tabrak").
    _stems: frozenset[str] = frozenset()
    # A document word's consonants ("kantor" → "kntr"), and with one inner consonant left out
    # ("berangkat" → "brngkt" → "brgkt"): what chat keeps of a word (`shortened_from`).
    _skeletons: dict[str, list[str]] = field(default_factory=dict)
    _skeletons_short: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, words: Mapping[str, int] | Iterable[tuple[str, int]]) -> Vocabulary:
        pairs = list(words.items() if isinstance(words, Mapping) else words)
        kept = [
            (word, int(documents))
            for word, documents in pairs
            if MIN_LENGTH <= len(word) <= MAX_TYPED and word.isalpha()  # numbers: no targets
        ]
        if len(kept) > MAX_WORDS:
            kept = sorted(kept, key=lambda pair: (-pair[1], pair[0]))[:MAX_WORDS]
        vocabulary = cls()
        for word, documents in kept:
            vocabulary.uses[word] = documents
            for key in _deletions(word, max_distance(word)):
                vocabulary._index.setdefault(key, []).append(word)
            bones = skeleton(word)
            if len(bones) >= MIN_SKELETON:
                vocabulary._skeletons.setdefault(bones, []).append(word)
                for inner in range(1, len(bones) - 1):
                    short = bones[:inner] + bones[inner + 1 :]
                    if len(short) >= MIN_SKELETON:
                        vocabulary._skeletons_short.setdefault(short, []).append(word)
        # Short words too ("bos", "bui"): a related word is matched whole, never by edits.
        by_use = sorted(pairs, key=lambda pair: (-int(pair[1]), pair[0]))
        alphabetic = [word for word, _ in by_use if word.isalpha()]
        vocabulary.related = document_members(alphabetic)
        vocabulary._stems = frozenset(stem for word in alphabetic for stem in word_forms(word))
        return vocabulary

    def knows(self, word: str) -> bool:
        """Some document uses `word`, in any affixed form."""
        return bool(word_forms(word) & self._stems)

    def related_words(self, word: str) -> list[str]:
        """Document words naming what `word` names (`domain.related_words`), at most one per
        word of its group, each its most used form; [] when a document uses `word` in any
        form ("menabrak" for "tabrakan": the search's stemmer finds it)."""
        if word_forms(word) & self._stems:
            return []
        return related_document_words(word, self.related)

    def shortened_from(self, typed: str) -> list[str]:
        """The document words a word typed without vowels stands for ("kntr" → "kantor",
        "brgkt" → "berangkat", "pgdln" → "pengadilan"): those whose consonants it is, else those
        whose consonants it is with one inner consonant dropped; the most used first, at
        most `MAX_SUGGESTIONS`, none when more tie (too short to tell). [] for a word with
        a vowel, a word the documents use, or one too short."""
        if (
            len(typed) < MIN_SKELETON
            or len(typed) > MAX_TYPED
            or typed in self.uses
            or not typed.isalpha()
            or any(vowel in typed for vowel in VOWELS)
        ):
            return []
        # Chat shortens its everyday words most: when one the documents do not use has these
        # consonants ("skrng" is "sekarang", not the documents' "sekurang"), nothing is read
        # into them ("klrg" stays "keluarga" where the documents say it). A content
        # word the documents lack does not stop it ("psngn" is their "pesangon", though
        # "pasangan" has those consonants too).
        everyday = _everyday_skeletons().get(typed)
        if everyday and not everyday & self.uses.keys():
            return []
        tables = [self._skeletons]
        if len(typed) >= MIN_SKELETON_DROPPED:
            tables.append(self._skeletons_short)
        for table in tables:
            # A shortening keeps the word's first letter: "pkh" (a programme) is no "apakah".
            candidates = (w for w in table.get(typed, ()) if w[0] == typed[0])
            found = sorted(dict.fromkeys(candidates), key=lambda w: -self.uses[w])
            if found:
                return found if len(found) <= MAX_SUGGESTIONS else []
        return []

    def __contains__(self, word: object) -> bool:
        return word in self.uses

    def __len__(self) -> int:
        return len(self.uses)

    def corrections(self, word: str) -> list[str]:
        """The document words `word` is most likely a misspelling of, nearest first: those at
        the smallest edit distance (at most `max_distance`), the most used first, at most
        `MAX_SUGGESTIONS` (when more tie, only the most used one: the typo is ambiguous);
        [] for a word the documents use or one too short to tell."""
        limit = max_distance(word)
        if limit == 0 or len(word) > MAX_TYPED or word in self.uses:
            return []
        seen: dict[str, float] = {}
        for key in _deletions(word, limit):
            for target in self._index.get(key, ()):
                # A typo rarely touches the first letter; a regional word that differs from
                # a document word only there is another word ("tuku", buy, is no "buku").
                if target not in seen and target[0] == word[0]:
                    seen[target] = distance(word, target, limit, strict=len(word) < SHORT_WORD)
        ranked = sorted((d, -self.uses[t], t) for t, d in seen.items() if d <= limit)
        if not ranked:
            return []
        best = ranked[0][0]
        tied = [t for d, _, t in ranked if d == best]
        return tied if len(tied) <= MAX_SUGGESTIONS else tied[:1]
