"""Person names (CP1, issue 11): names after a cue, the names we know, and every other mention
in the same text of a name found here.

Cues, each with how much it vouches for what follows (`_Cue`):
* HONORIFIC — "Pak", "Bu", "Hj.", "Koh", "Ny.", a role ("Notaris"): capitalised words, or
  lower-case ones when one of them looks like a name to the lexicon ("pak joko", not "pak
  budi", which is also a word, nor "pak mau tanya").
* RELATION — a relative, neighbour, employer, lender or party, with its modifiers and a
  comma, colon or parenthesis: "mantan istri saya, X", "Pacarnya, X", "Suami (X)".
* NAMED — the writer says a name follows: "nama: X", "a.n. X", "namanya X", "nama saya X",
  "Pengirim: X"; lower case counts.
* SELF — "saya X", "Saya, X,", "sy X" and signatures ("Salam, X"); lower case only at the
  start of the message or after a greeting ("halo sy nurul hidayah").
* WEAK — "oleh X", "dengan X di sini", a signature line or the last words of the message,
  and the next names of a list ("X, Y dan Z", "X & Y"): capitalised words that are not
  ordinary words.
* UPPER — a bare "an" followed by ALL-CAPS words (bank slips).
A name is 1–4 words (up to 7 when the extra words are not ordinary: Balinese and Batak
names); titles before it ("H.", "Haji") are skipped and degrees after it ("S.H.") left out;
"bin"/"binti"/"br" join two parts. Decisions favour precision on ordinary chat: a false
name costs a word of meaning in every answer and, through the vault, in every later turn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from enum import Enum

from wagate.domain.privacy.known_names import find_known
from wagate.domain.privacy.lexicon import WordClass, looks_spoken, word_class
from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.privacy.vocabulary import (
    CONNECTORS,
    HONORIFICS,
    LAST_NAME_WORDS,
    MODIFIERS,
    MONTH_NAMES,
    NAMES_AFTER_FIRST_WORD,
    NOT_NAMES,
    PLACE_WORDS,
    RELATIONS,
    ROLES,
    TITLES,
    WORD_TITLES,
)

MAX_NAME_WORDS = 4
MAX_LONG_NAME_WORDS = 7
MIN_UPPER_NAME = 5  # a lone ALL-CAPS word shorter than this is an acronym


class _Cue(Enum):
    HONORIFIC = 1
    RELATION = 2
    NAMED = 3
    SELF = 4
    WEAK = 5
    UPPER = 6


def _words(options: Sequence[str] | frozenset[str]) -> str:
    return "|".join(re.escape(o).replace(r"\ ", r"[ \t]+") for o in sorted(options, key=len)[::-1])


_SEP = r"[ \t]*(?:adalah|:|=|-|\()?[ \t]*"
_TRIGGER = re.compile(
    r"(?<![\w.])(?:"
    r"(?P<named>nama[ \t]+(?:lengkap(?:[ \t]+(?:saya|aku))?|saya|aku|sy)|namaku|namanya"
    r"|nama[ \t]+(?:klien|suami|istri|anak|ibu|ayah|pemilik|pelaku|penerima)"
    r"(?:[ \t]+(?:saya|kami|aku))?|nama|bernama|atas[ \t]+nama|a\.[ \t]?n\.?|a/n|an\."
    r"|pengirim|perkenalkan(?:[ \t]*,)?(?:[ \t]+(?:saya|nama[ \t]+saya))?|my[ \t]+name[ \t]+is"
    r"|(?:dari|kepada|penerima)(?=[ \t]*:))"
    rf"|(?P<relation>(?:mantan[ \t]+)?(?:{_words(RELATIONS)})"
    rf"(?:(?:-?nya|ku)?(?:[ \t]+(?:{_words(MODIFIERS)})(?!\w))+[ \t]*[,:(]?"
    r"|(?:-?nya|ku)[ \t]*[,:(]?|[ \t]*[,:(]))"
    r"|(?P<upper>an)"
    rf"|(?P<honorific>(?:{_words(HONORIFICS)})\b\.?|(?:{_words(ROLES)})\b)"
    r"|(?P<self>(?:saya|aku|sy)(?=[ \t]*,)[ \t]*,|saya|aku|sy)"
    r"|(?P<weak>oleh|milik|dengan|dgn|sama|bersama|kepada|kpd|dipanggil|panggilannya"
    r"|(?:salam|wassalam|hormat[ \t]+(?:saya|kami)|ttd|regards)[ \t]*[,:]?(?:[ \t]*\n)?)"
    rf")(?:(?<!\w)|(?!\w)){_SEP}",
    re.IGNORECASE,
)
_CUES = {
    "named": _Cue.NAMED,
    "relation": _Cue.RELATION,
    "upper": _Cue.UPPER,
    "honorific": _Cue.HONORIFIC,
    "self": _Cue.SELF,
    "weak": _Cue.WEAK,
}
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
_LIST_NEXT = re.compile(
    r"[ \t]*(?:,[ \t]*(?:dan[ \t]+|&[ \t]*)?|&[ \t]*|[ \t]+(?:dan|serta)[ \t]+)"
)
_DIGIT_AFTER = re.compile(r"[ \t]*\d")
_SIGNATURE = re.compile(r"[ \t]*[-–—~][ \t]*")
# Two capitalised words in the middle of a sentence, after a lower-case word that is not a
# preposition of place or an institution's word: "Yang membeli motor itu Kornelis Tabuni".
_MID_SENTENCE = re.compile(r"(?<![\w.])(?P<before>[a-z]+),?[ \t]+(?=[A-Z][a-z]*[ \t]+[A-Z][a-z])")
_PLACE_WORDS = frozenset(PLACE_WORDS)
_HONORIFIC_SET = frozenset(HONORIFICS)
# A message that opens with a full name and a comma: "Rudi Hartono, 42 tahun, sopir truk."
_OPENING = re.compile(r"[ \t]*(?=[A-Z][a-z]+[ \t]+[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,3},)")
# An item of a numbered or bulleted list on its own line: "1. Ahmad Sobari".
_LIST_ITEM = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,2}[.)]|[-•*])[ \t]*(?=[A-Z])")
_LINE_END = re.compile(r"[ \t]*(?:[,(]|\n|$)")
_CLOSING = re.compile(r"[ \t]*[.!]?[ \t]*")
_GREETING_BEFORE = re.compile(
    r"(?:[.,!?\n:]|(?<!\w)(?:halo|hallo|helo|hai|hi|hey|assalamualaikum|permisi|pagi|siang"
    r"|sore|malam|min|admin|kak|pak|bu|mas|mbak|maaf|ini|kenal))[ \t]*$",
    re.IGNORECASE,
)
# Words a trigger can start with: the big trigger pattern is tried only where one stands,
# which keeps masking fast (the pattern is an alternation of some 200 words).
_WORD = re.compile(r"(?<![\w.])[A-Za-z]+")
_TRIGGER_WORDS = frozenset(
    re.match(r"[a-z]+", option.lower())[0]  # type: ignore[index]
    for option in (
        *RELATIONS,
        *HONORIFICS,
        *ROLES,
        "nama",
        "namanya",
        "namaku",
        "bernama",
        "atas",
        "a",
        "an",
        "pengirim",
        "perkenalkan",
        "my",
        "mantan",
        "saya",
        "aku",
        "sy",
        "oleh",
        "milik",
        "dengan",
        "salam",
        "wassalam",
        "hormat",
        "ttd",
        "regards",
        "dgn",
        "sama",
        "bersama",
        "kepada",
        "kpd",
        "dipanggil",
        "panggilannya",
        "dari",
        "penerima",
    )
)
GREETING_WINDOW = 24


def may_hold_lowercase_name(text: str) -> bool:
    """False only when no cue for a lower-case name stands in `text`: a cheap necessary
    condition for callers that skip `find_pii` on plain strings (log redaction); names in
    capitals, numbers and e-mail addresses are theirs to pre-check."""
    return any(
        word[0].lower() in _TRIGGER_WORDS or word[0].lower().removesuffix("nya") in _TRIGGER_WORDS
        for word in _WORD.finditer(text)
    )


def find_names(text: str, known_names: Sequence[str] = ()) -> Iterator[Span]:
    """Names in `text`: after cues, known names, and other mentions of both (module doc)."""
    found = list(_cued(text))
    yield from found
    yield from find_known(text, (*known_names, *(s.value for s in found)))


def _cued(text: str) -> Iterator[Span]:
    yield from _triggered(text)
    yield from _mid_sentence(text)
    yield from _list_items(text)
    yield from _signed(text)


def _triggered(text: str) -> Iterator[Span]:
    position = 0
    for word in _WORD.finditer(text):
        folded = word[0].lower()
        if word.start() < position or (
            folded not in _TRIGGER_WORDS
            and folded.removesuffix("nya") not in _TRIGGER_WORDS
            and folded.removesuffix("ku") not in _TRIGGER_WORDS
        ):
            continue
        match = _TRIGGER.match(text, word.start())
        if match is None:
            continue
        position = match.end()
        cue = _CUES[str(match.lastgroup)]
        lower = cue in (_Cue.HONORIFIC, _Cue.NAMED) or (
            cue is _Cue.SELF and _greeting_before(text, match.start())
        )
        yield from _listed(text, _name_at(text, match.end(), cue, lower=lower))


def _greeting_before(text: str, start: int) -> bool:
    """Only a greeting, a punctuation mark or nothing stands before `start`."""
    if not text[:start].strip():
        return True
    return _GREETING_BEFORE.search(text[max(0, start - GREETING_WINDOW) : start]) is not None


def _mid_sentence(text: str) -> Iterator[Span]:
    """Two or more capitalised name-like words inside a sentence, or opening the message
    before a comma (see `_MID_SENTENCE`, `_OPENING`)."""
    opening = _OPENING.match(text)
    starts = [opening.end()] if opening is not None else []
    starts += [m.end() for m in _MID_SENTENCE.finditer(text) if m["before"] not in _PLACE_WORDS]
    for start in starts:
        span = _name_at(text, start, _Cue.WEAK, lower=False)
        if span is not None and len(span.value.split()) >= 2 and _all_namey(span.value):
            yield from _listed(text, span)


def _list_items(text: str) -> Iterator[Span]:
    """Names as the items of a list, one a line: every word name-like, nothing after it."""
    for match in _LIST_ITEM.finditer(text):
        span = _name_at(text, match.end(), _Cue.WEAK, lower=False)
        if span is not None and _all_namey(span.value) and _LINE_END.match(text, span.end):
            yield span


def _signed(text: str) -> Iterator[Span]:
    """A signature line ("- Yosef Mbulu") or a name as the message's last words ("Terima
    kasih. Roni Simatupang")."""
    body = text.rstrip(" \t.!\n")
    line = body.rfind("\n") + 1
    signature = _SIGNATURE.match(body, line)
    starts = [signature.end()] if signature is not None and signature.end() > line else []
    sentence = max(body.rfind(mark) for mark in ".!?") + 1
    if sentence > 0:
        starts.append(len(body) - len(body[sentence:].lstrip()))
    for start in starts:
        span = _name_at(text, start, _Cue.WEAK, lower=False)
        if span is not None and _CLOSING.fullmatch(text, span.end):
            yield span
    if line > 0:  # a full name alone on the last line, under the message
        span = _name_at(
            text, line + len(body[line:]) - len(body[line:].lstrip()), _Cue.WEAK, lower=False
        )
        if span is not None and len(span.value.split()) >= 2 and _CLOSING.fullmatch(text, span.end):
            yield span


def _all_namey(value: str) -> bool:
    """No word of `value` is an ordinary word ("Kornelis Tabuni", not "Bank Rakyat")."""
    return all(word_class(word) is not WordClass.COMMON for word in value.split())


def _listed(text: str, first: Span | None) -> Iterator[Span]:
    """`first` and the names listed after it: "X, Y dan Z", "X & Y"."""
    span = first
    while span is not None:
        yield span
        joint = _LIST_NEXT.match(text, span.end)
        span = None if joint is None else _name_at(text, joint.end(), _Cue.WEAK, lower=False)


def _name_at(text: str, position: int, cue: _Cue, *, lower: bool) -> Span | None:
    """The name starting at `position` (after any titles), if the words there make one."""
    while title := _TITLE.match(text, position):
        position = title.end()
    if cue is _Cue.UPPER:
        end = _run(text, position, _UPPER_WORD, cue)
    elif position < len(text) and text[position].islower():
        end = _lower_run(text, position, cue) if lower else position
    else:
        end = _run(text, position, _CAPITALISED, cue)
    value = text[position:end]
    if end == position or not _is_name(value, cue):
        return None
    return Span(start=position, end=end, kind=EntityType.NAMA, value=value)


def _run(text: str, position: int, pattern: re.Pattern[str], cue: _Cue) -> int:
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


def _ends_name(text: str, word: re.Match[str], cue: _Cue, words: int) -> bool:
    """Whether `word` (the name's `words`-th so far) is not part of the name."""
    value = word.group()
    folded = value.rstrip(".").lower()
    if _continues(text, word.end()):
        return True
    if words >= MAX_NAME_WORDS and word_class(value) is WordClass.COMMON:
        return folded not in LAST_NAME_WORDS  # "Pak Satu Dua Tiga Empat Lima" is cut
    if folded in NOT_NAMES or folded in _HONORIFIC_SET:
        if words == 0 and cue is not _Cue.WEAK and folded in MONTH_NAMES:
            return bool(_DIGIT_AFTER.match(text, word.end()))  # "Bu Mei", not "Mei 2024"
        return words == 0 or folded not in NAMES_AFTER_FIRST_WORD
    first_must_be_namey = cue in (_Cue.WEAK, _Cue.SELF)
    if words or not first_must_be_namey or word_class(value) is not WordClass.COMMON:
        return False
    # "saya Putri Ayu Lestari": an ordinary first word, but a name-like capitalised word
    # follows; "Saya Bingung Sekali" stays a sentence.
    following = _NEXT_TITLE.match(text, word.end())
    return following is None or not any(
        w is not None and word_class(w) in (WordClass.NAMEY, WordClass.ROOT)
        for w in following.groups()
    )


def _lower_run(text: str, position: int, cue: _Cue) -> int:
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
    if cue is _Cue.SELF and not _PAUSE.match(text, end):
        name_like = {WordClass.NAMEY}  # "saya duda dua anak" is no name, "aku tiara," is
    if cue is _Cue.NAMED or name_like.intersection(classes):
        return end
    return start


def _is_name(value: str, cue: _Cue) -> bool:
    """Not initials alone; after a bare "an", not one short acronym ("an API", "an OTP");
    elsewhere not one two-letter acronym ("Ibu, CP: …", "ID pelanggan")."""
    words = value.replace(".", " ").split()
    if not any(len(word) > 1 for word in words):
        return False
    if len(words) == 1 and value.isupper() and len(value) <= 2:
        return False
    return cue is not _Cue.UPPER or len(words) > 1 or len(value) >= MIN_UPPER_NAME


def _continues(text: str, end: int) -> bool:
    """The matched letters are only the start of a longer token ("Budi2", "Ani_x") or of an
    abbreviation ("Sp.PD", "S.H.")."""
    if end >= len(text):
        return False
    if text[end] == "." and end + 1 < len(text) and text[end + 1].isalpha():
        return True
    return text[end].isalnum() or text[end] == "_"
