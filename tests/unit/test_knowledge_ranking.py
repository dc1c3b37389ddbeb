"""The knowledge base's rank fusion and out-of-scope rule (storage/knowledge.py), on rows
shaped like the search function's."""

from __future__ import annotations

from typing import Any

from wagate.storage.knowledge import (
    ACRONYM_AS_FOREIGN,
    CIRCUMSTANCE_AS_FOREIGN,
    EVIDENCE_BESIDE_FOREIGN_WORDS,
    MAX_QUESTION_WORDS,
    MIN_COVERAGE,
    OTHER_WORD_AS_FOREIGN,
    SPREAD_DOCUMENTS,
    STRONG_MATCH,
    UNKNOWN_OTHER_WORD,
    VERB_AS_FOREIGN,
    asked_words,
    foreign_share,
    fuse,
    in_scope,
    question_words,
    unknown_share,
)

ABSENT = 10.0  # the IDF of a word no chunk holds


def row(
    topic: float,
    count: float = 1.0,
    *,
    question: float = 4.0,
    unknown: tuple[str, ...] = (),
    document: int = 1,
) -> dict[str, Any]:
    """A candidate chunk as the search function returns it: the topic weight it holds, how
    many topic words, and (the same on every row) the question's known topic weight and its
    words the documents do not know ("word>?")."""
    return {
        "topic": topic,
        "topic_count": count,
        "topic_weight": question,
        "absent_weight": ABSENT,
        "matches": [f"{w}>?" for w in unknown],
        "document_id": document,
    }


def test_fusion_rewards_agreement_and_is_deterministic() -> None:
    fused = fuse({"lexical": [1, 2, 3], "vector": [2, 3, 1]})
    assert next(item for item, _ in fused) == 2  # second and first beats first and third
    # with the lexical ranking alone its order stands
    assert [item for item, _ in fuse({"lexical": [3, 1, 2]})] == [3, 1, 2]
    assert fuse({"lexical": [5, 6]}) == fuse({"lexical": [5, 6]})
    assert [item for item, _ in fuse({"lexical": [7], "vector": [8]})] == [7, 8]  # tie: by id


def test_a_question_is_in_scope_when_a_chunk_holds_enough_of_its_topic() -> None:
    assert in_scope([row(topic=4.0)])
    assert in_scope([row(topic=0.5, document=1), row(topic=MIN_COVERAGE * 4.0, document=2)])
    assert not in_scope([row(topic=MIN_COVERAGE * 4.0 - 0.01)])
    assert not in_scope([row(topic=0.0, count=0, question=0.0)])  # only everyday words
    assert not in_scope([])


def test_a_real_word_the_documents_lack_counts_more_than_a_typo_or_chat_form() -> None:
    assert unknown_share("paspor") > unknown_share("ngabarin") > 0  # real word, chat form
    assert unknown_share("tahun") == 0  # an everyday word says nothing either way
    assert unknown_share("xqzv") == UNKNOWN_OTHER_WORD  # no word at all
    # "cara daftar merek ... paten": the two real words it names outweigh the one it shares
    assert not in_scope([row(topic=2.0, count=0.7, question=2.0, unknown=("paten", "saham"))])
    # the same match beside a typo the look-up missed is in scope
    assert in_scope([row(topic=2.0, count=0.7, question=2.0, unknown=("kekersan",))])


def test_a_word_that_is_no_dictionary_word_names_nothing_foreign() -> None:
    """A non-word the documents lack may be a brand ("indomaret"), a regional word ("pegatan")
    or a missed typo: it asks for no more evidence (only a real word does), though it still
    dilutes the coverage (`unknown_share`)."""
    assert foreign_share("paspor") == 1.0 and foreign_share("tahun") == 0.0
    assert foreign_share("indomaret") == OTHER_WORD_AS_FOREIGN == 0.0
    one = EVIDENCE_BESIDE_FOREIGN_WORDS[1]
    thin = row(topic=40.0, count=one - 0.1, question=40.0, unknown=("indomaret", "pegatan"))
    assert in_scope([thin])
    assert not in_scope([{**thin, "matches": ["paspor>?"]}])  # a real word asks for more


def test_naming_foreign_things_needs_more_topic_words_in_the_matching_chunk() -> None:
    one, two = EVIDENCE_BESIDE_FOREIGN_WORDS[1], EVIDENCE_BESIDE_FOREIGN_WORDS[2]
    # a chunk holding only "anak" (0.35), for a question that also names "obat": declined
    assert not in_scope([row(topic=9.0, count=0.35, question=9.0, unknown=("obat",))])
    assert in_scope([row(topic=90.0, count=one, question=90.0, unknown=("obat",))])
    assert not in_scope(
        [row(topic=90.0, count=two - 0.1, question=90.0, unknown=("obat", "batuk"))]
    )


def test_evidence_tied_across_many_documents_is_no_evidence() -> None:
    spread = [row(topic=4.0, document=d) for d in range(SPREAD_DOCUMENTS + 1)]
    assert not in_scope(spread)
    assert in_scope(spread[:SPREAD_DOCUMENTS])
    assert in_scope([*spread[:2], *(row(topic=1.0, document=d) for d in range(3, 30))])


def test_a_long_story_is_rescued_by_many_matches() -> None:
    words = ("ngatain", "malem", "ngapain", "temennya", "nyetop", "nunjukin", "pinjem")
    assert not in_scope([row(topic=2.0, question=2.0, unknown=words * 9)])
    assert in_scope([row(topic=2.0, count=STRONG_MATCH, question=2.0, unknown=words * 9)])


def test_a_long_story_keeps_its_most_topical_words_in_order() -> None:
    everyday = (  # common Indonesian words: they name no topic of their own
        "anak tanah surat uang bayar barang toko motor mobil sekolah dokter kantor data kerja"
        " usaha pajak obat makan main cocok tiket jadwal daftar hak istri suami foto kunci lupa"
    )
    words = question_words(f"kemarin {everyday} talak somasi")
    assert len(words) == MAX_QUESTION_WORDS
    assert words[-2:] == ["talak", "somasi"] and "kemarin" not in words
    assert question_words("cerai gmn caranya") == ["cerai"]


def test_only_the_longest_non_words_get_a_fuzzy_look_up() -> None:
    from wagate.storage.knowledge import MAX_FUZZY, _worth_a_fuzzy_look_up

    words = ["percerain", "cuaca", "ngajuke", "sakdurunge", "pirang", "tahun", "arp", "ngabarin"]
    fuzzy = dict(zip(words, _worth_a_fuzzy_look_up(words), strict=True))
    assert sum(fuzzy.values()) == MAX_FUZZY == 3
    assert fuzzy["sakdurunge"] and fuzzy["percerain"] and fuzzy["ngabarin"]
    assert not fuzzy["cuaca"] and not fuzzy["tahun"] and not fuzzy["arp"]  # words, too short


def test_acronyms_and_vowel_less_words_get_no_fuzzy_look_up() -> None:
    from wagate.storage.knowledge import _worth_a_fuzzy_look_up, acronyms_in

    assert acronyms_in("syarat BPJS utk bayi, UGM? Kak") == frozenset({"bpjs", "ugm"})
    words = ["telkomsel", "percerain", "npwp"]
    assert _worth_a_fuzzy_look_up(words) == [True, True, False]  # no vowel: no typo
    assert _worth_a_fuzzy_look_up(words, acronyms_in("TELKOMSEL")) == [False, True, False]


def test_an_abbreviation_typed_in_capitals_that_no_chunk_holds_names_something_foreign() -> None:
    """ "cara urus KITAS": an office, permit or programme the documents never mention. The same
    letters typed in lower case (a regional word, a chat form) ask for no more evidence."""
    assert foreign_share("kitas", frozenset({"kitas"})) == ACRONYM_AS_FOREIGN == 1.0
    assert foreign_share("kitas") == OTHER_WORD_AS_FOREIGN
    one = EVIDENCE_BESIDE_FOREIGN_WORDS[1]
    thin = row(topic=40.0, count=one - 0.1, question=40.0, unknown=("kitas",))
    assert in_scope([thin])
    assert not in_scope([thin], frozenset({"kitas"}))
    assert in_scope([{**thin, "topic_count": one}], frozenset({"kitas"}))


def test_three_foreign_words_need_more_evidence_than_two() -> None:
    two, three = EVIDENCE_BESIDE_FOREIGN_WORDS[2], EVIDENCE_BESIDE_FOREIGN_WORDS[3]
    assert three > two
    named = ("visa", "jepang", "ssw")
    acronyms = frozenset({"ssw"})
    assert not in_scope([row(topic=90.0, count=two, question=90.0, unknown=named)], acronyms)
    assert in_scope([row(topic=90.0, count=three, question=90.0, unknown=named)], acronyms)
    # four or more ask for what three ask for (the table's last entry)
    four = (*named, "paspor")
    assert in_scope([row(topic=90.0, count=three, question=90.0, unknown=four)], acronyms)


def test_a_verb_form_the_documents_lack_names_nothing_foreign() -> None:
    """ "dituduh", "nerima" tell what happened; a question naming a thing ("paspor") asks for
    more evidence, one telling an action does not."""
    assert foreign_share("dituduh") == VERB_AS_FOREIGN == 0.0
    assert foreign_share("nerima") == VERB_AS_FOREIGN
    assert foreign_share("paspor") == 1.0
    one = EVIDENCE_BESIDE_FOREIGN_WORDS[1]
    thin = row(topic=40.0, count=one - 0.1, question=40.0, unknown=("dituduh",))
    assert in_scope([thin])
    assert not in_scope([{**thin, "matches": ["paspor>?"]}])


def test_what_a_story_s_circumstances_name_counts_less_than_what_it_asks() -> None:
    question = "Tetangga saya utang. Saya kesal dan mau posting di facebook. Apa boleh saya tagih?"
    asked = asked_words(question)
    assert asked is not None and "tagih" in asked and "kesal" not in asked
    assert foreign_share("kesal", asked=asked) == CIRCUMSTANCE_AS_FOREIGN
    assert foreign_share("kesal", asked=frozenset({"kesal"})) == 1.0
    assert asked_words("cerai gmn caranya?") is None
    # one foreign real word in the circumstances asks for no more evidence; in the question it does
    thin = row(
        topic=40.0, count=EVIDENCE_BESIDE_FOREIGN_WORDS[1] - 0.1, question=40.0, unknown=("kesal",)
    )
    assert in_scope([thin], asked=asked)
    assert not in_scope([thin], asked=frozenset({"kesal"}))
