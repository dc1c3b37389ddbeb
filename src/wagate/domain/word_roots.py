"""The roots an Indonesian (or Javanese, Sundanese, Betawi, Minang) word may be built from.

Triage cannot list every form of a danger word: "pukul" is typed "dipukul", "memukul", "mukul",
"mukulin", "dipukulin", "dipukulnya", "pukul2", "kepukul"; "antem" is "ngantemi", "diantemi",
"antemin". Listing the root once, and reading each word back to the roots it may come from,
catches the forms nobody listed.

`candidate_roots` does not decide which reading is right (that needs a dictionary): it returns
every reading that affixes allow — strip suffixes (-kan, -i, -in, -an, -nya, -ku, -mu, -lah,
-ne, -e, -ake, -na…) and prefixes (di-, ter-, ke-, ber-, se-, me(N)-, pe(N)-, ng(e)-, ny-,
Javanese dipun-, Sundanese ka-, Minang ma(N)-/ba-/ta-: mancakiak → cakiak), and put back the
consonant a nasal prefix swallowed (memukul → pukul, menendang → tendang, nyiksa → siksa,
nyekik → cekik, ngancam → ancam/kancam).
A caller then asks whether any candidate is in its lexicon; a wrong candidate ("kancam") is
harmless because it is in no lexicon.

Pure: the standard library only.
"""

from __future__ import annotations

from functools import lru_cache

MIN_ROOT = 3  # shorter remains ("ku", "an") are never roots worth matching
MAX_WORD = 30  # a longer "word" is a run of letters, not an affixed root: read as it is
_DEPTH = 4  # affix layers peeled at most: di-pukul-in-nya is three

# Longest first within each kind, so "menge-" is tried before "meng-", "men-" and "me-".
_PREFIXES = (
    "memper", "dipun", "diper", "menge", "penge", "meng", "peng", "meny", "peny",
    "mem", "pem", "men", "pen", "nge", "ber", "ter", "per", "di", "ke", "me", "pe",
    "ng", "ny", "be", "se", "ka", "m", "n",
    "man", "mam", "ma", "ba", "ta",  # Minang: mancakiak (cekik), bapukua, tasabuik
    "ku",  # the writer as actor: kukasih, kulunasin, kubunuh ("kurung" → "rung": in no lexicon)
    "e",  # Madurese passive: epokol (dipukul), ekonce (dikunci), ebunoh
)  # fmt: skip
# Regional spellings of the same root, read back to the Indonesian one after the affixes are
# off (never peeled further, so "koperasi" is not read "ku-peras-i"): Minang changes a word's
# last syllable (pukul → pukua, bunuh → bunuah, takut → takuik, cekik → cakiak, kurung →
# kuruang, putus → putuih); Madurese, Javanese and Balinese write o for u (pokol, bunoh);
# Sundanese puts -ar-/-al- after the first consonant for many doers (ditarajang → tajang).
# Only endings no Indonesian word is commonly built with: "-ik" → "-it" read "narik" as "arit".
_DIALECT_ENDINGS = (
    ("uah", "uh"), ("ua", "ul"), ("ua", "ur"), ("uik", "ut"), ("iak", "ik"), ("uang", "ung"),
    ("iang", "ing"), ("uih", "us"),
)  # fmt: skip
_SUFFIXES = (
    "kannya", "innya", "kanlah", "nya", "lah", "kah", "pun", "kan", "ken", "ake", "ana",
    "ne", "na", "ku", "mu", "in", "an", "en", "i", "e",
)  # fmt: skip
_VOWELS = frozenset("aeiou")
# A nasal prefix before a vowel stands for a swallowed first consonant.
_SWALLOWED = {
    "meng": ("k",), "peng": ("k",), "ng": ("k",),
    "meny": ("s", "c"), "peny": ("s", "c"), "ny": ("s", "c"),
    "mem": ("p",), "pem": ("p",), "m": ("p",),
    "men": ("t",), "pen": ("t",), "n": ("t",),
}  # fmt: skip


@lru_cache(maxsize=65536)
def candidate_roots(word: str) -> frozenset[str]:
    """`word` itself and every root it may be built from (lower-case ASCII words)."""
    if len(word) > MAX_WORD:
        return frozenset({word})
    found = {word}
    frontier = {word}
    for _ in range(_DEPTH):
        following: set[str] = set()
        for form in frontier:
            following.update(_one_layer_off(form))
        following -= found
        if not following:
            break
        found |= following
        frontier = following
    return frozenset(found | {v for form in found for v in _regional_readings(form)})


def _regional_readings(form: str) -> set[str]:
    """`form` as the Indonesian spelling of a regional one (see `_DIALECT_ENDINGS`)."""
    out: set[str] = set()
    for regional, standard in _DIALECT_ENDINGS:
        if form.endswith(regional) and len(form) - len(regional) >= 2:
            out.add(form[: -len(regional)] + standard)
    if "o" in form:
        out.add(form.replace("o", "u"))
    if len(form) >= 6 and form[0] not in _VOWELS and form[1:3] in ("ar", "al"):
        out.add(form[0] + form[3:])
    return out


def _one_layer_off(form: str) -> set[str]:
    out: set[str] = set()

    for suffix in _SUFFIXES:
        if form.endswith(suffix) and len(form) - len(suffix) >= MIN_ROOT:
            out.add(form[: -len(suffix)])
    for prefix in _PREFIXES:
        if not form.startswith(prefix) or len(form) - len(prefix) < MIN_ROOT:
            continue
        rest = form[len(prefix) :]
        out.add(rest)
        if rest[0] in _VOWELS:
            out.update(consonant + rest for consonant in _SWALLOWED.get(prefix, ()))
    return out


_NOUN_PREFIXES = ("peng", "peny", "pem", "pen", "per", "pe", "ke")
_NOUN_ENDINGS = ("annya", "an")


def is_offence_noun(word: str) -> bool:
    """A pe(N)-…-an or ke-…-an noun: the name of an act ("penganiayaan", "pembunuhan",
    "penculikan", "kekerasan") rather than the act told as it happens ("dianiaya", "dibunuh").
    Legal questions name offences; a person in danger mostly tells what was done."""
    if len(word) < 7:
        return False
    stem = next((word[: -len(e)] for e in _NOUN_ENDINGS if word.endswith(e)), None)
    return stem is not None and stem.startswith(_NOUN_PREFIXES) and len(stem) >= 5
