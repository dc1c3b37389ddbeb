"""`find_pii` keeps the proposals that depend on the text alone for a few texts (issue 18):
the spans are those of every recogniser run afresh, whatever names are known, first call or
repeated, and a text's cached proposals never leak into another text's."""

from __future__ import annotations

import json
from itertools import chain
from pathlib import Path

import pytest

from wagate.domain.privacy.addresses import find_addresses
from wagate.domain.privacy.names import find_names
from wagate.domain.privacy.recognizers import _structured, find_pii
from wagate.domain.privacy.spans import Span, resolve
from wagate.settings import DEFAULT_SYSTEM_PROMPT

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "triage_data"
TEXTS = [
    DEFAULT_SYSTEM_PROMPT,
    "Nama saya Budi Santoso, NIK 3174012304850003, hp 081234567890, email budi@contoh.co.id",
    "Saya tinggal di Jl. Melati No. 5 RT 02/RW 03, Kel. Sukamaju. Tolong hubungi Bu Ratna.",
    *sorted(
        {
            json.loads(line)["text"]
            for path in sorted(DATA.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
    )[:600],
]
KNOWN = [(), ("Budi Santoso",), ("Ratna", "Taufik Hidayat")]


def afresh(text: str, known: tuple[str, ...]) -> list[Span]:
    """find_pii as the recognisers give it with nothing kept (no stages)."""
    return resolve(chain(_structured(text), find_addresses(text), find_names(text, known)))


@pytest.mark.parametrize("known", KNOWN)
def test_the_spans_are_those_of_the_recognisers_run_afresh(known: tuple[str, ...]) -> None:
    found = 0
    for text in TEXTS:
        expected = afresh(text, known)
        assert find_pii(text, known_names=known) == expected, text
        assert find_pii(text, known_names=known) == expected, text  # kept, the same
        found += len(expected)
    assert found > 10  # the texts hold personal data, so the comparison means something


def test_texts_in_turn_each_get_their_own_spans() -> None:
    one = "NIK saya 3174012304850003"
    other = "hp saya 081234567890"
    for _ in range(3):
        assert [s.value for s in find_pii(one)] == ["3174012304850003"]
        assert [s.value for s in find_pii(other)] == ["081234567890"]
