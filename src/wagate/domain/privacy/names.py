"""Person names (CP1, issue 11): names after a cue, the names we know, and every other mention
in the same text of a name found here.

Cues, each with how much it vouches for what follows (`Cue`):
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

from wagate.domain.privacy.known_names import find_known
from wagate.domain.privacy.name_words import Cue, all_namey, name_at
from wagate.domain.privacy.spans import Span
from wagate.domain.privacy.vocabulary import (
    HONORIFICS,
    MODIFIERS,
    PLACE_WORDS,
    RELATIONS,
    ROLES,
)


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
    "named": Cue.NAMED,
    "relation": Cue.RELATION,
    "upper": Cue.UPPER,
    "honorific": Cue.HONORIFIC,
    "self": Cue.SELF,
    "weak": Cue.WEAK,
}
_LIST_NEXT = re.compile(
    r"[ \t]*(?:,[ \t]*(?:dan[ \t]+|&[ \t]*)?|&[ \t]*|[ \t]+(?:dan|serta)[ \t]+)"
)
_SIGNATURE = re.compile(r"[ \t]*[-–—~][ \t]*")
# Two capitalised words in the middle of a sentence, after a lower-case word that is not a
# preposition of place or an institution's word: "Yang membeli motor itu Kornelis Tabuni".
_MID_SENTENCE = re.compile(r"(?<![\w.])(?P<before>[a-z]+),?[ \t]+(?=[A-Z][a-z]*[ \t]+[A-Z][a-z])")
_PLACE_WORDS = frozenset(PLACE_WORDS)
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


def cued_names(text: str) -> Iterator[Span]:
    """The names a cue in `text` introduces: `find_names` without the known names' mentions
    (those depend on the conversation, these on the text alone)."""
    return _cued(text)


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
        lower = cue in (Cue.HONORIFIC, Cue.NAMED) or (
            cue is Cue.SELF and _greeting_before(text, match.start())
        )
        yield from _listed(text, name_at(text, match.end(), cue, lower=lower))


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
        span = name_at(text, start, Cue.WEAK, lower=False)
        if span is not None and len(span.value.split()) >= 2 and all_namey(span.value):
            yield from _listed(text, span)


def _list_items(text: str) -> Iterator[Span]:
    """Names as the items of a list, one a line: every word name-like, nothing after it."""
    for match in _LIST_ITEM.finditer(text):
        span = name_at(text, match.end(), Cue.WEAK, lower=False)
        if span is not None and all_namey(span.value) and _LINE_END.match(text, span.end):
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
        span = name_at(text, start, Cue.WEAK, lower=False)
        if span is not None and _CLOSING.fullmatch(text, span.end):
            yield span
    if line > 0:  # a full name alone on the last line, under the message
        span = name_at(
            text, line + len(body[line:]) - len(body[line:].lstrip()), Cue.WEAK, lower=False
        )
        if span is not None and len(span.value.split()) >= 2 and _CLOSING.fullmatch(text, span.end):
            yield span


def _listed(text: str, first: Span | None) -> Iterator[Span]:
    """`first` and the names listed after it: "X, Y dan Z", "X & Y"."""
    span = first
    while span is not None:
        yield span
        joint = _LIST_NEXT.match(text, span.end)
        span = None if joint is None else name_at(text, joint.end(), Cue.WEAK, lower=False)
