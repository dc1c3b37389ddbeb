"""The out-of-scope model (domain/knowledge_scope.py): its features, its fitting, the shipped
weights, and the storage layer's conversion of search rows into its evidence."""

from __future__ import annotations

import math
from typing import Any

import pytest

from wagate.domain.chat_words import word_forms
from wagate.domain.knowledge_scope import (
    FEATURES,
    AskedWord,
    Candidate,
    Evidence,
    ScopeModel,
    features,
    fit,
    sentence_share,
    shipped_model,
)
from wagate.storage.knowledge import evidence_of

ABSENT = 10.0


def word(
    topic: float = 1.0, *, known: bool = True, foreign: float = 0.0, form: str = ""
) -> AskedWord:
    return AskedWord(
        topic,
        known,
        0.0 if known else foreign,
        0.0 if known else 0.4 * topic,
        word_forms(form) if form and known else frozenset(),
    )


def chunk(
    matched: float, topic: float | None = None, count: float = 1.0, *, document: int = 1
) -> Candidate:
    return Candidate(
        matched=matched,
        topic=matched if topic is None else topic,
        topic_count=count,
        rarest=matched,
        in_heading=0.0,
        heading_similarity=0.2,
        document_id=document,
    )


def named(evidence: Evidence) -> dict[str, float]:
    return dict(zip(FEATURES, features(evidence), strict=True))


def test_a_passage_holding_the_whole_topic_covers_it() -> None:
    evidence = Evidence((word(), word()), 8.0, ABSENT, (chunk(8.0, count=2.0), chunk(2.0)))
    f = named(evidence)
    assert f["coverage"] == f["known_coverage"] == f["known_share"] == 1.0
    assert f["held"] == 2.0 and f["held_share"] == 1.0
    assert f["gap_second"] == pytest.approx(0.75)  # (8 - 2) / 8
    assert f["gap_fifth"] == 1.0  # no fifth candidate
    assert f["foreign"] == 0.0
    assert f["spread"] == pytest.approx(math.log1p(1))


def test_words_the_base_never_mentions_lower_coverage_and_count_as_foreign() -> None:
    known = Evidence((word(), word()), 8.0, ABSENT, (chunk(8.0, count=2.0),))
    with_foreign = Evidence(
        (word(), word(), word(known=False, foreign=1.0)), 8.0, ABSENT, (chunk(8.0, count=2.0),)
    )
    a, b = named(known), named(with_foreign)
    assert b["coverage"] < a["coverage"]
    assert b["known_coverage"] == a["known_coverage"] == 1.0
    assert b["known_share"] == pytest.approx(2 / 3)
    assert b["foreign"] == 1.0
    many = Evidence(tuple(word(known=False, foreign=1.0) for _ in range(9)), 1.0, ABSENT, ())
    assert named(many)["foreign"] == 3.0  # capped


def test_ties_across_documents_spread_the_evidence() -> None:
    tied = tuple(chunk(4.0, document=d) for d in range(1, 7))
    assert named(Evidence((word(),), 4.0, ABSENT, tied))["spread"] == pytest.approx(math.log1p(6))


def asking(*words: str, text: str, heading: str = "", topic: float = 1.0) -> Evidence:
    asked = tuple(word(topic, form=w) for w in words)
    return Evidence(asked, 8.0, ABSENT, (chunk(8.0),), top_text=text, top_heading=heading)


def test_one_sentence_holding_the_question_counts_more_than_scattered_words() -> None:
    together = asking(
        "dispensasi", "kawin", "pengadilan",
        text="Orang tua mengajukan dispensasi kawin ke pengadilan agama. Sidangnya singkat.",
    )  # fmt: skip
    scattered = asking(
        "dispensasi", "kawin", "pengadilan",
        text="Dispensasi diberikan hakim.\nUmur kawin dan pengadilan; hakim.",
    )  # fmt: skip
    assert sentence_share(together) == 1.0
    assert sentence_share(scattered) == pytest.approx(2 / 3)  # "kawin … pengadilan" alone
    # The section path is read with every sentence: the heading names the topic, the body
    # says what is asked about it.
    headed = asking(
        "dispensasi", "kawin", "pengadilan",
        text="Permohonan diajukan ke pengadilan agama tempat tinggal anak.",
        heading="Bab 2 › Dispensasi Kawin",
    )  # fmt: skip
    assert sentence_share(headed) == 1.0
    # An affixed form in the passage names the word ("ditolak" for "tolak").
    assert (
        sentence_share(asking("tolak", "klaim", text="Klaim yang ditolak dapat diadukan.")) == 1.0
    )


def test_sentence_share_weighs_by_topic_and_needs_known_words_and_text() -> None:
    heavy, light = word(1.0, form="pesangon"), word(0.35, form="bulan")
    evidence = Evidence(
        (heavy, light), 8.0, ABSENT, (chunk(8.0),), top_text="Pesangon dibayar. Tiap bulan."
    )
    assert sentence_share(evidence) == pytest.approx(1.0 / 1.35)
    assert sentence_share(asking("pesangon", text="")) == 0.0
    unknown = Evidence((word(known=False, foreign=1.0),), 0.0, ABSENT, (), top_text="Pesangon.")
    assert sentence_share(unknown) == 0.0


def test_features_are_finite_for_empty_and_degenerate_evidence() -> None:
    for evidence in (
        Evidence((), 0.0, 0.0, ()),
        Evidence((word(0.0),), 0.0, ABSENT, (chunk(0.0),)),
        Evidence((word(),), 3.0, ABSENT, (chunk(3.0, count=0.0),)),
    ):
        values = features(evidence)
        assert len(values) == len(FEATURES)
        assert all(math.isfinite(v) for v in values)


def test_fitting_learns_the_direction_and_is_deterministic() -> None:
    # In scope when the first feature is high; the rest is noise-free filler.
    samples = [[0.1 * i] + [0.5] * (len(FEATURES) - 1) for i in range(20)]
    labels = [1 if i >= 10 else 0 for i in range(20)]
    model = fit(samples, labels)
    assert model.weights[0] > 0
    assert model.probability(samples[19]) > 0.5 > model.probability(samples[0])
    assert fit(samples, labels) == model
    # A sample weight moves the boundary: weighing the negatives more lowers P(in scope).
    heavier = fit(samples, labels, [3.0 if y == 0 else 1.0 for y in labels])
    assert heavier.probability(samples[10]) < model.probability(samples[10])


def test_fitting_refuses_rows_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError):
        fit([[1.0, 2.0]], [1])
    with pytest.raises(ValueError):
        fit([], [])


def test_a_model_round_trips_and_refuses_other_features() -> None:
    model = shipped_model()
    assert ScopeModel.from_json(model.as_json()) == model
    with pytest.raises(ValueError):
        ScopeModel.from_json(model.as_json() | {"features": ["coverage"]})
    with pytest.raises(ValueError):
        ScopeModel.from_json(model.as_json() | {"weights": [1.0]})


def test_the_shipped_model_declines_what_the_base_does_not_hold() -> None:
    model = shipped_model()
    assert 0.0 < model.threshold < 1.0
    assert not model.in_scope(Evidence((word(known=False, foreign=1.0),), 0.0, ABSENT, ()))
    # Only everyday words matched: nothing the question is about is known.
    assert not model.in_scope(Evidence((word(0.0),), 0.0, ABSENT, (chunk(3.0, topic=0.0),)))
    # Three topic words, all held by one passage that stands out: answered.
    strong = Evidence(
        (word(form="ahli"), word(form="waris"), word(form="surat")),
        24.0,
        ABSENT,
        (chunk(24.0, count=3.0), chunk(8.0, document=2), chunk(6.0, document=3)),
        top_text="Surat keterangan ahli waris dibuat di kelurahan.",
    )
    assert model.in_scope(strong)
    # The same passage when the question also names three things no document mentions.
    foreign = tuple(word(known=False, foreign=1.0) for _ in range(3))
    weak = Evidence(
        (word(), *foreign),
        3.0,
        ABSENT,
        (chunk(3.0, count=0.35), chunk(3.0, count=0.35, document=2)),
    )
    assert model.probability(features(weak)) < model.probability(features(strong))
    assert not model.in_scope(weak)


def test_search_rows_become_evidence() -> None:
    rows: list[dict[str, Any]] = [
        {
            "matched": 9.0,
            "topic": 8.0,
            "topic_count": 2.0,
            "rarest": 6.0,
            "in_heading": 3.0,
            "heading_similarity": 0.4,
            "document_id": 7,
            "topic_weight": 12.0,
            "absent_weight": ABSENT,
            "matches": ["cerai>cerai", "paspor>?", "percerain>perceraian"],
            "text": "Perceraian diajukan ke pengadilan.",
            "section": "Bab 1 › Cerai",
        },
        {"matched": 2.0, "topic": 1.0, "topic_count": 1.0, "rarest": None, "in_heading": 0,
         "heading_similarity": 0.1, "document_id": 8},
    ]  # fmt: skip
    evidence = evidence_of("cerai sama paspor gmn", rows)
    assert [w.known for w in evidence.words] == [True, False, True]
    assert evidence.words[1].foreign == 1.0  # a real word the documents never use
    assert evidence.words[1].unknown_share > 0
    assert evidence.known_topic == 12.0 and evidence.absent_idf == ABSENT
    assert [c.document_id for c in evidence.candidates] == [7, 8]
    assert evidence.candidates[1].rarest == 0.0
    assert evidence.words[2].forms >= {"percerain", "perceraian", "cerai"}
    assert evidence.words[1].forms == frozenset()  # no chunk holds it
    assert evidence.top_text == "Perceraian diajukan ke pengadilan."
    assert evidence.top_heading == "Bab 1 › Cerai"
    assert evidence_of("apa saja", []).candidates == ()
