"""Knowledge-base evaluation (issue 13, AI3): does retrieval find the right document and
section for questions as clients type them, decline what the documents do not cover, and
answer fast with 20,000 chunks loaded?

What it does
  Creates a fresh database on --database-url (dropped afterwards), migrates it, and connects
  as the gateway's non-owner role (so row-level security binds every query, as in the
  gateway). In tenant "eval" it adds the 11 documents of benchmarks/kb_data/documents/ through
  `KnowledgeBase.add_file` and asks every question of benchmarks/kb_data/questions.jsonl with
  `search(question, limit=5)`: the "corpus" run. Then it pads the knowledge base with synthetic
  Indonesian documents on other topics (_kb_padding.py: village administration, health, schools,
  farming, taxes …, sharing the questions' everyday words) until it holds --chunks chunks, asks
  every question again (the "padded" run: the same figures, now against competition) and times
  each search --rounds times over for the latency figures. No embeddings model: the goals must
  be met without one.

How to read it
  For each answerable question the rank of the first passage from the labelled document
  ("by document") and of the first passage from it whose section path contains the labelled
  section's words in order ("by section"); recall@1 and recall@5 are the shares ranked 1 and
  within 5, MRR the mean of 1/rank (0 when missing). An answerable question that got no
  passage at all counts as missed and as "wrongly declined". Out-of-scope questions count as
  declined when search returned []. Latency: p50/p95/p99/max of one `search` call, measured
  in this process (a pooled connection, so it includes the round trips but no HTTP).

  Goals (issue 13): recall@5 by document >= 0.95, out of scope declined >= 0.9, p95 <= 30 ms
  with 20,000 chunks. They are judged on the padded run.

Another corpus
  --corpus DIR reads DIR/documents/ and DIR/questions.jsonl (same formats as kb_data; see
  kb_data/README.md); --questions FILE asks another file of questions over the same documents.

Through the command line (--via-cli)
  Before the in-process runs, a second fresh database and data dir get the documents through
  `wagate kb add FILE` and every question through `wagate kb search QUESTION --json`, each its
  own process: the path an operator, and the external evaluation, takes. Its figures (recall,
  declines; no latency: each call starts Python) are printed as the "command line" run, and
  every question where it differs from the in-process "corpus" run is listed — none should.

Exit status: 0; with --check, 2 when a goal is missed (or the command line differs). --errors
lists every miss (question, labelled document and section, what came first).

    .venv/bin/python benchmarks/kb_eval.py [--database-url URL] [--chunks 20000] [--rounds 3]
        [--json out.json] [--errors] [--check] [--corpus DIR] [--questions FILE]
        [--via-cli [--cli-jobs 2]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database
from _kb_cli import ask_each, command_line
from _kb_padding import document as padding_document
from wagate.domain.knowledge import Passage
from wagate.storage.database import Database
from wagate.storage.knowledge import KnowledgeBase
from wagate.storage.migrate import upgrade
from wagate.storage.roles import ensure_app_role

DATA = Path(__file__).resolve().parent / "kb_data"
TENANT = "eval"
LIMIT = 5
GOALS = {"recall@5 by document": 0.95, "out of scope declined": 0.90, "p95 ms": 30.0}
PADDING_SECTIONS = 200  # sections per synthetic document


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    document: str | None  # None: out of scope
    section: str | None
    style: str


@dataclass(slots=True)
class Outcome:
    question: Question
    document_rank: int | None  # 1-based; None when not in the results
    section_rank: int | None
    declined: bool
    first: str  # what came first, for --errors


@dataclass(slots=True)
class Scores:
    """Recall@1, recall@5 and MRR over a set of answerable outcomes."""

    n: int = 0
    at1: int = 0
    at5: int = 0
    reciprocal: float = 0.0

    def add(self, rank: int | None) -> None:
        self.n += 1
        if rank is not None:
            self.at1 += rank == 1
            self.at5 += rank <= LIMIT
            self.reciprocal += 1 / rank

    def as_json(self) -> dict[str, float | int]:
        n = self.n or 1
        return {
            "n": self.n,
            "recall@1": round(self.at1 / n, 4),
            "recall@5": round(self.at5 / n, 4),
            "mrr": round(self.reciprocal / n, 4),
        }


@dataclass(slots=True)
class Run:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.document is not None]

    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.document is None]

    def summary(self) -> dict[str, Any]:
        by_document, by_section = Scores(), Scores()
        per_document: dict[str, list[Scores]] = defaultdict(lambda: [Scores(), Scores()])
        per_style: dict[str, Scores] = defaultdict(Scores)
        for o in self.answerable():
            assert o.question.document is not None
            by_document.add(o.document_rank)
            by_section.add(o.section_rank)
            per_document[o.question.document][0].add(o.document_rank)
            per_document[o.question.document][1].add(o.section_rank)
            per_style[o.question.style].add(o.document_rank)
        declined = [o.declined for o in self.out_of_scope()]
        return {
            "by document": by_document.as_json(),
            "by section": by_section.as_json(),
            "out of scope declined": round(sum(declined) / max(len(declined), 1), 4),
            "out of scope questions": len(declined),
            "answerable wrongly declined": sum(o.declined for o in self.answerable()),
            "per document": {
                name: {"document": d.as_json(), "section": s.as_json()}
                for name, (d, s) in sorted(per_document.items())
            },
            "per style (by document)": {k: v.as_json() for k, v in sorted(per_style.items())},
        }


def load_questions(path: Path, documents: Path) -> list[Question]:
    if not path.is_file():
        raise SystemExit(f"no questions file {path}")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        out = bool(row.get("out_of_scope"))
        if not out and not (documents / str(row.get("document"))).is_file():
            raise SystemExit(f"{path.name}:{number}: no document {row.get('document')!r}")
        questions.append(
            Question(
                id=row["id"],
                text=row["question"],
                document=None if out else row["document"],
                section=None if out else row["section"],
                style=row.get("style", ""),
            )
        )
    return questions


def words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", text.casefold())


def section_matches(label: str, section_path: str) -> bool:
    """The label's words appear, in order and adjacent, in the passage's section path:
    "Pasal 3" matches "BAB II … › Pasal 3 Uang Pesangon" but not "Pasal 30"."""
    needle, hay = words(label), words(section_path)
    return any(hay[i : i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def judge(question: Question, passages: Sequence[Passage]) -> Outcome:
    document_rank = section_rank = None
    for rank, passage in enumerate(passages, start=1):
        if Path(passage.source).name != question.document:
            continue
        document_rank = document_rank or rank
        if question.section and section_matches(question.section, passage.section):
            section_rank = rank
            break
    first = f"{passages[0].source} › {passages[0].section}" if passages else "(declined)"
    return Outcome(question, document_rank, section_rank, declined=not passages, first=first)


async def ask_all(kb: KnowledgeBase, questions: list[Question], name: str) -> Run:
    run = Run(name)
    for question in questions:
        run.outcomes.append(judge(question, await kb.search(question.text, limit=LIMIT)))
    return run


async def timed(
    kb: KnowledgeBase, questions: list[Question], rounds: int
) -> list[tuple[Question, float]]:
    """(question, milliseconds) for every search, `rounds` passes over the questions."""
    samples = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            await kb.search(question.text, limit=LIMIT)
            samples.append((question, (time.perf_counter() - start) * 1000))
    return samples


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def corpus_files(documents: Path) -> list[Path]:
    return sorted(p for p in documents.iterdir() if p.is_file() and not p.name.startswith("."))


async def load_corpus(kb: KnowledgeBase, documents: Path) -> list[dict[str, object]]:
    reports = []
    for path in corpus_files(documents):
        report = await kb.add_file(path)
        reports.append(report.as_json())
        print(
            f"  {path.name:<42} {report.status:<9} {report.chunks:>4} chunks"
            + (f"  ERROR {report.error}" if report.error else "")
        )
    return reports


async def pad(kb: KnowledgeBase, target: int) -> tuple[int, float]:
    """Synthetic documents until the knowledge base holds `target` chunks; (chunks, seconds)."""
    start = time.perf_counter()
    chunks = int((await kb.stats())["chunks"])
    index = 0
    while chunks < target:
        index += 1
        name, data = padding_document(index, PADDING_SECTIONS)
        report = await kb.add_bytes(name, data, title=f"Informasi Layanan Publik {index}")
        if report.error:
            raise SystemExit(f"padding document {name} failed: {report.error}")
        before, chunks = chunks, int((await kb.stats())["chunks"])
        if chunks // 5000 > before // 5000 or chunks >= target:
            print(f"  padding: {chunks:,} chunks")
    return chunks, time.perf_counter() - start


def prepare(owner_url: str) -> str:
    """Migrate, make the app role and the tenant; the URL the knowledge base connects with."""
    upgrade(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, created_at, updated_at) "
            "VALUES (%s, 'Evaluation', now(), now()) ON CONFLICT DO NOTHING",
            (TENANT,),
        )
    return ensure_app_role(owner_url)


def print_run(run: Run) -> None:
    s = run.summary()
    print(f"\n== {run.name} ==")
    print(
        f"{'':<40} {'n':>4} {'R@1':>6} {'R@5':>6} {'MRR':>6}   {'section R@1':>11} "
        f"{'R@5':>6} {'MRR':>6}"
    )
    rows = [("ALL", s["by document"], s["by section"])] + [
        (name, v["document"], v["section"]) for name, v in s["per document"].items()
    ]
    for name, d, sec in rows:
        print(
            f"{name:<40} {d['n']:>4} {d['recall@1']:>6.3f} {d['recall@5']:>6.3f} "
            f"{d['mrr']:>6.3f}   {sec['recall@1']:>11.3f} {sec['recall@5']:>6.3f} "
            f"{sec['mrr']:>6.3f}"
        )
    print(
        "by style (document R@5): "
        + ", ".join(
            f"{k} {v['recall@5']:.3f} (n={v['n']})" for k, v in s["per style (by document)"].items()
        )
    )
    print(
        f"out of scope declined: {s['out of scope declined']:.3f} "
        f"of {s['out of scope questions']}; answerable wrongly declined: "
        f"{s['answerable wrongly declined']}"
    )


def is_miss(o: Outcome) -> bool:
    """An out-of-scope question answered, or an answerable one not first by section."""
    if o.question.document is None:
        return not o.declined
    return o.section_rank != 1


def print_errors(run: Run) -> None:
    print(f"\n-- misses ({run.name}) --")
    for o in filter(is_miss, run.outcomes):
        q = o.question
        if q.document is None:
            print(f"{q.id} OUT-OF-SCOPE ANSWERED  {q.text!r}  first: {o.first}")
        else:
            print(
                f"{q.id} doc@{o.document_rank} sec@{o.section_rank}  {q.text!r}\n"
                f"      want {q.document} › {q.section}\n      got  {o.first}"
            )


def via_cli(server_url: str, documents: Path, questions: list[Question], jobs: int) -> Run:
    """The "command line" run (module docstring): `wagate kb add` and `wagate kb search
    --json` as subprocesses, on a database of their own."""
    run = Run("command line (wagate kb add / kb search --json), corpus only")
    with fresh_database(server_url, "_cli") as url, command_line(url) as cli:
        print(f"command line: wagate kb add … ({documents})")
        for path in corpus_files(documents):
            report = cli.add(path)
            print(f"  {path.name:<42} {report['status']!s:<9} {report['chunks']!s:>4} chunks")
        started = time.perf_counter()
        texts = [q.text for q in questions]
        for question, passages in zip(questions, ask_each(cli, texts, LIMIT, jobs), strict=True):
            run.outcomes.append(judge(question, passages))
        print(f"  {len(questions)} searches in {time.perf_counter() - started:.0f} s")
    return run


def differences(one: Run, other: Run) -> list[str]:
    """The questions the two runs judged differently (rank by document and section, declined)."""
    lines = []
    for a, b in zip(one.outcomes, other.outcomes, strict=True):
        seen = (a.document_rank, a.section_rank, a.declined)
        theirs = (b.document_rank, b.section_rank, b.declined)
        if seen != theirs:
            lines.append(f"{a.question.id} (document, section rank; declined) {seen} vs {theirs}")
    return lines


async def evaluate(
    app_url: str, args: argparse.Namespace, questions: list[Question]
) -> dict[str, Any]:
    database = Database(app_url, pool_size=4)
    await database.open()
    try:
        kb = KnowledgeBase(database, TENANT)
        print(f"loading {args.documents}")
        started = time.perf_counter()
        reports = await load_corpus(kb, args.documents)
        load_seconds = time.perf_counter() - started
        failed = [r for r in reports if r["error"]]
        corpus = await ask_all(kb, questions, "corpus only")
        print_run(corpus)
        chunks, pad_seconds = await pad(kb, args.chunks)
        padded = await ask_all(kb, questions, f"padded to {chunks:,} chunks")
        print_run(padded)
        if args.errors:
            print_errors(corpus)
            print_errors(padded)
        await timed(kb, questions[:20], 1)  # warm the pool and the server's caches
        timings = await timed(kb, questions, args.rounds)
    finally:
        await database.close()
    samples = [ms for _, ms in timings]
    by_style: dict[str, list[float]] = defaultdict(list)
    for question, ms in timings:
        by_style[question.style].append(ms)
    latency: dict[str, Any] = {
        "samples": len(samples),
        "p50 ms": round(percentile(samples, 0.50), 2),
        "p95 ms": round(percentile(samples, 0.95), 2),
        "p99 ms": round(percentile(samples, 0.99), 2),
        "max ms": round(max(samples), 2),
        "mean ms": round(statistics.fmean(samples), 2),
        "p95 ms by style": {k: round(percentile(v, 0.95), 2) for k, v in sorted(by_style.items())},
    }
    print(
        f"\nlatency with {chunks:,} chunks, {latency['samples']} searches: "
        f"p50 {latency['p50 ms']} ms, p95 {latency['p95 ms']} ms, "
        f"p99 {latency['p99 ms']} ms, max {latency['max ms']} ms"
    )
    print(
        "p95 by style: " + ", ".join(f"{k} {v} ms" for k, v in latency["p95 ms by style"].items())
    )
    judged = padded.summary()
    verdicts = {
        "recall@5 by document": judged["by document"]["recall@5"] >= GOALS["recall@5 by document"],
        "out of scope declined": judged["out of scope declined"] >= GOALS["out of scope declined"],
        "p95 ms": latency["p95 ms"] <= GOALS["p95 ms"],
        "every document loaded": not failed,
    }
    print("goals: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in verdicts.items()))
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "corpus": str(args.documents.parent),
        "questions": str(args.questions),
        "documents": reports,
        "load seconds": round(load_seconds, 2),
        "padding": {"chunks": chunks, "seconds": round(pad_seconds, 1)},
        "corpus only": corpus.summary(),
        "_corpus_run": corpus,
        "padded": judged,
        "latency": latency,
        "goals": GOALS,
        "verdicts": verdicts,
        "misses": [
            {
                "id": o.question.id,
                "question": o.question.text,
                "document": o.question.document,
                "section": o.question.section,
                "document rank": o.document_rank,
                "section rank": o.section_rank,
                "first": o.first,
            }
            for o in padded.outcomes
            if is_miss(o)
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--chunks", type=int, default=20_000, help="chunks loaded for latency")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--corpus", type=Path, default=DATA, help="a folder with documents/ and questions.jsonl"
    )
    parser.add_argument(
        "--questions", type=Path, help="questions file (JSON lines; default CORPUS/questions.jsonl)"
    )
    parser.add_argument(
        "--via-cli", action="store_true", help="also ingest and ask through `wagate kb` commands"
    )
    parser.add_argument("--cli-jobs", type=int, default=2, help="`wagate kb search` at a time")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--check", action="store_true", help="exit 2 when a goal is missed")
    args = parser.parse_args()
    args.documents = args.corpus / "documents"
    if not args.documents.is_dir():
        raise SystemExit(f"no documents folder {args.documents}")
    args.questions = args.questions or args.corpus / "questions.jsonl"
    questions = load_questions(args.questions, args.documents)
    # The knowledge base logs every stored document: thousands of lines while padding.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    cli_run = None
    if args.via_cli:
        cli_run = via_cli(args.database_url, args.documents, questions, args.cli_jobs)
        print_run(cli_run)
        if args.errors:
            print_errors(cli_run)
    with fresh_database(args.database_url) as owner_url:
        result = asyncio.run(evaluate(prepare(owner_url), args, questions))
    corpus_run: Run = result.pop("_corpus_run")
    if cli_run is not None:
        differ = differences(cli_run, corpus_run)
        result["command line"] = cli_run.summary() | {"differs from corpus run": differ}
        result["verdicts"]["command line = in process"] = not differ
        print(
            f"\ncommand line vs in process (corpus only): {len(differ)} of "
            f"{len(questions)} questions judged differently"
        )
        for line in differ:
            print("  " + line)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 2 if args.check and not all(result["verdicts"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
