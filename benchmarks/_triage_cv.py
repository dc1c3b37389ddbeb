"""Shared by triage_eval.py --cross-validate and train_triage_model.py: which labelled sets the
learned triage model trains on, leave-one-set-out folds, and how its thresholds are chosen.

The training sets are named one by one (never a glob): a blind set dropped into
benchmarks/triage_data/ must not be trained on by accident.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wagate.domain.triage_model import FeatureConfig, TrainingConfig, TriageModel, combine, train
from wagate.domain.triage_rules import RuleSet, classify
from wagate.domain.zones import Zone

DATA = Path(__file__).resolve().parent / "triage_data"
TRAINING_SETS = (
    "messages.jsonl",
    "dev_holdout.jsonl",
    "probes.jsonl",
    "holdout.jsonl",
    "fresh.jsonl",
    "fresh2.jsonl",
    "fresh3.jsonl",
    "fresh4.jsonl",
    "fresh5.jsonl",
    "fresh6.jsonl",
    "fresh7.jsonl",
    "fresh8.jsonl",
    "fresh9.jsonl",
    "fresh10.jsonl",
    "holdout_b.jsonl",
    "holdout_c.jsonl",
    "holdout_d.jsonl",
    "holdout_e.jsonl",
)
# Each held out in turn, the model trained on every other set: the blind sets by other
# authors, and the tuning set.
FOLDS = ("holdout_b.jsonl", "holdout_c.jsonl", "holdout_d.jsonl", "holdout_e.jsonl", "messages.jsonl")
ZONES = (Zone.GREEN, Zone.YELLOW, Zone.RED)

# How thresholds are chosen (decided before the first cross-validated run): on the pooled
# out-of-fold predictions of rules+model,
# - red: the lowest threshold on the grid whose pooled red precision is at least
#   RED_PRECISION_FLOOR (the goal 0.8 plus a margin, since a new set's precision scatters
#   around the pooled one);
# - yellow: the lowest threshold on the grid that keeps at least GREEN_KEPT_FLOOR of the green
#   messages green (each green sent to a lawyer costs a lawyer's time and the person a wait).
RED_PRECISION_FLOOR = 0.85
GREEN_KEPT_FLOOR = 0.80
GRID = tuple(round(0.05 * i, 2) for i in range(2, 20))


def load_rows(name: str) -> list[dict[str, str]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def examples(names: Sequence[str]) -> list[tuple[str, Zone]]:
    return [(row["text"], Zone(row["zone"])) for name in names for row in load_rows(name)]


@dataclass(frozen=True, slots=True)
class Scored:
    """One held-out message: its truth, the rules' zone and the model's probabilities."""

    fold: str
    truth: Zone
    rules: Zone
    probabilities: dict[Zone, float]


def cross_validate(
    rules: RuleSet,
    config: FeatureConfig = FeatureConfig(),
    training: TrainingConfig = TrainingConfig(),
    progress: Callable[[str], None] = lambda _: None,
) -> list[Scored]:
    scored: list[Scored] = []
    for fold in FOLDS:
        progress(f"training without {fold}")
        model = train(examples([s for s in TRAINING_SETS if s != fold]), config, training)
        for row in load_rows(fold):
            scored.append(
                Scored(
                    fold=fold,
                    truth=Zone(row["zone"]),
                    rules=classify(row["text"], (), rules).zone,
                    probabilities=model.probabilities(row["text"]),
                )
            )
    return scored


def with_thresholds(model: TriageModel, red: float, yellow: float) -> TriageModel:
    return TriageModel(
        config=model.config,
        bias=model.bias,
        weights=model.weights,
        red_threshold=red,
        yellow_threshold=yellow,
        notes=model.notes,
    )


def confusion(
    scored: Sequence[Scored], red: float | None, yellow: float | None
) -> Counter[tuple[Zone, Zone]]:
    """Rules+model at the given thresholds; None: the rules alone."""
    matrix: Counter[tuple[Zone, Zone]] = Counter()
    for item in scored:
        if red is None or yellow is None:
            call = item.rules
        else:
            call = _combined(item, red, yellow)
        matrix[item.truth, call] += 1
    return matrix


def _combined(item: Scored, red: float, yellow: float) -> Zone:
    # `combine` only reads the thresholds off the model.
    probe = TriageModel(
        config=FeatureConfig(), bias=(0.0, 0.0, 0.0), weights={}, red_threshold=red,
        yellow_threshold=yellow,
    )  # fmt: skip
    return combine(item.rules, item.probabilities, probe)


def red_precision(matrix: Counter[tuple[Zone, Zone]]) -> float:
    predicted = sum(matrix[t, Zone.RED] for t in ZONES)
    return matrix[Zone.RED, Zone.RED] / predicted if predicted else 1.0


def green_kept(matrix: Counter[tuple[Zone, Zone]]) -> float:
    total = sum(matrix[Zone.GREEN, p] for p in ZONES)
    return matrix[Zone.GREEN, Zone.GREEN] / total if total else 1.0


def choose_thresholds(scored: Sequence[Scored]) -> tuple[float, float]:
    """The rule above, applied to pooled out-of-fold predictions. Red first (with yellow at
    its most cautious, which does not change which messages are red), then yellow."""
    red = next(
        (t for t in GRID if red_precision(confusion(scored, t, 1.0)) >= RED_PRECISION_FLOOR),
        GRID[-1],
    )
    yellow = next(
        (t for t in GRID if green_kept(confusion(scored, red, t)) >= GREEN_KEPT_FLOOR), GRID[-1]
    )
    return red, yellow
