"""Record the zones the rules gave each blind set while it was still blind (issue 14).

Why: holdout_b, holdout_c and holdout_d were tuned on after their blind runs, so today's rules
score them almost perfectly, and "rules alone vs rules+model" on them says nothing about
messages nobody has seen. The rules as they were when each set was blind are in git history;
this script takes the source tree of that commit (`git archive`, into a temporary folder, no
checkout), classifies the set with it in a separate Python process, and writes every
message's zone to benchmarks/triage_data/blind_rules_zones.json. `triage_eval.py
--cross-validate` then reports untuned rules and untuned rules + model beside today's rules.

The commits are those whose figures benchmarks/README.md reports as each set's blind run (the
run reproduces them): holdout_b on main before the triage3 merge (25c1b99), holdout_c before
the triage4 merge (0da954c), holdout_d at 5fb46a8 (before triage5), holdout_e at 87b975c (no
rule has been tuned on it). messages.jsonl has no untuned rules: they were written on it.

    .venv/bin/python benchmarks/blind_rules_zones.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUTPUT = HERE / "triage_data" / "blind_rules_zones.json"
BLIND_AT = {
    "holdout_b.jsonl": "25c1b99",
    "holdout_c.jsonl": "0da954c",
    "holdout_d.jsonl": "5fb46a8",
    "holdout_e.jsonl": "87b975c",
    # Blind until triage7: rules at main when triage7 began (no rule has been tuned on it).
    "holdout_f.jsonl": "00a52d7",
    # Blind until triage8: the rules at a0cf09d, where its rules-alone figures were measured
    # (benchmarks/README.md, "The judges"); no rule had been tuned on it, and the rules did not
    # change between that commit and triage8's start (cb31a05).
    "holdout_g.jsonl": "a0cf09d",
    # Blind until triage9: the rules at main when the lead measured it blind (17e3c19, before
    # the triage8 merge); no rule had been tuned on it.
    "holdout_h.jsonl": "17e3c19",
}
_CLASSIFY = """
import json, sys
from wagate.domain.triage_rules import classify
from wagate.triage_rules import load_rule_set
import wagate
assert wagate.__file__.startswith(sys.argv[2]), wagate.__file__  # the old tree, not this one
rules = load_rule_set()
zones = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        row = json.loads(line)
        zones[row["id"]] = classify(row["text"], (), rules).zone.value
print(json.dumps(zones))
"""


def zones_at(commit: str, labelled: Path) -> dict[str, str]:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "src"], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="blind-rules-") as folder:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        source = str(Path(folder) / "src")
        result = subprocess.run(
            [sys.executable, "-c", _CLASSIFY, str(labelled), source],
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": source, "PATH": "/usr/bin:/bin"},
            cwd=folder,
        )
    zones: dict[str, str] = json.loads(result.stdout)
    return zones


def main() -> int:
    recorded = {}
    for name, commit in BLIND_AT.items():
        full = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", commit],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        zones = zones_at(full, HERE / "triage_data" / name)
        recorded[name] = {"commit": full, "zones": zones}
        print(f"{name}: {len(zones)} messages classified by the rules at {full[:7]}")
    OUTPUT.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
