"""Collect the out-of-scope model's training data: the lexical evidence of every labelled
question of the knowledge-base corpora in benchmarks/, before and after padding.

For each corpus (kb_data with its three question files, kb_dev, kb_holdout3 to kb_holdout27,
each added once it had been measured blind: 12 to 27 on 2026-12-07), in a fresh database: add
its documents as kb_eval.py does, ask every question through the lexical search
(`KnowledgeBase._lexical`, the rows `search` decides on), then pad to --chunks chunks with
kb_eval's synthetic documents and ask again. One JSON line per (corpus, state, question):
its label, the rows' numbers, the top rows' section and title (and the first three rows'
text, to try features of what the top passage says), and the rank of the labelled document
and section in the fused ranking `search` would return if it answered. kb_scope_train.py
reads the file; nothing here decides anything.

    .venv/bin/python benchmarks/kb_scope_collect.py [--out benchmarks/kb_scope/evidence.jsonl.gz]
        [--chunks 20000] [--corpora kb_data,kb_dev,...]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import sys
from pathlib import Path
from typing import Any

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database
from kb_eval import TENANT, Question, corpus_files, judge, load_questions, pad, prepare
from wagate.domain.knowledge import Passage
from wagate.storage.database import Database
from wagate.storage.knowledge import KnowledgeBase, acronyms_in, asked_words, fuse

HERE = Path(__file__).resolve().parent
CORPORA = (
    "kb_data",
    "kb_dev",
    "kb_holdout3",
    "kb_holdout4",
    "kb_holdout5",
    "kb_holdout6",
    "kb_holdout7",
    "kb_holdout8",
    "kb_holdout9",
    "kb_holdout10",
    "kb_holdout11",
    "kb_holdout12",
    "kb_holdout13",
    "kb_holdout14",
    "kb_holdout15",
    "kb_holdout16",
    "kb_holdout17",
    "kb_holdout18",
    "kb_holdout19",
    "kb_holdout20",
    "kb_holdout21",
    "kb_holdout22",
    "kb_holdout23",
    "kb_holdout24",
    "kb_holdout25",
    "kb_holdout26",
    "kb_holdout27",
)
TOP_ROWS_NAMED = 8  # rows whose section and title are kept (to read the errors by)
TOP_ROWS_TEXT = 3  # rows whose text is kept (features of what the top passage says, kb10)
NUMBERS = ("matched", "topic", "topic_count", "rarest", "in_heading", "heading_similarity")


def questions_of(corpus: str) -> tuple[Path, list[Question]]:
    """The corpus's documents folder and every labelled question asked over it."""
    root = HERE / corpus
    if corpus == "kb_dev":
        documents = root / "docs"
        questions = []
        for number, line in enumerate((root / "questions.tsv").read_text().splitlines()):
            if not line.strip() or line.startswith("#"):
                continue
            text, expected = line.split("\t")
            out = expected.strip() == "-"
            questions.append(
                Question(f"d{number:03}", text, None if out else expected.strip(), None, "")
            )
        return documents, questions
    documents = root / "documents"
    files = [root / "questions.jsonl"]
    if corpus == "kb_data":
        files += [root / "holdout2.jsonl", root / "holdout_kbtune.jsonl"]
    questions = []
    for path in files:
        for q in load_questions(path, documents):
            questions.append(
                Question(f"{path.stem}:{q.id}", q.text, q.document, q.section, q.style)
            )
    return documents, questions


def passages(rows: list[dict[str, Any]]) -> list[Passage]:
    """The ranking `search` returns when it answers (no embeddings: the lexical order)."""
    rankings = {"lexical": [int(r["id"]) for r in rows]}
    found = {int(r["id"]): r for r in rows}
    return [
        Passage(
            document_id=int(found[i]["document_id"]),
            source=str(found[i]["source"]),
            title=str(found[i]["title"]),
            section=str(found[i]["section"]),
            text=str(found[i]["text"]),
            score=score,
        )
        for i, score in fuse(rankings)[:5]
    ]


def record(corpus: str, state: str, q: Question, rows: list[dict[str, Any]]) -> dict[str, Any]:
    outcome = judge(q, passages(rows))
    first = rows[0] if rows else {}
    return {
        "corpus": corpus,
        "state": state,
        "id": q.id,
        "question": q.text,
        "document": q.document,
        "section": q.section,
        "out_of_scope": q.document is None,
        "document_rank": outcome.document_rank,
        "section_rank": outcome.section_rank,
        "acronyms": sorted(acronyms_in(q.text)),
        "asked": None if (a := asked_words(q.text)) is None else sorted(a),
        "topic_weight": float(first.get("topic_weight") or 0.0),
        "absent_weight": float(first.get("absent_weight") or 0.0),
        "matches": list(first.get("matches") or []),
        "rows": [
            {k: round(float(r[k] or 0.0), 6) for k in NUMBERS}
            | {"document_id": int(r["document_id"])}
            | ({"section": r["section"], "title": r["title"]} if i < TOP_ROWS_NAMED else {})
            | ({"text": r["text"]} if i < TOP_ROWS_TEXT else {})
            for i, r in enumerate(rows)
        ],
    }


async def collect(url: str, corpus: str, chunks: int, out: Any) -> None:
    documents, questions = questions_of(corpus)
    database = Database(url, pool_size=2)
    await database.open()
    try:
        kb = KnowledgeBase(database, TENANT)
        for path in corpus_files(documents):
            report = await kb.add_file(path)
            if report.error:
                raise SystemExit(f"{corpus}: {path.name}: {report.error}")
        for state in ("corpus", "padded"):
            if state == "padded":
                await pad(kb, chunks)
            for q in questions:
                rows = await kb._lexical(q.text)
                out.write(json.dumps(record(corpus, state, q, rows), ensure_ascii=False) + "\n")
            out.flush()
            print(f"{corpus} {state}: {len(questions)} questions", flush=True)
    finally:
        await database.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--out", type=Path, default=HERE / "kb_scope" / "evidence.jsonl.gz")
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--corpora", default=",".join(CORPORA))
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as out:
        for corpus in args.corpora.split(","):
            if corpus not in CORPORA:
                raise SystemExit(f"unknown corpus {corpus!r}")
            with fresh_database(args.database_url, f"_scope_{corpus}") as owner_url:
                asyncio.run(collect(prepare(owner_url), corpus, args.chunks, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
