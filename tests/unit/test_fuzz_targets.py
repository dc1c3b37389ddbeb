"""The fuzz targets (fuzz/, run by hand, docs/fuzzing.md) stay runnable: each takes its seed
corpus and a few hundred mutations of it without a finding."""

from __future__ import annotations

import random

import pytest
from fuzz import fonnte_webhook, meta_webhook
from fuzz._harness import _mutate, seeds


@pytest.mark.parametrize(
    ("target", "prefixes"),
    [(meta_webhook.target, ("meta", "pywa")), (fonnte_webhook.target, ("fonnte",))],
    ids=["meta", "fonnte"],
)
def test_fuzz_targets_run_over_their_seeds_and_mutations(
    target: object, prefixes: tuple[str, ...]
) -> None:
    corpus = seeds(prefixes)
    assert len(corpus) > 3
    rng = random.Random(10)
    for data in corpus:
        target(data)  # type: ignore[operator]
    for _ in range(300):
        target(_mutate(rng.choice(corpus), rng))  # type: ignore[operator]
