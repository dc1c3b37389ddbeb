"""Small talk the detector has not seen (issue 14): how much of chatter.jsonl goes red or
yellow when it is scored by a detector trained without it.

Why: every fold of the leave-one-set-out validation is questions to a legal-aid office, so it
says nothing of greetings, thanks or "dokumen sudah saya kirim"; a detector that reads them as
red pages the on-duty staff for nothing. chatter.jsonl is split into its even and odd lines;
a detector trained on every other named set plus one half scores the other half, and the
other way round. The zones are rules + detector at the given combination (default: the
shipped weights' thresholds), with the features and training of `_triage_cv`.

    .venv/bin/python benchmarks/triage_chatter_check.py [--red R --yellow Y --ratio Q]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _triage_cv as cv
from wagate.domain.triage_model import MIN_WORDS, combine, train, word_count
from wagate.domain.triage_rules import classify
from wagate.domain.zones import Zone
from wagate.triage_rules import load_rule_set, load_triage_model

CHATTER = "chatter.jsonl"


def main(argv: list[str] | None = None) -> int:
    shipped = load_triage_model()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--red", type=float, default=shipped.red_threshold)
    parser.add_argument("--yellow", type=float, default=shipped.yellow_threshold)
    parser.add_argument("--ratio", type=float, default=shipped.red_ratio)
    args = parser.parse_args(argv)
    rules = load_rule_set()
    rows = cv.load_rows(CHATTER)
    others = cv.examples([name for name in cv.TRAINING_SETS if name != CHATTER])
    calls: Counter[Zone] = Counter()
    red_lines = []
    for half in (0, 1):
        seen = [
            (r["text"], Zone(r["zone"]))
            for i, r in enumerate(rows)
            if i % 2 != half
            for _ in range(cv.REPEAT.get(CHATTER, 1))
        ]
        model = cv.with_thresholds(
            train(others + seen, cv.FEATURES, cv.TRAINING), args.red, args.yellow, args.ratio
        )
        for row in (r for i, r in enumerate(rows) if i % 2 == half):
            zone = classify(row["text"], (), rules).zone
            words = word_count(row["text"])
            if words >= MIN_WORDS:
                zone = combine(zone, model.probabilities(row["text"]), model, words)
            calls[zone] += 1
            if zone is Zone.RED:
                red_lines.append(row["text"])
    print(
        f"chatter.jsonl out of sample (red {args.red}, yellow {args.yellow}, ratio "
        f"{args.ratio}): " + ", ".join(f"{z.value} {calls[z]}" for z in cv.ZONES)
    )
    for text in red_lines:
        print(f"  red: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
