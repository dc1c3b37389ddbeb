"""Related words (domain.related_words): a question word no document uses, searched with the
document words that name the same thing."""

from __future__ import annotations

from wagate.domain.related_words import GROUPS, document_members, related_document_words
from wagate.domain.spelling import Vocabulary
from wagate.storage.knowledge import _corrected_matches, corrections

DOCUMENT_WORDS = ["kecelakaan", "pekerja", "pekerjanya", "pengusaha", "angsuran", "penjara",
                  "penangkapan", "pengajian", "tanah", "upah", "bos"]  # fmt: skip


def members() -> dict[str, list[str]]:
    return document_members(DOCUMENT_WORDS)


def test_a_word_no_document_uses_gets_the_documents_word_for_it() -> None:
    found = members()
    assert related_document_words("tabrakan", found) == ["kecelakaan"]
    assert related_document_words("ditabrak", found) == ["kecelakaan"]  # an affixed form
    # One word per member, the first the vocabulary lists (its most used form).
    assert related_document_words("karyawannya", found) == ["pekerja"]
    assert related_document_words("cicilan", found) == ["angsuran"]
    assert related_document_words("bui", found) == ["penjara"]


def test_a_word_the_documents_use_in_any_form_is_not_widened() -> None:
    found = members()
    assert related_document_words("pekerja", found) == []  # used as typed
    assert related_document_words("bos", found) == []  # a group member the documents use
    # "penangkapan" is "ditangkap" with other affixes: the search's stemmer finds it.
    assert related_document_words("ditangkap", found) == []
    assert Vocabulary.of({"penangkapan": 1}).related_words("ditangkap") == []
    assert related_document_words("rumah", found) == []  # in no group


def test_words_of_another_meaning_are_no_forms_of_a_member() -> None:
    found = members()
    for word in ("bosan", "pekerjaan", "meninggalkan", "pelajaran", "mengaji"):
        assert related_document_words(word, found) == [], word


def test_the_vocabulary_widens_no_word_a_document_uses_in_another_form() -> None:
    uses = {"menabrak": 2, "kecelakaan": 5, "kontrak": 3, "sewa": 4}
    vocabulary = Vocabulary.of(uses)
    assert vocabulary.related_words("tabrakan") == []  # "menabrak": the stemmer finds it
    assert vocabulary.related_words("kontrakan") == []  # "kontrak" is in the documents
    assert Vocabulary.of({"kecelakaan": 1}).related_words("tabrakan") == ["kecelakaan"]


def test_documents_words_are_read_as_written_not_by_affixes() -> None:
    # "pengajian" (a recitation) holds "gaji" between its affixes; it is no salary.
    assert "gaji" not in members()
    assert document_members(["gajinya"]) == {"gaji": ["gajinya"]}


def test_no_member_is_in_two_groups_and_groups_have_two_members() -> None:
    seen: set[str] = set()
    for group in GROUPS:
        words = group.split()
        assert len(words) >= 2 and len(set(words)) == len(words), group
        assert not seen & set(words), group
        seen.update(words)


def test_the_search_reads_a_related_word_as_found() -> None:
    vocabulary = Vocabulary.of({w: 1 for w in DOCUMENT_WORDS})
    assert vocabulary.related_words("tabrakan") == ["kecelakaan"]
    found = corrections(["tabrakan", "lokasi"], vocabulary)
    assert found == {"tabrakan": ["kecelakaan"]}
    matches = _corrected_matches(["tabrakan>?", "lokasi>?", "kecelakaan>kecelakaan"], found,
                                 ["tabrakan", "lokasi"])  # fmt: skip
    assert matches == ["tabrakan>kecelakaan", "lokasi>?"]
    # Typed in capitals it is a name, not a word ("BOS" is a school fund).
    assert corrections(["cicilan"], vocabulary, frozenset({"cicilan"})) == {}
    # At most three question words are widened.
    many = corrections(["tabrakan", "cicilan", "karyawan", "majikan", "bui"], vocabulary)
    assert len(many) == 3
