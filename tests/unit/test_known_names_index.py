"""`find_known` with its per-text word index (issue 18, p18steps) finds the same mentions as the
word-by-word definition it replaced, for the PII corpus's texts and made-up ones, whatever
names are asked for and however often the same text comes back."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.privacy.known_names import (
    _GAP,
    _NAME_PART,
    _known_words,
    _merge_adjacent,
    _span,
    _with_surname,
    _written_as_name,
    find_known,
)
from wagate.domain.privacy.spans import Span

PII = Path(__file__).resolve().parents[1] / "data" / "pii"
RECORDS = [
    json.loads(line)
    for path in sorted(PII.glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]
TEXTS = [r["text"] for r in RECORDS]
# The corpus's own known names and entity values, and a few that are also ordinary words.
CORPUS_NAMES = sorted(
    {n for r in RECORDS for n in r.get("known_names", [])}
    | {e["value"] for r in RECORDS for e in r.get("entities", []) if e.get("type") == "NAMA"}
)
NAME_SETS: list[tuple[str, ...]] = [
    (),
    ("Budi",),
    ("Budi Santoso", "Rina"),
    ("Siti Rahayu", "Bagus", "dewi"),
    tuple(CORPUS_NAMES[:40]),
    tuple(CORPUS_NAMES[40:120]),
]


def _word_by_word(text: str, names: tuple[str, ...]) -> Iterator[Span]:
    """The definition before the index: every word of the text tested against the names."""
    if not names:
        return
    wholes, singles = _known_words(names)
    words = [(m.start(), m.end(), m[0].lower()) for m in _NAME_PART.finditer(text)]
    if wholes:
        at: dict[str, list[int]] = {}
        for index, word in enumerate(words):
            at.setdefault(word[2], []).append(index)
        for parts in wholes:
            for index in at.get(parts[0], ()):
                window = words[index : index + len(parts)]
                if [w[2] for w in window] == list(parts) and all(
                    _GAP.fullmatch(text, a[1], b[0]) for a, b in itertools.pairwise(window)
                ):
                    yield _span(
                        text, window[0][0], _with_surname(text, window[0][0], window[-1][1])
                    )
    hits = [
        (start, end)
        for start, end, folded in words
        if folded in singles and _written_as_name(text, start, end)
    ]
    for start, end in _merge_adjacent(text, hits):
        yield _span(text, start, _with_surname(text, start, end))


def test_the_corpus_holds_names_to_find() -> None:
    assert len(TEXTS) > 1000 and len(CORPUS_NAMES) > 100


def test_the_corpus_texts_give_the_same_mentions_first_and_again() -> None:
    found = 0
    for names in NAME_SETS:
        for text in TEXTS:
            expected = list(_word_by_word(text, names))
            assert list(find_known(text, names)) == expected, (names, text)
            assert list(find_known(text, names)) == expected  # the same text again: the index
            found += len(expected)
    assert found > 300


_NAME_WORDS = ["Budi", "budi", "BUDI", "Santoso", "santoso", "Rina", "Marlina", "Bagus", "bagus"]
_OTHER = ["saya", "Pak", "bu", "salam,", "disini", "di sini", "mau", "tanya", "Jl.", "x_"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_NAME_WORDS + _OTHER), min_size=0, max_size=12),
    st.sampled_from([" ", "  ", ", ", "\n", "\t"]),
    st.sampled_from(NAME_SETS[1:4]),
)
def test_made_up_texts_give_the_same_mentions(
    words: list[str], gap: str, names: tuple[str, ...]
) -> None:
    text = gap.join(words)
    expected = list(_word_by_word(text, names))
    assert list(find_known(text, names)) == expected
    assert list(find_known(text, names)) == expected
