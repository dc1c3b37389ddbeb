"""Adapter: load a named-entity model as the optional privacy model stage (issue 11).

Only for deployments that install the `ner` extra (`pip install 'wagate[ner]'`, which
brings `transformers` and `torch`) and can load a token-classification model, e.g. an
Indonesian NER model from a local directory. Nothing here runs unless called: the gateway's
built-in recognisers need none of it, and the tests use a stub model instead.

    stage = load_model_stage("/models/indonesian-ner", min_score=0.6)
    masked = mask(text, vault=vault, known_names=names, stages=[stage])
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wagate.domain.privacy.model_stage import ModelEntity, ModelStage


@dataclass(frozen=True, slots=True)
class _TokenClassifier:
    """A `transformers` token-classification pipeline seen as an `EntityModel`."""

    pipeline: Any

    def entities(self, text: str) -> Iterator[ModelEntity]:
        for item in self.pipeline(text):
            label = str(item.get("entity_group") or item.get("entity") or "")
            yield ModelEntity(
                start=int(item["start"]),
                end=int(item["end"]),
                label=label.upper(),
                score=float(item.get("score", 1.0)),
            )


def load_model_stage(model: str, *, min_score: float = 0.5) -> ModelStage:
    """A `ModelStage` over the token-classification model at `model` (a local path or a
    model name the `transformers` cache already holds). Raises ImportError without the
    `ner` extra."""
    transformers = importlib.import_module("transformers")
    pipeline = transformers.pipeline(
        "token-classification", model=model, aggregation_strategy="simple"
    )
    return ModelStage(model=_TokenClassifier(pipeline), min_score=min_score)
