"""Misspellings corrected against the knowledge base's own words (domain/spelling.py)."""

from __future__ import annotations

import pytest

from wagate.domain.spelling import Vocabulary, distance, max_distance
from wagate.storage.knowledge import _corrected_matches, corrections

WORDS = {
    "kata": 5,
    "tang": 2,
    "perceraian": 3,
    "pesangon": 2,
    "gaji": 4,
    "warisan": 2,
    "kontrak": 1,
    "tani": 50,
    "tanah": 3,
    "sertifikasi": 2,
    "buku": 30,
    "tutup": 3,
    "hari": 9,
    "hard": 1,
}


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("perceriaan", "perceraian"),  # two letters swapped and one wrong: a long word
        ("pesngon", "pesangon"),  # a vowel dropped
        ("gaij", "gaji"),  # adjacent letters swapped
        ("warisn", "warisan"),
        ("kontark", "kontrak"),
        ("tanh", "tanah"),  # a dropped vowel is nearer than a wrong letter ("tani")
        ("srtifkasi", "sertifikasi"),  # two vowels dropped
        ("tutp", "tutup"),
        ("hri", "hari"),  # three letters: a dropped vowel only
        ("har", "hari"),  # not "hard": a short word never lacks a consonant
        ("gajii", "gaji"),  # a letter typed twice: a short word too
        ("tanahh", "tanah"),
        ("gajji", "gaji"),
    ],
)
def test_a_typo_is_corrected_to_the_document_word_it_was_meant_as(typed: str, meant: str) -> None:
    assert Vocabulary.of(WORDS).corrections(typed) == [meant]


@pytest.mark.parametrize(
    "typed",
    [
        "pesangon",  # the documents' own word needs nothing
        "tuku",  # the first letter differs: another word ("buy"), not a typo of "buku"
        "gj",  # too short to tell
        "kada",  # a short word one letter off: a regional word ("kada"), not a typo
        "tangs",  # a short word with a letter too many
        "paspor",  # nothing within reach
        "perceraiannya",  # three letters too many, even for a long word
    ],
)
def test_what_is_no_typo_of_a_document_word_is_left_alone(typed: str) -> None:
    assert Vocabulary.of(WORDS).corrections(typed) == []


def test_ties_give_both_words_and_too_many_ties_only_the_most_used() -> None:
    two = Vocabulary.of({"pengadilan": 1, "pengadilam": 2})
    assert two.corrections("pengadilah") == ["pengadilam", "pengadilan"]
    many = Vocabulary.of({"perjanjian": 1, "perjanjuin": 5, "perjanjein": 2})
    assert many.corrections("perjanjin") == ["perjanjuin"]


def test_distance_counts_edits_and_stops_beyond_its_limit() -> None:
    assert distance("gaij", "gaji", 1) == 1  # a swap is one edit
    assert distance("lahn", "lahan", 1) == 0.5  # a vowel not typed is half of one
    assert distance("kantor", "kantor", 1) == 0
    assert distance("abcdef", "uvwxyz", 2) == 3  # over the limit: limit + 1
    assert distance("kada", "kata", 1, strict=True) == 2  # strict: a wrong letter is too far
    assert distance("tutp", "tutup", 1, strict=True) == 0.5
    assert [max_distance(w) for w in ("ab", "abc", "abcd", "abcdefgh")] == [0, 1, 1, 2]


def test_numbers_and_short_words_are_no_targets() -> None:
    vocabulary = Vocabulary.of([("2024", 3), ("uu", 2), ("hakim", 1)])
    assert len(vocabulary) == 1 and "hakim" in vocabulary and "2024" not in vocabulary


def test_the_search_corrects_only_words_that_may_be_misspelt() -> None:
    vocabulary = Vocabulary.of(WORDS)
    found = corrections(["pesngon", "gaji", "tanh", "kerja", "srtifkasi"], vocabulary)
    # "gaji" is the documents' own word; "kerja" is a dictionary word (real, not a typo)
    assert found == {"srtifkasi": ["sertifikasi"], "pesngon": ["pesangon"], "tanh": ["tanah"]}
    # a word typed in capitals is an acronym, not a typo
    assert corrections(["tanh"], vocabulary, frozenset({"tanh"})) == {}


def test_a_corrected_word_reads_as_found_as_its_correction() -> None:
    matches = ["pesngon>?", "gaji>gaji", "pesangon>pesangon", "wkwk>?"]
    out = _corrected_matches(matches, {"pesngon": ["pesangon"]}, ["pesngon", "gaji", "wkwk"])
    assert out == ["pesngon>pesangon", "gaji>gaji", "wkwk>?"]
    # the question typed the correction too: its own pair stays
    both = _corrected_matches(matches, {"pesngon": ["pesangon"]}, ["pesngon", "pesangon"])
    assert both == ["pesngon>pesangon", "pesangon>pesangon"]


def test_a_word_typed_without_vowels_stands_for_the_document_word_of_its_consonants() -> None:
    vocabulary = Vocabulary.of(
        {"kantor": 5, "berangkat": 2, "pengadilan": 9, "pasangan": 3, "pesangon": 4,
         "apakah": 9, "panas": 1, "lebih": 7}
    )  # fmt: skip
    assert vocabulary.shortened_from("kntr") == ["kantor"]
    assert vocabulary.shortened_from("brgkt") == ["berangkat"]  # one inner consonant dropped
    assert vocabulary.shortened_from("pgdln") == ["pengadilan"]
    assert vocabulary.shortened_from("psngn") == ["pesangon", "pasangan"]  # most used first
    # Three consonants are as often an acronym: "pns", "lbh" stay as typed; a shortening
    # keeps the first letter ("pkh" is no "apakah"); a word with a vowel is the spelling
    # look-up's.
    for typed in ("pns", "lbh", "pkhh", "kantr", "npwp", "kantor"):
        assert vocabulary.shortened_from(typed) == [], typed


def test_the_search_expands_a_word_typed_without_vowels() -> None:
    vocabulary = Vocabulary.of({"kantor": 5, "tanah": 3})
    assert corrections(["kntr", "tanah"], vocabulary) == {"kntr": ["kantor"]}
    assert corrections(["kntr"], vocabulary, frozenset({"kntr"})) == {}  # typed in capitals


def test_no_shortening_where_a_common_word_may_be_meant_or_too_little_is_typed() -> None:
    vocabulary = Vocabulary.of({"sekurang": 3, "sembilan": 2, "setangkai": 1})
    assert vocabulary.shortened_from("skrng") == []  # "sekarang", not the documents' word
    assert vocabulary.shortened_from("sbln") == []  # four letters: no consonant dropped
    assert vocabulary.shortened_from("stnk") == []
    # A content word the documents lack does not stop the documents' own word.
    assert Vocabulary.of({"pesangon": 1}).shortened_from("psngn") == ["pesangon"]
    assert Vocabulary.of({"putusan": 1}).shortened_from("ptsn") == ["putusan"]
    # An everyday word the documents do use is read as itself.
    assert Vocabulary.of({"keluarga": 2}).shortened_from("klrg") == ["keluarga"]
