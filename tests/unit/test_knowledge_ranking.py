"""The knowledge base's rank fusion and out-of-scope rule (storage/knowledge.py), on rows
shaped like the search function's."""

from __future__ import annotations

from typing import Any

from wagate.storage.knowledge import MIN_COVERAGE, STRONG_MATCH, fuse, in_scope


def row(specific: float, count: int = 1, *, topic: float = 4.0, unknown: int = 0) -> dict[str, Any]:
    return {
        "specific": specific,
        "specific_count": count,
        "specific_weight": topic,
        "mean_weight": 2.0,
        "unknown_words": unknown,
    }


def test_fusion_rewards_agreement_and_is_deterministic() -> None:
    fused = fuse({"lexical": [1, 2, 3], "vector": [2, 3, 1]})
    assert next(item for item, _ in fused) == 2  # second and first beats first and third
    # the trigram ranking weighs less: it reorders only what the words nearly tie on
    assert next(item for item, _ in fuse({"lexical": [1, 2], "trigram": [2, 1]})) == 1
    assert fuse({"lexical": [5, 6]}) == fuse({"lexical": [5, 6]})
    assert [item for item, _ in fuse({"lexical": [7], "vector": [8]})] == [7, 8]  # tie: by id


def test_a_question_is_in_scope_when_a_chunk_holds_enough_of_its_topic() -> None:
    assert in_scope([row(specific=4.0)])
    assert in_scope([row(specific=0.5), row(specific=MIN_COVERAGE * 4.0)])  # any candidate
    assert not in_scope([row(specific=MIN_COVERAGE * 4.0 - 0.01)])
    assert not in_scope([row(specific=0.0, count=0, topic=0.0)])  # only everyday words
    assert not in_scope([])


def test_unknown_topic_words_dilute_and_a_long_story_is_rescued_by_many_matches() -> None:
    assert in_scope([row(specific=2.0, topic=2.0)])
    assert not in_scope([row(specific=2.0, topic=2.0, unknown=6)])  # 2 / (2 + 6·0.5·2)
    assert in_scope([row(specific=2.0, count=STRONG_MATCH, topic=2.0, unknown=6)])
