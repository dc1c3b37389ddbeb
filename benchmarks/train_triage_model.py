"""Train the learned triage detector (AI7) and write the weights the gateway ships.

What it does
  1. Leave-one-set-out cross-validation (benchmarks/_triage_cv.py FOLDS): for each of
     holdout_b … holdout_h and messages, a model
     trained on every other named set (features and training: `_triage_cv.FEATURES`,
     `TRAINING`, `REPEAT`) scores the held-out one.
  2. Thresholds from those out-of-fold scores only, beside the rules as they were while each
     set was still blind (triage_data/blind_rules_zones.json, from blind_rules_zones.py: the
     seven sets by other authors; today's rules were tuned on four of them, and the detector
     is there for messages the rules have not seen). `_triage_cv.choose_thresholds`: for each
     red-over-yellow ratio (model-only red must have P(red) >= ratio x P(yellow)), the
     highest red threshold (not below 0.25) at which pooled red recall, rules+model, is still
     the best the grid reaches, with pooled red precision at least 0.85; the ratio with the
     best pooled red recall, then precision; then the highest yellow threshold at which
     pooled yellow recall is still the best.
  3. The shipped model: trained on every named set (`_triage_cv.TRAINING_SETS`, never a glob,
     so a blind set dropped into triage_data/ is not trained on), with those thresholds,
     written as compact JSON to src/wagate/triage_rules/triage_model.json.

Deterministic: a fixed seed shuffles the examples; the same sets give the same file. Takes a
few minutes of one core (nine trainings in pure Python).

    .venv/bin/python benchmarks/train_triage_model.py [--output FILE] [--scores FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _triage_cv as cv
from wagate.domain.triage_model import train
from wagate.triage_rules import load_rule_set

OUTPUT = Path(__file__).resolve().parent.parent / "src/wagate/triage_rules/triage_model.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--scores", type=Path, default=None, help="also write the out-of-fold scores (JSON)"
    )
    args = parser.parse_args(argv)
    config, training = cv.FEATURES, cv.TRAINING

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    every = cv.cross_validate(load_rule_set(), config, training, progress=progress)
    if args.scores:
        cv.save_scored(every, args.scores)
    scored = cv.with_blind_rules(every)
    red, yellow, ratio = cv.choose_thresholds(scored)
    pooled = cv.confusion(scored, red, yellow, ratio)
    print(
        f"thresholds from cross-validation beside the blind rules: red {red}, yellow {yellow}, "
        f"red over yellow {ratio} "
        f"(pooled red recall {cv.red_recall(pooled):.3f}, precision "
        f"{cv.red_precision(pooled):.3f}, yellow recall {cv.yellow_recall(pooled):.3f}, "
        f"green kept {cv.green_kept(pooled):.3f})"
    )
    progress("training on every set")
    model = train(cv.examples(cv.TRAINING_SETS), config, training)
    shipped = cv.with_thresholds(model, red, yellow, ratio)
    mapping = shipped.to_mapping()
    mapping["notes"] = {
        "trained_on": {name: len(cv.load_rows(name)) for name in cv.TRAINING_SETS},
        "training": asdict(training),
        "repeated": dict(cv.REPEAT),
        "thresholds_from": (
            f"leave-one-set-out, out-of-fold scores beside the rules as they were when each set "
            f"was blind ({', '.join(cv.blind_commits())}): highest red threshold at the best "
            f"pooled red recall with pooled red precision >= {cv.RED_PRECISION_FLOOR}, for "
            f"each red-over-yellow ratio in {cv.RATIO_GRID}; the ratio with the best pooled "
            f"red recall, then precision, then the smallest; then the highest yellow "
            f"threshold at the best pooled yellow recall"
        ),
    }
    args.output.write_text(
        json.dumps(mapping, separators=(",", ":"), ensure_ascii=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, {len(model.weights)} weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
