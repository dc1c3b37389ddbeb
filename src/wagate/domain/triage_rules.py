"""Triage rules (AI7): green, yellow or red from the firm's phrase lists, without any model.

A message is compared in two forms at once: as typed (lower case, accents folded, "tolongggg"
→ "tolong", "anak2" → "anak anak") and with the chat words expanded (`chat_words.normalise`
plus the rule set's own extra words: "td" → "tadi"). A phrase matches when its words appear
in order as whole words in either form, so a firm can write "bojoku" (only in the typed form)
or "bagaimana" (which "gmn" becomes) alike.

Phrase syntax, kept small so that a lawyer can edit it:
  pukul        the word itself
  *pukul*      any word containing it ("dipukul", "pukulin", "dipukulin")
  bunuh*       any word starting with it
  ancam* ... bunuh*   the two with up to five words between them
  ^ apa itu    only at the start of the message ("apa itu somasi?", not "…, apakah itu wajar?")

A rule matches when any of its `phrases` does, and (when given) any of its `with_any`, and
none of its `unless`; `max_words` limits it to short messages ("tolong saya"). Red rules are
`guarded`: in a general or hypothetical question ("apa hukuman…", "secara umum", "di film")
they do not count, unless the message also speaks of the writer or someone close ("saya", "suami"):
when in doubt, red — a human looks at a false alarm, nobody looks at a missed one.

History: a red (by rule) among the session's last user turns keeps a short follow-up red
("dia masih di luar"), whatever the follow-up says on its own.

Pure: the standard library, `chat_words` and `zones` only. Parsing a rules mapping (what the
adapter reads from TOML) lives here too, so the checks are the same wherever rules come from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from wagate.domain.chat_words import ABBREVIATIONS, fold, is_dictionary_word
from wagate.domain.word_roots import candidate_roots, is_offence_noun
from wagate.domain.zones import Zone, ZoneCall

_REPEATED = re.compile(r"(\w)\1{2,}")
_PLURAL2 = re.compile(r"\b(\w{2,})2\b")
_WORD = re.compile(r"[a-z0-9]+")
_CAPITALS = re.compile(r"\b[A-Z]{2,}\b")
_GAP = "..."
_START = "^"
_MAX_GAP_WORDS = 5
# The two forms of a message are joined by a character no phrase pattern can step over.
_SEPARATOR = " | "

FOLLOW_UP_RULE = "follow_up_of_red"
SCORE_RULE = "danger_score"
_ROOT_MARK = "~"
# "pukul 10", "pukul delapan" is a clock time, not a blow: the word before a number is left out
# of the roots.
_CLOCK_WORDS = frozenset({"pukul", "jam"})
_NUMBER_WORDS = frozenset(
    [
        "satu",
        "dua",
        "tiga",
        "empat",
        "lima",
        "enam",
        "tujuh",
        "delapan",
        "sembilan",
        "sepuluh",
        "sebelas",
        "setengah",
    ]
)


class TriageRulesError(ValueError):
    """A rules mapping that cannot be used; the message names every problem and where."""


@dataclass(frozen=True, slots=True)
class Phrases:
    """A compiled list of phrases: one regular expression for all of them (`pattern`, the
    definition), and the same phrases grouped by their first word (`first_words`, what
    `found_in` runs)."""

    texts: tuple[str, ...]
    pattern: re.Pattern[str] | None
    # The phrases by first word (None: the whole pattern is searched, as the definition).
    first_words: FirstWords | None = None
    # This list among all lists compiled in the process: what a `PhraseScreen` names.
    key: int = field(default=-1, compare=False)

    @classmethod
    def of(cls, texts: Sequence[str]) -> Phrases:
        cleaned = tuple(dict.fromkeys(t.strip().lower() for t in texts if t.strip()))
        if not cleaned:
            return cls((), None)
        pattern = _alternation(_phrase_regex(t) for t in cleaned)
        return cls(cleaned, pattern, FirstWords.of(cleaned), next(_PHRASE_KEYS))

    def found_in(self, text: str, lists: AbstractSet[int] | None = None) -> bool:
        """`lists`: the keys of the lists a `PhraseScreen` found a first word of in `text`
        (None: not screened); a list not among them is not looked for."""
        if self.pattern is None:
            return False
        if self.first_words is not None:
            if lists is not None and self.key not in lists:
                return False
            return self.first_words.found_in(text)
        return self.pattern.search(text) is not None

    def __bool__(self) -> bool:
        return bool(self.texts)


_PHRASE_KEYS = itertools.count()


def _alternation(regexes: Iterable[str]) -> re.Pattern[str]:
    """Phrase regexes as one pattern: any of them, standing as whole words."""
    return re.compile(rf"(?<!\w)(?:{'|'.join(regexes)})(?!\w)")


@dataclass(frozen=True, slots=True)
class FirstWords:
    """A phrase list grouped by the phrases' first words, so that a text is searched only
    for the phrases whose first word stands in it (the rules are read for every message, and
    the one pattern of a list tries its every alternative at every position of the text).

    A phrase starts where no word character precedes it, so its first word is the start of
    a run of word characters (`\\w+`): the whole run ("word"), its beginning ("word*"), its
    end ("*word"), or within it ("*word*"), as `_phrase_regex` writes them. Which of the
    groups can match is found with a few set operations on what `_word_runs` made of the text
    once (88 lists of the default rules read the same text in turn); each group is one
    pattern like the list's, of its phrases only. The list's pattern matches where one of
    its alternatives does, so it matches a text exactly when one of the groups whose first
    word stands there does (tests/unit/test_triage_screens.py checks both ways)."""

    # Left out of equality and hash (a list stays hashable, as before the groups): they are
    # the phrase texts' patterns, which `Phrases` compares already.
    whole: Mapping[str, re.Pattern[str]] = field(compare=False)  # "word": the whole run
    beginnings: Mapping[str, re.Pattern[str]] = field(compare=False)  # "word*": its beginning
    inside: Mapping[str, re.Pattern[str]] = field(compare=False)  # "*word", "*word*": anywhere
    # What the screens test, derived from the three above (see `of`).
    whole_words: frozenset[str] = frozenset()
    short_beginnings: frozenset[str] = frozenset()  # at most _PREFIX_CAP characters
    long_beginnings: tuple[str, ...] = ()  # longer: tested run by run
    any_inside: re.Pattern[str] | None = None  # one of the inside parts, as `in` finds it

    @classmethod
    def of(cls, phrases: Sequence[str]) -> FirstWords:
        groups: dict[tuple[bool, bool], dict[str, list[str]]] = {}
        for phrase in phrases:
            words = [w for w in phrase.split() if w != _GAP]
            first = words[1] if words[0] == _START else words[0]
            kind = (first.startswith("*"), first.endswith("*"))
            key = fold(first.strip("*"))
            groups.setdefault(kind, {}).setdefault(key, []).append(_phrase_regex(phrase))

        def compiled(*kinds: tuple[bool, bool]) -> dict[str, re.Pattern[str]]:
            merged: dict[str, list[str]] = {}
            for kind in kinds:
                for key, regexes in groups.get(kind, {}).items():
                    merged.setdefault(key, []).extend(regexes)
            return {key: _alternation(regexes) for key, regexes in merged.items()}

        whole, beginnings = compiled((False, False)), compiled((False, True))
        inside = compiled((True, False), (True, True))
        return cls(
            whole=whole,
            beginnings=beginnings,
            inside=inside,
            whole_words=frozenset(whole),
            short_beginnings=frozenset(b for b in beginnings if len(b) <= _PREFIX_CAP),
            long_beginnings=tuple(b for b in beginnings if len(b) > _PREFIX_CAP),
            any_inside=re.compile("|".join(map(re.escape, inside))) if inside else None,
        )

    def found_in(self, text: str) -> bool:
        """Some phrase of the list is in `text`: the groups whose first word stands there."""
        runs, distinct, prefixes = _word_runs(text)
        for word in self.whole_words.intersection(distinct):
            if self.whole[word].search(text) is not None:
                return True
        for beginning in self.short_beginnings.intersection(prefixes):
            if self.beginnings[beginning].search(text) is not None:
                return True
        for beginning in self.long_beginnings:
            if (
                any(r.startswith(beginning) for r in runs)
                and self.beginnings[beginning].search(text) is not None
            ):
                return True
        if self.any_inside is not None and self.any_inside.search(text) is not None:
            for part, pattern in self.inside.items():
                if part in text and pattern.search(text) is not None:
                    return True
        return False


@dataclass(frozen=True, slots=True)
class PhraseScreen:
    """Every phrase list of a rule set by the first words of its phrases: which lists can be
    in a text, found once per reading for all of them (the default rules have 88 lists, and
    a short message holds the first words of a few). A list it leaves out has no phrase whose
    first word stands in the text, so `FirstWords.found_in` would find nothing in it either."""

    whole: Mapping[str, frozenset[int]]
    beginnings: Mapping[str, frozenset[int]]
    inside: Mapping[str, frozenset[int]]
    whole_words: frozenset[str] = frozenset()
    short_beginnings: frozenset[str] = frozenset()
    long_beginnings: tuple[str, ...] = ()
    any_inside: re.Pattern[str] | None = None
    known: frozenset[int] = frozenset()  # the keys of the lists it indexed

    @classmethod
    def of(cls, lists: Iterable[Phrases]) -> PhraseScreen:
        whole: dict[str, set[int]] = {}
        beginnings: dict[str, set[int]] = {}
        inside: dict[str, set[int]] = {}
        known: set[int] = set()
        for phrases in lists:
            if phrases.first_words is None:
                continue  # not screened: `found_in` searches it whatever the screen says
            known.add(phrases.key)
            for index, groups in (
                (whole, phrases.first_words.whole),
                (beginnings, phrases.first_words.beginnings),
                (inside, phrases.first_words.inside),
            ):
                for word in groups:
                    index.setdefault(word, set()).add(phrases.key)
        return cls(
            whole={w: frozenset(k) for w, k in whole.items()},
            beginnings={b: frozenset(k) for b, k in beginnings.items()},
            inside={p: frozenset(k) for p, k in inside.items()},
            whole_words=frozenset(whole),
            short_beginnings=frozenset(b for b in beginnings if len(b) <= _PREFIX_CAP),
            long_beginnings=tuple(b for b in beginnings if len(b) > _PREFIX_CAP),
            any_inside=re.compile("|".join(map(re.escape, inside))) if inside else None,
            known=frozenset(known),
        )

    def covers(self, lists: Iterable[Phrases]) -> bool:
        """Whether every list that `found_in` would screen was indexed by this screen."""
        return all(p.first_words is None or p.key in self.known for p in lists)

    def lists_in(self, text: str) -> frozenset[int]:
        """The keys of the lists with a phrase whose first word stands in `text`."""
        runs, distinct, prefixes = _word_runs(text)
        found: set[int] = set()
        for word in self.whole_words.intersection(distinct):
            found |= self.whole[word]
        for beginning in self.short_beginnings.intersection(prefixes):
            found |= self.beginnings[beginning]
        for beginning in self.long_beginnings:
            if any(r.startswith(beginning) for r in runs):
                found |= self.beginnings[beginning]
        if self.any_inside is not None and self.any_inside.search(text) is not None:
            for part, keys in self.inside.items():
                if part in text:
                    found |= keys
        return frozenset(found)


_WORD_RUN = re.compile(r"\w+")  # \w as the phrase patterns read it (Unicode)
# The beginnings of a text's word runs are kept up to this length: a phrase's first word
# ("bunuh*", "ancam*") is short; a longer one is compared run by run. It bounds the set a
# text of long runs (a pasted document, a URL) makes.
_PREFIX_CAP = 16


@lru_cache(maxsize=4)  # one message's reading is screened by every phrase list in turn
def _word_runs(text: str) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """The text's word runs, the distinct ones, and every beginning of a distinct run of at
    most _PREFIX_CAP characters ("pukul": "p", "pu", "puk", "puku", "pukul")."""
    runs = tuple(_WORD_RUN.findall(text))
    distinct = frozenset(runs)
    prefixes = frozenset(
        run[:size] for run in distinct for size in range(1, min(len(run), _PREFIX_CAP) + 1)
    )
    return runs, distinct, prefixes


def _phrase_regex(phrase: str) -> str:
    """One phrase as a regex over space-separated words (see the module doc for the syntax)."""
    parts: list[str] = []
    gap = False
    words = phrase.split()
    # At the start of either form: the start of the text, or just after the separator.
    start = r"(?:^|(?<=\| ))" if words[:1] == [_START] else ""
    for word in words[1:] if start else words:
        if word == _GAP:
            gap = True
            continue
        core = word.strip("*")
        if not core or not _WORD.fullmatch(fold(core)):
            raise TriageRulesError(f"phrase {phrase!r}: {word!r} is not a word (letters, digits)")
        regex = ("\\w*" if word.startswith("*") else "") + re.escape(fold(core))
        regex += "\\w*" if word.endswith("*") else ""
        if parts:
            separator = rf"\s+(?:\w+\s+){{0,{_MAX_GAP_WORDS}}}" if gap else r"\s+"
            parts.append(separator)
        parts.append(regex)
        gap = False
    if not parts:
        raise TriageRulesError(f"phrase {phrase!r} has no word")
    return start + "".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    zone: Zone
    phrases: Phrases
    with_any: Phrases = field(default_factory=lambda: Phrases.of(()))
    unless: Phrases = field(default_factory=lambda: Phrases.of(()))
    max_words: int = 0  # 0: any length
    guarded: bool = True  # red only: general-question guards apply

    def matches(self, text: str, words: int, lists: AbstractSet[int] | None = None) -> bool:
        if self.max_words and words > self.max_words:
            return False
        if not self.phrases.found_in(text, lists):
            return False
        if self.with_any and not self.with_any.found_in(text, lists):
            return False
        return not self.unless.found_in(text, lists)


@dataclass(frozen=True, slots=True)
class Cue:
    """One class of evidence for the danger score: a word whose root is in `roots`, or any of
    `phrases`, adds `weight` (once however often it appears) — unless a cue named in
    `unless_cues` is also present ("a general question" weighs nothing when the writer speaks
    of themselves)."""

    name: str
    weight: int
    roots: frozenset[str] = frozenset()
    phrases: Phrases = field(default_factory=lambda: Phrases.of(()))
    unless_cues: tuple[str, ...] = ()
    unless: Phrases = field(default_factory=lambda: Phrases.of(()))  # "hp mati" is not death
    # Phrases with "~root" words: "~tabrak diri" is "nabrakin diri", "menabrakkan diri"…
    root_phrases: tuple[tuple[str, ...], ...] = ()
    # The weight when the root is only in the name of an offence ("penganiayaan", "penculikan":
    # word_roots.is_offence_noun), which legal questions use as often as people in danger.
    # None: the full weight.
    noun_weight: int | None = None

    def weight_in(
        self, reading: Reading, roots: frozenset[str], noun_roots: frozenset[str]
    ) -> int | None:
        """What this cue adds to `reading`'s score (None: it is not there)."""
        if self.unless.found_in(reading.text, reading.lists):
            return None
        if (
            not self.roots.isdisjoint(roots)
            or self.phrases.found_in(reading.text, reading.lists)
            or any(_root_phrase_in(p, reading) for p in self.root_phrases)
        ):
            return self.weight
        if not self.roots.isdisjoint(noun_roots):
            return self.weight if self.noun_weight is None else self.noun_weight
        return None


def _root_phrase_in(parts: tuple[str, ...], reading: Reading) -> bool:
    """Consecutive words: "~x" any word that may be built from root x, else the word itself."""
    if reading.any_word or reading.any_root:  # every part must be somewhere to be in a row
        for part in parts:
            if part.startswith(_ROOT_MARK):
                if part[1:] not in reading.any_root:
                    return False
            elif part not in reading.any_word:
                return False
    slots = reading.token_words
    for start in range(len(slots) - len(parts) + 1):
        if all(
            (part[1:] in reading.token_roots[start + i])
            if part.startswith(_ROOT_MARK)
            else (part in slots[start + i])
            for i, part in enumerate(parts)
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Score:
    """Red when the weights of the cues present reach `threshold` and at least one cue of
    `needs_any` (the kinds of harm) is among them: nearness in time, a person of the writer's
    and fear add up to red only around a sign of harm."""

    cues: tuple[Cue, ...]
    threshold: int
    needs_any: frozenset[str]
    ignore_words: frozenset[str] = frozenset()  # never read back to a root ("berantem")
    # Each kind of harm after the heaviest adds this, not its own weight: a blow and a bruise
    # are one event told twice. None: every kind adds its full weight.
    extra_harm_weight: int | None = None

    def weigh(self, reading: Reading) -> tuple[int, tuple[str, ...]]:
        """The score and the names of the cues that counted, in the order they are listed."""
        kept = reading.root_words - self.ignore_words
        nouns = {w for w in kept if is_offence_noun(w)}
        roots = frozenset().union(*(candidate_roots(w) for w in kept - nouns))
        noun_roots = frozenset().union(*(candidate_roots(w) for w in nouns))
        present: dict[str, int] = {}
        for cue in self.cues:
            weight = cue.weight_in(reading, roots, noun_roots)
            if weight is not None:
                present[cue.name] = weight
        counted = [
            c.name
            for c in self.cues
            if c.name in present and not any(u in present for u in c.unless_cues)
        ]
        harm = sorted((present[n] for n in counted if n in self.needs_any), reverse=True)
        other = sum(present[n] for n in counted if n not in self.needs_any)
        if self.extra_harm_weight is not None and harm:
            harm = [harm[0]] + [self.extra_harm_weight] * (len(harm) - 1)
        return sum(harm) + other, tuple(counted)

    def is_red(self, reading: Reading) -> bool:
        total, names = self.weigh(reading)
        return total >= self.threshold and not self.needs_any.isdisjoint(names)


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    general: Phrases  # general / hypothetical question markers: a guarded red does not count
    personal: Phrases  # …unless the writer speaks of themselves or someone close
    words: Mapping[str, str]  # extra chat words beside chat_words.ABBREVIATIONS
    history_turns: int = 3
    follow_up_max_words: int = 25
    score: Score | None = None  # None: the phrase rules alone
    # Study, teaching, news, fiction: a guarded red does not count even with "saya" in it.
    frame: Phrases = field(default_factory=lambda: Phrases.of(()))
    # The rules' own words by their consonants, to read a word typed without its vowels
    # ("dipkl", "tlng", "sklh"): `restoration_index`.
    restorable: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # All the phrase lists above by first word (None: every list is searched). Not part of
    # the set's identity: two sets of the same lists are equal whichever screen they hold.
    screen: PhraseScreen | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # A set made from another (`dataclasses.replace` with new rules or guards) would keep
        # a screen that never saw its new lists, and a list it does not know would be skipped
        # as absent: a missed red. Such a screen is rebuilt for the lists the set holds.
        if self.screen is not None and not self.screen.covers(phrase_lists(self)):
            object.__setattr__(self, "screen", PhraseScreen.of(phrase_lists(self)))

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


@dataclass(frozen=True, slots=True)
class Reading:
    """A message in the form the rules read: both forms joined, its length in words, and
    every root its words may be built from (`word_roots.candidate_roots`)."""

    text: str
    words: int
    roots: frozenset[str] = frozenset()
    root_words: frozenset[str] = frozenset()  # the words `roots` were read from
    # Word by word: the word as typed and expanded, and the roots it may be built from.
    token_words: tuple[frozenset[str], ...] = ()
    token_roots: tuple[frozenset[str], ...] = ()
    # The union of `token_words` and of `token_roots`: what a root phrase checks first.
    any_word: frozenset[str] = frozenset()
    any_root: frozenset[str] = frozenset()
    # The phrase lists that may be in `text` (`PhraseScreen.lists_in`; None: all may be).
    lists: frozenset[int] | None = None


def read(
    message: str,
    words: Mapping[str, str],
    restorable: Mapping[str, tuple[str, ...]] | None = None,
    screen: PhraseScreen | None = None,
) -> Reading:
    typed = _REPEATED.sub(r"\1", fold(message))
    typed = _PLURAL2.sub(r"\1 \1", typed)
    tokens = _never_done(_WORD.findall(typed))
    # "JHT", "BPJS TK": an acronym typed in capitals is not a word without its vowels.
    capitals = {fold(w) for w in _CAPITALS.findall(message)}
    expanded = _join_split_prefixes(
        tokens,
        [
            _expand(token, words, {} if token in capitals else (restorable or {}))
            for token in tokens
        ],
    )
    root_words = _root_words(tokens, expanded)
    token_words = tuple(frozenset((t, *e.split())) for t, e in zip(tokens, expanded, strict=True))
    token_roots = tuple(
        frozenset().union(*(candidate_roots(w) for w in ws if w in root_words))
        for ws in token_words
    )
    text = " ".join(tokens) + _SEPARATOR + " ".join(e for e in expanded if e)
    return Reading(
        text=text,
        words=len(tokens),
        roots=frozenset().union(*(candidate_roots(w) for w in root_words)),
        root_words=root_words,
        token_words=token_words,
        token_roots=token_roots,
        any_word=frozenset().union(*token_words),
        any_root=frozenset().union(*token_roots),
        lists=screen.lists_in(text) if screen is not None else None,
    )


# Javanese krama writes the passive prefix as a word of its own: "dipun kunci" is "dikunci",
# "dipun pukul" is "dipukul"; so does Madurese ("e bekta oreng", taken by someone; "ta' e
# kenal", not known). The expanded form reads the two as the one word (the prefix's own slot
# left empty, so "griya dipun kunci" reads "rumah dikunci").
_SPLIT_PREFIXES = {"dipun": "di", "e": "di"}


def _join_split_prefixes(tokens: Sequence[str], expanded: list[str]) -> list[str]:
    """`expanded` with the word after a split prefix (as expanded, when it is one word) written
    as one word with the prefix."""
    for index, token in enumerate(tokens[:-1]):
        prefix = _SPLIT_PREFIXES.get(token)
        following = tokens[index + 1]
        word = expanded[index + 1]  # "dipun paringi": paringi is read "kasih" first
        if prefix and following.isalpha() and word.isalpha():
            expanded[index] = ""
            expanded[index + 1] = prefix + word
    return expanded


# "ga pernah mukul" says he never hit: "pernah" after a negation is not a past frame and the
# act it negates did not happen. Both become "never" (a word no Indonesian phrase lists), so
# neither the past cue nor the harm counts; "ga pernah berhenti mukul" keeps its blow.
_NEGATIONS = frozenset(
    {
        "tidak", "tak", "ga", "gak", "nggak", "ngga", "enggak", "tdk", "gk", "belum", "blm",
        "ndak", "nda", "ora", "ra", "teu", "indak", "mboten",
    }
)  # fmt: skip
_NEVER = "never"


def _never_done(tokens: list[str]) -> list[str]:
    out = list(tokens)
    for index in range(1, len(out)):
        if out[index] == "pernah" and tokens[index - 1] in _NEGATIONS:
            out[index] = _NEVER
            if index + 1 < len(out):
                out[index + 1] = _NEVER
    return out


def _root_words(tokens: Sequence[str], expanded: Sequence[str]) -> frozenset[str]:
    """The words to read roots from: each token as typed and expanded, but no number and no
    clock word before a number."""
    kept: set[str] = set()
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in _CLOCK_WORDS and (following[:1].isdigit() or following in _NUMBER_WORDS):
            continue
        kept.update(w for w in (token, *expanded[index].split()) if not w.isdigit())
    return frozenset(kept)


def _expand(token: str, words: Mapping[str, str], restorable: Mapping[str, tuple[str, ...]]) -> str:
    if token in words:
        return words[token]
    if token in ABBREVIATIONS:
        return ABBREVIATIONS[token]
    for suffix in ("nya", "ku", "mu", "ne"):
        base = token.removesuffix(suffix)
        if base != token and len(base) >= 3:
            if base in words:
                return words[base]
            if base in ABBREVIATIONS:
                return ABBREVIATIONS[base]
            if suffix == "nya" and base not in _KEEP_NYA and is_dictionary_word(base):
                return base  # "kamarnya" is read "kamar": "masuk kamar" meets it
    if restorable and not is_dictionary_word(token):
        return _restored(token, words, restorable) or token
    return token


# "-nya" that changes the meaning: "besoknya" is the day after (told of the past), "suaminya"
# someone else's husband ("anak saya" and "anaknya" are told apart by the person cue).
_KEEP_NYA = frozenset(
    {
        "besok", "malam", "pagi", "siang", "sore", "hari", "minggu", "bulan", "tahun", "lusa",
        "kemarin", "suami", "istri", "anak", "ibu", "bapak", "ayah", "adik", "kakak", "pacar",
        "mertua", "keluarga", "orang",
    }
)  # fmt: skip
_VOWELS = frozenset("aeiou")
# A word typed without its vowels may carry a prefix that keeps them: "dipkl" is di + pukul,
# "dtndng" di + tendang, "dirmh" di + rumah ("di rumah" as well: the preposition is often
# written on).
_RESTORE_PREFIXES = (("", ""), ("di", "di"), ("d", "di"), ("ke", "ke"), ("ter", "ter"))


def _skeleton(word: str) -> str:
    return "".join(c for c in word if c not in _VOWELS)


def restoration_index(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The vocabulary's words (of four letters or more, with vowels to drop) by their
    consonants: "pukul" under "pkl", "tolong" under "tlng"."""
    index: dict[str, set[str]] = {}
    for word in vocabulary:
        skeleton = _skeleton(word)
        if word.isalpha() and len(word) >= 4 and len(skeleton) >= 2 and skeleton != word:
            index.setdefault(skeleton, set()).add(word)
    return {k: tuple(sorted(v)) for k, v in index.items()}


def _is_subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(c in letters for c in short)


def _restored(
    token: str, words: Mapping[str, str], restorable: Mapping[str, tuple[str, ...]]
) -> str | None:
    """The one word of the rules' vocabulary that `token` is with its vowels dropped (at most
    one vowel left: "tlng", "dipkl", "diculk", "mash"), or None when none or several are."""
    for typed, prefix in _RESTORE_PREFIXES:
        rest = token.removeprefix(typed)
        if (typed and rest == token) or len(rest) < 2 or not rest.isalpha():
            continue
        short = words.get(rest) or ABBREVIATIONS.get(rest)
        if prefix and short and " " not in short:
            return f"{prefix}{short} {prefix} {short}" if prefix == "di" else prefix + short
        if len(rest) < 3 or sum(c in _VOWELS for c in rest) > 1:
            continue
        # Chat keeps a word's first and last letters ("cpt" is cepat, not cipta).
        hits = [
            w
            for w in restorable.get(_skeleton(rest), ())
            if w[0] == rest[0] and w[-1] == rest[-1] and _is_subsequence(rest, w)
        ]
        if len(hits) == 1 and hits[0] != rest:
            return prefix + hits[0]
    return None


def matched_rules(message: str, rules: RuleSet) -> tuple[Zone, tuple[str, ...]]:
    """The zone of one message by the rules alone, and the names of the rules that count."""
    reading = read(message, rules.words, rules.restorable, rules.screen)
    text, lists = reading.text, reading.lists
    hits = [r for r in rules.rules if r.matches(text, reading.words, lists)]
    general = (
        rules.general.found_in(text, lists) and not rules.personal.found_in(text, lists)
    ) or rules.frame.found_in(text, lists)
    counted = [(r.name, r.zone) for r in hits if not (r.zone is Zone.RED and r.guarded and general)]
    if rules.score is not None and rules.score.is_red(reading):
        counted.append((SCORE_RULE, Zone.RED))
    if not counted:
        return Zone.GREEN, ()
    zone = max((z for _, z in counted), key=lambda z: z.rank)
    return zone, tuple(name for name, z in counted if z is zone)


def danger_score(message: str, rules: RuleSet) -> tuple[int, tuple[str, ...]]:
    """The danger score of one message and the cues that made it (0, () without a score)."""
    if rules.score is None:
        return 0, ()
    return rules.score.weigh(read(message, rules.words, rules.restorable, rules.screen))


def classify(
    message: str,
    history: Sequence[str],
    rules: RuleSet,
    *,
    known: RedTurns | None = None,
) -> ZoneCall:
    """The rules' zone for `message`, keeping a short follow-up to a recent red message red.

    `history`: earlier user turns of the session, most recent last. `known`: the verdicts of
    texts these rules read before (a caller that reads a session's turns run after run)."""
    if known is not None and known.rules is not rules:
        raise ValueError("the remembered verdicts are of another rule set")
    zone, names = known.matched(message) if known is not None else matched_rules(message, rules)
    if zone is not Zone.RED and rules.history_turns and history and _short(message, rules):
        recent = history[-rules.history_turns :]
        red = known.is_red if known is not None else (lambda turn: is_red_turn(turn, rules))
        if any(red(turn) for turn in recent):
            return ZoneCall(zone=Zone.RED, rules=(FOLLOW_UP_RULE,), source="rules")
    return ZoneCall(zone=zone, rules=names, source="rules")


def is_red_turn(turn: str, rules: RuleSet) -> bool:
    """An earlier turn is red by the rules alone (what keeps a short follow-up red)."""
    return matched_rules(turn, rules)[0] is Zone.RED


class RedTurns:
    """Whether texts are red by one rule set's rules alone, remembered for the last `size`
    texts read: each run reads the session's last few user turns again, which earlier runs
    read as their messages, and the verdict of a text under fixed rules does not change.
    Bounded, least recently used first out; kept by a 128-bit digest of the text, so no
    message stays in memory for it."""

    def __init__(self, rules: RuleSet, size: int = 1024) -> None:
        self.rules = rules
        self._size = size
        self._red: OrderedDict[bytes, bool] = OrderedDict()

    def matched(self, message: str) -> tuple[Zone, tuple[str, ...]]:
        """`matched_rules` for `message`, its red verdict noted."""
        zone, names = matched_rules(message, self.rules)
        self._note(message, zone is Zone.RED)
        return zone, names

    def is_red(self, turn: str) -> bool:
        """`is_red_turn` for `turn`, read once."""
        key = _digest(turn)
        red = self._red.get(key)
        if red is None:
            red = is_red_turn(turn, self.rules)
            self._note(turn, red)
        else:
            self._red.move_to_end(key)
        return red

    def knows(self, text: str) -> bool | None:
        """The verdict remembered for `text` (None: none)."""
        return self._red.get(_digest(text))

    def __len__(self) -> int:
        return len(self._red)

    def _note(self, text: str, red: bool) -> None:
        key = _digest(text)
        self._red[key] = red
        self._red.move_to_end(key)
        if len(self._red) > self._size:
            self._red.popitem(last=False)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _short(message: str, rules: RuleSet) -> bool:
    return len(_WORD.findall(fold(message))) <= rules.follow_up_max_words


# ---------------------------------------------------------------- parsing a rules mapping

_RULE_KEYS = {"zone", "phrases", "with_any", "unless", "max_words", "guarded", "extend", "enabled"}
_TOP_KEYS = {"words", "guards", "history", "rules", "score"}
_SCORE_KEYS = {"threshold", "needs_any", "ignore_words", "extra_harm_weight", "cues", "enabled"}
_CUE_KEYS = {
    "weight", "noun_weight", "roots", "phrases", "unless", "unless_cues", "extend", "enabled",
}  # fmt: skip


def parse_rules(
    data: Mapping[str, Any], *, base: RuleSet | None = None, source: str = "rules"
) -> RuleSet:
    """A RuleSet from a mapping (the TOML file's tables). With `base`, the mapping extends or
    overrides it by name: a rule of the same name replaces the base rule (or, with
    `extend = true`, adds its phrases to it), `enabled = false` removes it, new names are
    added; `words` and the guard lists add to the base's (`replace = true` in `[guards]`
    starts the lists afresh). Raises TriageRulesError naming every problem."""
    problems: list[str] = []
    for key in data.keys() - _TOP_KEYS:
        problems.append(f"{source}: unknown table {key!r} (expected {sorted(_TOP_KEYS)})")

    words = dict(base.words) if base else {}
    words.update(_parse_words(data.get("words", {}), problems, source))

    guards = _table(data.get("guards", {}), "guards", problems, source)
    replace_guards = bool(guards.get("replace", False))
    for key in guards.keys() - {"general", "personal", "frame", "replace"}:
        problems.append(f"{source}: guards.{key} is not a guard list (general, personal, frame)")
    general = _phrase_list(guards.get("general", []), "guards.general", problems, source)
    personal = _phrase_list(guards.get("personal", []), "guards.personal", problems, source)
    frame = _phrase_list(guards.get("frame", []), "guards.frame", problems, source)
    if base and not replace_guards:
        general = [*base.general.texts, *general]
        personal = [*base.personal.texts, *personal]
        frame = [*base.frame.texts, *frame]

    history = _table(data.get("history", {}), "history", problems, source)
    history_turns = _count(history, "turns", base.history_turns if base else 3, problems, source)
    follow_up = _count(
        history, "follow_up_max_words", base.follow_up_max_words if base else 25, problems, source
    )
    for key in history.keys() - {"turns", "follow_up_max_words"}:
        problems.append(f"{source}: history.{key} is unknown (turns, follow_up_max_words)")

    rules = {r.name: r for r in base.rules} if base else {}
    tables = _table(data.get("rules", {}), "rules", problems, source)
    for name, spec in tables.items():
        rule = _parse_rule(name, spec, rules.get(name), problems, source)
        if rule is None:
            rules.pop(name, None)
        else:
            rules[name] = rule

    score = _parse_score(data.get("score"), base.score if base else None, problems, source)

    if problems:
        raise TriageRulesError("; ".join(problems))
    try:
        rule_set = RuleSet(
            rules=tuple(rules.values()),
            general=Phrases.of(general),
            personal=Phrases.of(personal),
            words=words,
            history_turns=history_turns,
            follow_up_max_words=follow_up,
            score=score,
            frame=Phrases.of(frame),
        )
        return dataclasses.replace(
            rule_set,
            restorable=restoration_index(_vocabulary(rule_set)),
            screen=PhraseScreen.of(phrase_lists(rule_set)),
        )
    except TriageRulesError as exc:
        raise TriageRulesError(f"{source}: guards: {exc}") from exc


def phrase_lists(rules: RuleSet) -> Iterator[Phrases]:
    """Every phrase list of a rule set: guards, rules, the score's cues."""
    yield from (rules.general, rules.personal, rules.frame)
    for rule in rules.rules:
        yield from (rule.phrases, rule.with_any, rule.unless)
    for cue in rules.score.cues if rules.score is not None else ():
        yield from (cue.phrases, cue.unless)


def _vocabulary(rules: RuleSet) -> set[str]:
    """Every word the rules are written in: phrase words (without * ~ ^ ...), cue roots and
    the expansions of the chat words."""
    texts: list[str] = [*rules.general.texts, *rules.personal.texts, *rules.frame.texts]
    for rule in rules.rules:
        texts += [*rule.phrases.texts, *rule.with_any.texts, *rule.unless.texts]
    texts += rules.words.values()
    if rules.score is not None:
        for cue in rules.score.cues:
            texts += [*cue.phrases.texts, *cue.unless.texts, *cue.roots]
            texts += [" ".join(parts) for parts in cue.root_phrases]
    return {
        word.strip("*~^") for text in texts for word in text.split() if word.strip("*~^").isalpha()
    }


def _parse_rule(
    name: str, spec: Any, previous: Rule | None, problems: list[str], source: str
) -> Rule | None:
    where = f"rules.{name}"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        problems.append(f"{source}: {where}: a rule name is lower-case letters, digits and _")
    if not isinstance(spec, Mapping):
        problems.append(f"{source}: {where} must be a table")
        return previous
    for key in spec.keys() - _RULE_KEYS:
        problems.append(f"{source}: {where}.{key} is unknown (expected {sorted(_RULE_KEYS)})")
    if spec.get("enabled", True) is False:
        return None
    extend = bool(spec.get("extend", False)) and previous is not None
    zone_text = spec.get("zone", previous.zone.value if extend and previous else None)
    try:
        zone = Zone(zone_text)
    except ValueError:
        problems.append(f"{source}: {where}.zone: {zone_text!r} is not green, yellow or red")
        return previous
    reported = len(problems)
    lists: dict[str, list[str]] = {}
    for key in ("phrases", "with_any", "unless"):
        items = _phrase_list(spec.get(key, []), f"{where}.{key}", problems, source)
        if extend and previous is not None:
            items = [*getattr(previous, key).texts, *items]
        lists[key] = items
    if not lists["phrases"]:
        problems.append(f"{source}: {where}.phrases: a rule needs at least one phrase")
        return previous
    max_words = _count(
        spec,
        "max_words",
        previous.max_words if extend and previous else 0,
        problems,
        f"{source}: {where}",
    )
    guarded = spec.get("guarded", previous.guarded if extend and previous else True)
    if not isinstance(guarded, bool):
        problems.append(f"{source}: {where}.guarded must be true or false")
        guarded = True
    if len(problems) > reported:
        return previous
    compiled = {key: Phrases.of(items) for key, items in lists.items()}
    return Rule(
        name=name,
        zone=zone,
        phrases=compiled["phrases"],
        with_any=compiled["with_any"],
        unless=compiled["unless"],
        max_words=max_words,
        guarded=guarded,
    )


def _parse_score(
    value: Any, previous: Score | None, problems: list[str], source: str
) -> Score | None:
    """`[score]` over the base's: `threshold` and `needs_any` replace, `[score.cues.NAME]`
    replaces a cue of that name (`extend = true` adds roots and phrases to it, `enabled =
    false` removes it); `enabled = false` on `[score]` itself turns the score off."""
    if value is None:
        return previous
    table = _table(value, "score", problems, source)
    for key in table.keys() - _SCORE_KEYS:
        problems.append(f"{source}: score.{key} is unknown (expected {sorted(_SCORE_KEYS)})")
    if table.get("enabled", True) is False:
        return None
    threshold = table.get("threshold", previous.threshold if previous else None)
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        problems.append(f"{source}: score.threshold must be a whole number")
        threshold = 0
    cues = {c.name: c for c in previous.cues} if previous else {}
    for name, spec in _table(table.get("cues", {}), "score.cues", problems, source).items():
        cue = _parse_cue(name, spec, cues.get(name), problems, source)
        if cue is None:
            cues.pop(name, None)
        else:
            cues[name] = cue
    needs = table.get("needs_any", sorted(previous.needs_any) if previous else [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs) or not needs:
        problems.append(f"{source}: score.needs_any must be a list of cue names")
        needs = []
    for name in [*needs, *(u for c in cues.values() for u in c.unless_cues)]:
        if name not in cues:
            problems.append(f"{source}: score: {name!r} names no cue (score.cues.{name})")
    ignore = table.get("ignore_words", sorted(previous.ignore_words) if previous else [])
    if not isinstance(ignore, list) or not all(isinstance(w, str) for w in ignore):
        problems.append(f"{source}: score.ignore_words must be a list of words")
        ignore = []
    extra = table.get("extra_harm_weight", previous.extra_harm_weight if previous else None)
    if extra is not None and (isinstance(extra, bool) or not isinstance(extra, int)):
        problems.append(f"{source}: score.extra_harm_weight must be a whole number")
        extra = None
    return Score(
        cues=tuple(cues.values()),
        threshold=threshold,
        needs_any=frozenset(needs),
        ignore_words=frozenset(fold(w.strip()) for w in ignore),
        extra_harm_weight=extra,
    )


def _parse_cue(
    name: str, spec: Any, previous: Cue | None, problems: list[str], source: str
) -> Cue | None:
    where = f"score.cues.{name}"
    if not isinstance(spec, Mapping):
        problems.append(f"{source}: {where} must be a table")
        return previous
    for key in spec.keys() - _CUE_KEYS:
        problems.append(f"{source}: {where}.{key} is unknown (expected {sorted(_CUE_KEYS)})")
    if spec.get("enabled", True) is False:
        return None
    extend = bool(spec.get("extend", False)) and previous is not None
    weight = spec.get("weight", previous.weight if extend and previous else None)
    if isinstance(weight, bool) or not isinstance(weight, int):
        problems.append(f"{source}: {where}.weight must be a whole number (negative: against red)")
        weight = 0
    noun_weight = spec.get("noun_weight", previous.noun_weight if extend and previous else None)
    if noun_weight is not None and (
        isinstance(noun_weight, bool) or not isinstance(noun_weight, int)
    ):
        problems.append(f"{source}: {where}.noun_weight must be a whole number")
        noun_weight = None
    roots = _phrase_list(spec.get("roots", []), f"{where}.roots", problems, source)
    for root in roots:
        if not _WORD.fullmatch(fold(root.strip())):
            problems.append(f"{source}: {where}.roots: {root!r} is not one word")
    listed = spec.get("phrases", [])
    rooted: list[str] = []
    plain: Any = listed
    if isinstance(listed, list):
        rooted = [p for p in listed if isinstance(p, str) and _ROOT_MARK in p]
        plain = [p for p in listed if p not in rooted]
    phrases = _phrase_list(plain, f"{where}.phrases", problems, source)
    root_phrases = _root_phrases(rooted, f"{where}.phrases", problems, source)
    unless_phrases = _phrase_list(spec.get("unless", []), f"{where}.unless", problems, source)
    unless = spec.get("unless_cues", list(previous.unless_cues) if extend and previous else [])
    if not isinstance(unless, list) or not all(isinstance(u, str) for u in unless):
        problems.append(f"{source}: {where}.unless_cues must be a list of cue names")
        unless = []
    all_roots = {fold(r.strip()) for r in roots}
    if extend and previous is not None:
        all_roots |= previous.roots
        phrases = [*previous.phrases.texts, *phrases]
        unless_phrases = [*previous.unless.texts, *unless_phrases]
        root_phrases = [*previous.root_phrases, *root_phrases]
    if not all_roots and not phrases and not root_phrases:
        problems.append(f"{source}: {where}: a cue needs roots or phrases")
    try:
        compiled, compiled_unless = Phrases.of(phrases), Phrases.of(unless_phrases)
    except TriageRulesError:
        return previous  # reported by _phrase_list
    return Cue(
        name=name,
        weight=weight,
        roots=frozenset(all_roots),
        phrases=compiled,
        unless_cues=tuple(unless),
        unless=compiled_unless,
        root_phrases=tuple(root_phrases),
        noun_weight=noun_weight,
    )


def _root_phrases(
    texts: list[str], where: str, problems: list[str], source: str
) -> list[tuple[str, ...]]:
    """Phrases with "~root" words: consecutive words, each "~root" or a plain word."""
    out: list[tuple[str, ...]] = []
    for text in texts:
        parts = tuple(fold(p) for p in text.lower().split())
        bad = [p for p in parts if not _WORD.fullmatch(p.removeprefix(_ROOT_MARK))]
        if bad:
            problems.append(
                f"{source}: {where}: {text!r}: with ~root, each part is a word or ~word"
            )
            continue
        out.append(parts)
    return out


def _parse_words(value: Any, problems: list[str], source: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        problems.append(f"{source}: words must be a table of chat word = standard word")
        return {}
    words: dict[str, str] = {}
    for key, standard in value.items():
        if not isinstance(standard, str) or not _WORD.fullmatch(str(key).lower()):
            problems.append(f"{source}: words.{key}: a single word mapped to text")
            continue
        words[str(key).lower()] = fold(standard)
    return words


def _table(value: Any, where: str, problems: list[str], source: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    problems.append(f"{source}: {where} must be a table")
    return {}


def _phrase_list(value: Any, where: str, problems: list[str], source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{source}: {where} must be a list of strings")
        return []
    bad = [v for v in value if not v.strip()]
    if bad:
        problems.append(f"{source}: {where} has an empty phrase")
    for phrase in value:
        if phrase.strip():
            try:
                _phrase_regex(phrase.strip().lower())
            except TriageRulesError as exc:
                problems.append(f"{source}: {where}: {exc}")
    return [v for v in value if v.strip()]


def _count(
    table: Mapping[str, Any], key: str, default: int, problems: list[str], where: str
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"{where}: {key} must be a whole number ≥ 0")
        return default
    return value
