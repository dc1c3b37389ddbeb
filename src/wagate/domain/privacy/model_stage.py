"""An optional named-entity model behind the recogniser port (issue 11).

Deployments that can load a named-entity model (spaCy, a Hugging Face token classifier, …)
may add it to the built-in recognisers: `ModelStage(model=...)` is a `Recognizer`, passed
as `mask(text, vault=..., stages=[stage])` or `find_pii(text, stages=[stage])`. It only adds
spans: the built-in recognisers still run and stay the default, and `spans.resolve` settles
overlaps, so a model can catch a name the rules miss but cannot unmask one they found. Names
it finds are looked for at their other mentions, and go into the vault like any other.

This module is pure: the model is any object with `entities(text)`; loading one (and its
third-party library) is the job of an adapter outside the domain, e.g.
`wagate.assistants.ner.load_model_stage` (the `ner` extra). Tests inject a stub.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from wagate.domain.privacy.spans import EntityType, Span

DEFAULT_LABELS: Mapping[str, EntityType] = {
    "PER": EntityType.NAMA,
    "PERSON": EntityType.NAMA,
    "B-PER": EntityType.NAMA,
    "I-PER": EntityType.NAMA,
    "ADDRESS": EntityType.ALAMAT,
    "STREET": EntityType.ALAMAT,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelEntity:
    """What a model reports: `text[start:end]` is an entity labelled `label` (the model's own
    label set, e.g. "PER") with confidence `score` in [0, 1]."""

    start: int
    end: int
    label: str
    score: float = 1.0


class EntityModel(Protocol):
    """A loaded named-entity model."""

    def entities(self, text: str) -> Iterable[ModelEntity]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelStage:
    """A recogniser made of `model`: entities whose label maps to one of our types through
    `labels` and whose score reaches `min_score` become spans. Spans are trimmed of the
    spaces and punctuation models often include, and dropped when nothing is left or they
    do not lie inside the text."""

    model: EntityModel
    labels: Mapping[str, EntityType] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    min_score: float = 0.5

    def __call__(self, text: str) -> Iterator[Span]:
        for entity in self.model.entities(text):
            kind = self.labels.get(entity.label)
            if kind is None or entity.score < self.min_score:
                continue
            if not 0 <= entity.start < entity.end <= len(text):
                continue
            start, end = _trimmed(text, entity.start, entity.end)
            if start < end:
                yield Span(start=start, end=end, kind=kind, value=text[start:end])


_EDGE = " \t\n.,;:!?()[]\"'"


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end
