"""The knowledge-core helper's own tuning set (NOT the held-out evaluation): five small
documents and ~50 questions as clients type them, in this folder.

    python benchmarks/kb_dev/run.py [--synthetic 20000] [--database URL]

Prints recall@1, recall@5 and MRR by document, the share of out-of-scope questions declined,
and search latency p50/p95 (with the synthetic chunks loaded, when asked).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

from wagate.storage import migrate
from wagate.storage.database import Database
from wagate.storage.knowledge import KnowledgeBase
from wagate.storage.knowledge_load import load_synthetic

HERE = Path(__file__).parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TENANT = "dev"


def questions() -> list[tuple[str, str | None]]:
    rows = []
    for line in (HERE / "questions.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        question, expected = line.split("\t")
        rows.append((question, None if expected == "-" else expected))
    return rows


async def evaluate(url: str, synthetic: int, show: bool) -> None:
    database = Database(url)
    await database.open()
    try:
        knowledge = KnowledgeBase(database, TENANT)
        report = await knowledge.refresh_folder(HERE / "docs")
        failed = [d for d in report.documents if not d.ok]
        assert not failed, failed
        if synthetic:
            started = time.perf_counter()
            added = await load_synthetic(knowledge, chunks=synthetic)
            print(f"loaded {added} synthetic chunks in {time.perf_counter() - started:.1f} s")
        stats = await knowledge.stats()
        print(f"knowledge base: {stats}")
        hits1 = hits5 = rr = 0.0
        answerable = declined = out_of_scope = 0
        latencies: list[float] = []
        slowest: list[tuple[float, str]] = []
        for question, expected in questions():
            started = time.perf_counter()
            found = await knowledge.search(question, limit=5)
            latencies.append((time.perf_counter() - started) * 1000)
            slowest.append((latencies[-1], question))
            sources = [p.source for p in found]
            if expected is None:
                out_of_scope += 1
                declined += not found
                if show and found:
                    print(f"  NOT DECLINED {question!r}: {sources[:2]}")
                continue
            answerable += 1
            if expected in sources:
                rank = sources.index(expected) + 1
                hits1 += rank == 1
                hits5 += 1
                rr += 1 / rank
            elif show:
                print(f"  MISSED {question!r}: {sources[:3]}")
        for _ in range(3):  # more samples for the latency percentiles
            for question, _expected in questions():
                started = time.perf_counter()
                await knowledge.search(question, limit=5)
                latencies.append((time.perf_counter() - started) * 1000)
        quantiles = statistics.quantiles(latencies, n=100)
        if show:
            for ms, question in sorted(slowest, reverse=True)[:5]:
                print(f"  slow: {ms:.1f} ms {question!r}")
        print(
            f"recall@1 {hits1 / answerable:.3f}  recall@5 {hits5 / answerable:.3f}  "
            f"MRR {rr / answerable:.3f}  (by document, {answerable} questions)"
        )
        print(f"out of scope declined {declined}/{out_of_scope} = {declined / out_of_scope:.3f}")
        print(
            f"latency p50 {quantiles[49]:.1f} ms  p95 {quantiles[94]:.1f} ms "
            f"({len(latencies)} searches)"
        )
    finally:
        await database.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=0)
    parser.add_argument("--show", action="store_true", help="print misses")
    args = parser.parse_args()
    name = f"wagate_kbdev_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(url)
        asyncio.run(evaluate(url, args.synthetic, args.show))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
