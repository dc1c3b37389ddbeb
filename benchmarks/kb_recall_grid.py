"""Retrieval's two shape settings, chosen corpus by corpus: does another heading bonus or
trigram weight find the labelled document more often on a corpus it was not chosen on?

For each corpus of kb_scope_collect.py (fresh database, documents added, then padded to
--chunks), every answerable question is asked through the lexical search once per
--heading-bonus value; each answer is fused with each --trigram weight (the fusion is in
Python, so it needs no new query). Printed: recall@5 and section recall@5 by setting, per
corpus and run (no declining: this measures ranking only). Then leave one corpus out: the
setting with the best mean recall@5 on the other corpora, scored on the left-out one.

    .venv/bin/python benchmarks/kb_recall_grid.py [--corpora kb_data,...] [--chunks 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database
from kb_eval import TENANT, corpus_files, judge, pad, prepare
from kb_scope_collect import CORPORA, questions_of
from wagate.domain.chat_words import topic_weight
from wagate.domain.knowledge import Passage
from wagate.storage import knowledge
from wagate.storage.database import Database
from wagate.storage.knowledge import KnowledgeBase, acronyms_in, question_words


def fused(rows: list[dict[str, Any]], trigram: float) -> list[Passage]:
    by_heading = sorted(rows, key=lambda r: (-float(r["heading_similarity"]), int(r["id"])))
    scores: dict[int, float] = {}
    for weight, ranked in ((1.0, rows), (trigram, by_heading)):
        for rank, r in enumerate(ranked, start=1):
            scores[int(r["id"])] = scores.get(int(r["id"]), 0.0) + weight / (knowledge.RRF_K + rank)
    found = {int(r["id"]): r for r in rows}
    order = sorted(scores.items(), key=lambda p: (-p[1], p[0]))[:5]
    return [
        Passage(
            document_id=int(found[i]["document_id"]),
            source=str(found[i]["source"]),
            title=str(found[i]["title"]),
            section=str(found[i]["section"]),
            text="",
            score=s,
        )
        for i, s in order
    ]


async def lexical(kb: KnowledgeBase, question: str, heading_bonus: float) -> list[dict[str, Any]]:
    words = question_words(question)
    if not words:
        return []
    return await kb._database.tenant_rows(
        TENANT,
        knowledge._SEARCH_SQL,
        {
            "words": words,
            "topic": [topic_weight(w) for w in words],
            "fuzzy": knowledge._worth_a_fuzzy_look_up(words, acronyms_in(question)),
            "question": " ".join(words),
            "min_similarity": knowledge.MIN_WORD_SIMILARITY,
            "budget": knowledge.SELECTING_BUDGET,
            "common_share": knowledge.COMMON_SHARE,
            "heading_bonus": heading_bonus,
            "candidates": knowledge.CANDIDATES,
        },
    )


async def grid(url: str, corpus: str, args: argparse.Namespace) -> dict[str, Any]:
    documents, questions = questions_of(corpus)
    answerable = [q for q in questions if q.document is not None]
    database = Database(url, pool_size=2)
    await database.open()
    result: dict[str, Any] = {}
    try:
        kb = KnowledgeBase(database, TENANT)
        for path in corpus_files(documents):
            await kb.add_file(path)
        for state in ("corpus", "padded"):
            if state == "padded":
                await pad(kb, args.chunks)
            for bonus in args.heading_bonus:
                answers = [await lexical(kb, q.text, bonus) for q in answerable]
                for trigram in args.trigram:
                    doc = sec = 0
                    for q, rows in zip(answerable, answers, strict=True):
                        o = judge(q, fused(rows, trigram))
                        doc += o.document_rank is not None
                        sec += o.section_rank is not None
                    n = max(len(answerable), 1)
                    result[f"{state} {bonus} {trigram}"] = (doc / n, sec / n)
            print(f"{corpus} {state} done", flush=True)
    finally:
        await database.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--heading-bonus", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    parser.add_argument("--trigram", type=float, nargs="+", default=[0.0, 0.2, 0.35, 0.6, 1.0])
    parser.add_argument("--json", type=Path, help="write (or, with --read, read) the grid here")
    parser.add_argument("--read", action="store_true", help="score a grid written before")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results: dict[str, dict[str, Any]] = {}
    if args.read and args.json:
        results = json.loads(args.json.read_text())
    else:
        for corpus in args.corpora.split(","):
            with fresh_database(args.database_url, f"_grid_{corpus}") as owner_url:
                results[corpus] = asyncio.run(grid(prepare(owner_url), corpus, args))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    settings = sorted({k.split(" ", 1)[1] for r in results.values() for k in r})
    for state in ("padded", "corpus"):
        print(f"\n== {state}: recall@5 by document / by section ==")
        print(f"{'bonus trigram':<14}" + "".join(f"{c:>22}" for c in results))
        for setting in settings:
            cells = "".join(
                f"{r[f'{state} {setting}'][0]:>13.3f} / {r[f'{state} {setting}'][1]:.3f}"
                for r in results.values()
            )
            print(f"{setting:<14}{cells}")
    print("\n== leave one corpus out (chosen on the others by mean document R@5, both runs) ==")
    current = f"{knowledge.HEADING_BONUS} {knowledge.FUSION_WEIGHTS.get('trigram', 0.0)}"
    for corpus in results:
        others = [r for c, r in results.items() if c != corpus]

        def mean(setting: str, rs: list[dict[str, Any]]) -> float:
            return sum(r[f"{s} {setting}"][0] for r in rs for s in ("padded", "corpus")) / (
                2 * len(rs)
            )

        best = max(settings, key=lambda s: (mean(s, others), s == current))
        r = results[corpus]
        print(
            f"{corpus:<12} chosen {best:<10} padded R@5 {r['padded ' + best][0]:.3f} "
            f"(current {current}: {r['padded ' + current][0]:.3f}), section "
            f"{r['padded ' + best][1]:.3f} ({r['padded ' + current][1]:.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
