"""Nested leave-one-corpus-out figures with candidate answer-shape features appended to the
scope model's 17 (branch kb10's experiment; not kept, see benchmarks/README.md "kb10").

    .venv/bin/python benchmarks/kb_scope_try.py 0,1 benchmarks/kb_scope/evidence.jsonl.gz
    (indices into NAMES, or - for none)
"""

import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kb_scope_train as T
import wagate.domain.knowledge_scope as ks
from wagate.domain.knowledge_answer import answer_features

NAMES = ("asks_kind", "kind_missing", "focus_held", "focus_in_heading", "sentence_cover")
pick = [int(x) for x in sys.argv[1].split(",")] if sys.argv[1] != "-" else []
paths = sys.argv[2:]
extra = {}
for p in paths:
    with gzip.open(p, "rt") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        r = json.loads(line)
        rows = r["rows"]
        if rows:
            top = rows[0]
            f = answer_features(
                r["question"],
                f"{top.get('title', '')} {top.get('section', '')}",
                top.get("text", ""),
            )
        else:
            f = (0.0, 0.0, 0.0, 0.0, 0.0)
        extra[(r["corpus"], r["state"], r["id"])] = tuple(f[i] for i in pick)
samples = T.load([Path(p) for p in paths])
samples = [
    T.Sample(
        s.corpus,
        s.state,
        s.id,
        s.question,
        s.out_of_scope,
        s.found,
        s.values + extra[(s.corpus, s.state, s.id)],
        s.rule,
    )
    for s in samples
]
ks.FEATURES = ks.FEATURES + tuple(NAMES[i] for i in pick)
honest = T.nested(samples)
for state in ("padded", "corpus"):
    part = [s for s in samples if s.state == state]
    for corpus in [*sorted({s.corpus for s in part}), "POOLED"]:
        sub = [s for s in part if corpus in (s.corpus, "POOLED")]
        t = T.tally(
            sub, lambda s: honest[s.corpus][2][(s.corpus, s.state, s.id)] >= honest[s.corpus][1]
        )
        if True:
            print(f"{state:<7} {corpus:<12} nested {t.line()}")
probs = {}
for _, _, p in honest.values():
    probs.update(p)
for state in ("padded", "corpus"):
    part = [s for s in samples if s.state == state]
    print(f"{state} nested AUC {T.auc(part, probs):.4f}")
