"""A phrase list searched by first-word groups (issue 18, p18steps) finds a phrase exactly
when the list's one pattern does, for made-up lists and texts: every kind of first word
(whole, "word*", "*word", "*word*"), words longer than the beginnings kept per text, accents,
"^" starts, gaps, and the " | " between a message's two forms."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.triage_rules import _PREFIX_CAP, Phrases

# Short words, words sharing beginnings, and words longer than _PREFIX_CAP, so that every
# path of the screen is taken; "é" folds to "e" in the phrases but stays in a typed text.
VOCABULARY = [
    "pukul",
    "puk",
    "dipukul",
    "tolong",
    "tol",
    "anak",
    "anakku",
    "saya",
    "sy",
    "a",
    "k",
    "café",
    "cafe",
    "ancam",
    "bunuh",
    "2",
    "x" * (_PREFIX_CAP - 1),
    "y" * _PREFIX_CAP,
    "z" * (_PREFIX_CAP + 3),
    "perdagangan" + "orang" * 2,
    "perdagangan" + "orang" * 2 + "nya",
]
assert max(len(w) for w in VOCABULARY) > _PREFIX_CAP

_word = st.tuples(st.booleans(), st.sampled_from(VOCABULARY), st.booleans()).map(
    lambda t: ("*" if t[0] else "") + t[1].replace("é", "e") + ("*" if t[2] else "")
)
_phrase = st.tuples(
    st.booleans(),
    st.lists(st.tuples(st.booleans(), _word), min_size=1, max_size=3),
).map(
    lambda t: " ".join(
        (["^"] if t[0] else [])
        + [
            w
            for i, (gap, word) in enumerate(t[1])
            for w in ([("...")] if gap and i else []) + [word]
        ]
    )
)
_text_word = st.tuples(
    st.sampled_from(["", "di", "me", "_", "é"]),
    st.sampled_from(VOCABULARY),
    st.sampled_from(["", "nya", "ku", "_", "2"]),
).map("".join)
_text = st.tuples(
    st.lists(_text_word, min_size=0, max_size=8),
    st.sampled_from([" ", "  ", ", ", "\n", " | "]),
    st.lists(_text_word, min_size=0, max_size=3),
).map(lambda t: t[1].join(t[0]) + " | " + " ".join(t[2]))


@settings(max_examples=400, deadline=None)
@given(st.lists(_phrase, min_size=1, max_size=6), st.lists(_text, min_size=1, max_size=5))
def test_the_groups_find_what_the_one_pattern_finds(phrases: list[str], texts: list[str]) -> None:
    grouped = Phrases.of(phrases)
    whole = dataclasses.replace(grouped, first_words=None)  # the definition: one pattern
    assert grouped.first_words is not None
    for text in texts:
        assert grouped.found_in(text) == whole.found_in(text), (phrases, text)


def test_each_kind_of_first_word_is_found_and_missed() -> None:
    long_word = "z" * (_PREFIX_CAP + 3)
    phrases = Phrases.of(["pukul", "anak*", "*ancam", "*bunuh*", f"{long_word}*", "^ tolong"])
    found = [
        "dia pukul saya",
        "anakku sakit",
        "diancam",
        "dibunuhnya",
        f"{long_word}q",
        "tolong saya",
        "x | tolong",
    ]
    missed = ["dipukul", "ana", "ancaman", f"a{long_word}", "saya tolong", "pukulan"]
    for text in found:
        assert phrases.found_in(text), text
    for text in missed:
        assert not phrases.found_in(text), text
