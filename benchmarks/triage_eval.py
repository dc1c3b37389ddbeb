"""Triage evaluation (AI7, issue 14): how the rules sort labelled WhatsApp messages into green,
yellow and red.

What it does
  Reads a labelled set (default benchmarks/triage_data/messages.jsonl; one JSON object a line
  with "id", "text", "zone", "note"), classifies every message with the triage rules (the
  packaged defaults, or --rules FILE over them, as TRIAGE_RULES_FILE would be) with no
  history and no AI, and compares with the labels.

How to read it
  The confusion matrix has the truth in rows and the prediction in columns. Goals (issue 14):
  red recall 1.0 (no danger missed), red precision >= 0.8 (few false alarms), yellow recall
  >= 0.95 (own-case questions reach a lawyer). Yellow recall here counts a yellow message
  predicted red as caught: a human sees it either way.

  messages.jsonl is the set the default rules were tuned on; dev_holdout.jsonl was not looked
  at while tuning ("untuned"). Report them apart.

  --errors lists every wrong call with the rules that made it and the danger score's total and
  cues. --score-only switches the phrase rules off, to see what the danger score (word roots
  and cue classes, `[score]` in the rules) catches by itself.

  By default the rules alone are measured (as before the learned detector). --model adds the
  shipped learned detector (src/wagate/triage_rules/triage_model.json) as the gateway runs it
  with TRIAGE_MODEL=on; it was trained on every set here, so on these sets its figures are
  optimistic: --cross-validate is the honest measure.

  --cross-validate: leave-one-set-out. For each of holdout_b, holdout_c, holdout_d, holdout_e,
  holdout_f, holdout_g, holdout_h and messages, a detector trained on every other set
  (benchmarks/_triage_cv.py) scores it; prints per fold and pooled today's rules alone, the
  detector alone (its most likely zone) and rules+detector at the shipped thresholds; then, for
  the seven sets by other authors, the
  rules as they were while each was still blind (triage_data/blind_rules_zones.json, written by
  blind_rules_zones.py), alone and with the detector, and a sweep of the red threshold over
  those. Today's rules were tuned on holdout_b, _c, _d, _g and messages, so only the untuned
  figures say how the rules meet messages nobody has seen. Trains eight models: a few minutes.

  --cpu: CPU per message of the rules and of the detector's scoring over every named set.

Exit status: 0; with --check, 2 when a goal is missed, 1 when the set or rules cannot be read.

    .venv/bin/python benchmarks/triage_eval.py [--set FILE] [--rules FILE] [--errors] [--check]
        [--score-only] [--model] [--cross-validate] [--cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _triage_cv as cv
from wagate.domain.triage_model import TriageModel, TriageModelError
from wagate.domain.triage_rules import RuleSet, classify, danger_score
from wagate.domain.zones import Zone
from wagate.triage_rules import TriageRulesError, load_rule_set, load_triage_model

DATA = Path(__file__).resolve().parent / "triage_data"
ZONES = (Zone.GREEN, Zone.YELLOW, Zone.RED)
GOALS = {"red recall": 1.0, "red precision": 0.8, "yellow recall": 0.95}


def load_set(path: Path) -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("zone") not in {z.value for z in ZONES} or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{number}: needs a text and a zone green|yellow|red")
        rows.append(row)
    return rows


def evaluate(
    rows: list[dict[str, str]], rules: RuleSet, model: TriageModel | None = None
) -> tuple[Counter[tuple[Zone, Zone]], list[str]]:
    confusion: Counter[tuple[Zone, Zone]] = Counter()
    errors = []
    for row in rows:
        truth = Zone(row["zone"])
        call = classify(row["text"], (), rules)
        zone = call.zone
        if model is not None:
            zone = model.raise_zone(zone, row["text"])
        confusion[truth, zone] += 1
        if zone is not truth:
            rules_hit = ",".join(call.rules) or "-"
            score, cues = danger_score(row["text"], rules)
            errors.append(
                f"{row.get('id', '?')}: {truth} → {zone} [{rules_hit}] "
                f"(score {score}: {'+'.join(cues) or '-'}) {row['text']!r}"
            )
    return confusion, errors


def figures(confusion: Counter[tuple[Zone, Zone]]) -> dict[str, float]:
    red_true = sum(confusion[Zone.RED, p] for p in ZONES)
    red_predicted = sum(confusion[t, Zone.RED] for t in ZONES)
    yellow_true = sum(confusion[Zone.YELLOW, p] for p in ZONES)
    yellow_caught = confusion[Zone.YELLOW, Zone.YELLOW] + confusion[Zone.YELLOW, Zone.RED]
    green_true = sum(confusion[Zone.GREEN, p] for p in ZONES)
    total = sum(confusion.values())
    return {
        "red recall": confusion[Zone.RED, Zone.RED] / red_true if red_true else 1.0,
        "red precision": (confusion[Zone.RED, Zone.RED] / red_predicted if red_predicted else 1.0),
        "yellow recall": yellow_caught / yellow_true if yellow_true else 1.0,
        "yellow recall (exact)": (
            confusion[Zone.YELLOW, Zone.YELLOW] / yellow_true if yellow_true else 1.0
        ),
        "green kept green": confusion[Zone.GREEN, Zone.GREEN] / green_true if green_true else 1.0,
        "accuracy": sum(confusion[z, z] for z in ZONES) / total if total else 1.0,
    }


def report(name: str, confusion: Counter[tuple[Zone, Zone]]) -> dict[str, float]:
    counts = {z: sum(confusion[z, p] for p in ZONES) for z in ZONES}
    print(
        f"{name}: {sum(counts.values())} messages — " + ", ".join(f"{z} {counts[z]}" for z in ZONES)
    )
    print(f"{'truth / predicted':>18} " + " ".join(f"{z.value:>7}" for z in ZONES))
    for truth in ZONES:
        print(f"{truth.value:>18} " + " ".join(f"{confusion[truth, p]:>7}" for p in ZONES))
    values = figures(confusion)
    for key, value in values.items():
        goal = GOALS.get(key)
        mark = "" if goal is None else ("  ok" if value >= goal else f"  MISSED (goal {goal})")
        print(f"  {key:<22} {value:.3f}{mark}")
    return values


# triage6's combination (red at P(red) >= 0.25, no ratio; yellow at 0.20), shown beside the
# shipped one so that a change of rule is measured on the same out-of-fold scores.
TRIAGE6_RULE = (0.25, 0.20, 0.0)


def cross_validate(rules: RuleSet, shipped: TriageModel) -> None:
    red, yellow, ratio = shipped.red_threshold, shipped.yellow_threshold, shipped.red_ratio
    scored = cv.cross_validate(
        rules,
        shipped.config,
        cv.TRAINING,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(
        f"leave-one-set-out; rules+model at the shipped thresholds red {red}, yellow {yellow}, "
        f"red over yellow {ratio}"
    )
    for fold in (*cv.FOLDS, "pooled"):
        part = [s for s in scored if fold in ("pooled", s.fold)]
        print(f"\n=== {fold} ===")
        report("rules alone", cv.confusion(part, None, None))
        alone: Counter[tuple[Zone, Zone]] = Counter()
        for item in part:
            alone[item.truth, max(ZONES, key=lambda z: item.probabilities[z])] += 1
        report("model alone (most likely zone)", alone)
        report("rules + model", cv.confusion(part, red, yellow, ratio))
    blind = cv.with_blind_rules(scored)
    commits = cv.blind_commits()
    for fold in (*commits, "pooled over the once-blind sets"):
        part = [s for s in blind if fold in ("pooled over the once-blind sets", s.fold)]
        at = f" (rules at {commits[fold]})" if fold in commits else ""
        print(f"\n=== {fold}: the rules as they were while it was blind{at} ===")
        report("untuned rules alone", cv.confusion(part, None, None))
        report("untuned rules + model, triage6's combination", cv.confusion(part, *TRIAGE6_RULE))
        report("untuned rules + model", cv.confusion(part, red, yellow, ratio))
    chosen = cv.choose_thresholds(blind)
    print(
        f"\nthresholds the training rule picks from the untuned-rules scores: red {chosen[0]}, "
        f"yellow {chosen[1]}, red over yellow {chosen[2]}"
    )
    print(
        "sweep pooled over the once-blind sets, untuned rules (yellow and red over yellow at "
        "the shipped ones):"
    )
    print(
        f"{'red threshold':>14} {'red recall':>10} {'red prec':>9} {'yellow rec':>10} "
        f"{'green kept':>10}"
    )
    for threshold in cv.GRID:
        values = figures(cv.confusion(blind, threshold, yellow, ratio))
        print(
            f"{threshold:>14.2f} {values['red recall']:>10.3f} {values['red precision']:>9.3f} "
            f"{values['yellow recall']:>10.3f} {values['green kept green']:>10.3f}"
        )


def cpu_per_message(rules: RuleSet, model: TriageModel, passes: int = 5) -> None:
    """CPU per message over every named set: the rules' classify and the detector's scoring
    (medians of `passes` passes, after one warm-up pass that fills the roots cache)."""
    texts = [text for text, _ in cv.examples(cv.TRAINING_SETS)]
    for text in texts:
        classify(text, (), rules)
        model.probabilities(text)
    timings: dict[str, list[float]] = {"rules": [], "detector": []}
    for _ in range(passes):
        started = time.process_time()
        for text in texts:
            classify(text, (), rules)
        timings["rules"].append((time.process_time() - started) / len(texts) * 1000)
        started = time.process_time()
        for text in texts:
            model.probabilities(text)
        timings["detector"].append((time.process_time() - started) / len(texts) * 1000)
    print(
        f"CPU per message over {len(texts)} messages, median of {passes} passes: "
        + ", ".join(f"{name} {statistics.median(ms):.3f} ms" for name, ms in timings.items())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DATA / "messages.jsonl")
    parser.add_argument("--rules", type=Path, default=None, help="a TRIAGE_RULES_FILE")
    parser.add_argument("--errors", action="store_true", help="list every wrong call")
    parser.add_argument("--check", action="store_true", help="exit 2 when a goal is missed")
    parser.add_argument(
        "--score-only", action="store_true", help="the danger score alone, no phrase rules"
    )
    parser.add_argument(
        "--model", action="store_true", help="the shipped learned detector beside the rules"
    )
    parser.add_argument(
        "--cross-validate", action="store_true", help="leave-one-set-out, rules vs rules+model"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="CPU per message: the rules and the detector"
    )
    args = parser.parse_args(argv)
    try:
        rules = load_rule_set(args.rules)
        rows = load_set(args.set)
        model = load_triage_model() if args.model or args.cross_validate or args.cpu else None
    except (OSError, ValueError, TriageRulesError, TriageModelError) as exc:
        print(f"triage_eval: {exc}", file=sys.stderr)
        return 1
    if args.score_only:
        rules = dataclasses.replace(rules, rules=())
    if args.cross_validate or args.cpu:
        assert model is not None
        if args.cross_validate:
            cross_validate(rules, model)
        if args.cpu:
            cpu_per_message(rules, model)
        return 0
    confusion, errors = evaluate(rows, rules, model if args.model else None)
    values = report(args.set.name, confusion)
    if args.errors:
        print(f"\n{len(errors)} wrong:")
        for line in errors:
            print("  " + line)
    missed = [key for key, goal in GOALS.items() if values[key] < goal]
    if args.check and missed:
        print("goals missed: " + ", ".join(missed), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
