"""Is one version of the knowledge base's `search` slower than another? Timed question by
question in one process, over one database, so the machine's load falls on both alike.

kb_eval.py's latency is one pass per version, minutes apart; on a shared machine the load of
other processes moves its p95 by more than a code change does. Here the search of an older
commit (`--old`, its src/wagate/storage/knowledge.py read with `git show` and imported as a
second module; the rest of the package is this tree's) and this tree's search answer the same
question one after the other, in alternating order, against the same padded corpus. Printed:
p50 / p95 / p99 of each, and the median of the per-question differences (new − old), which
the load cancels out of.

    .venv/bin/python benchmarks/kb_search_pairs.py --corpus benchmarks/kb_holdout6 \
        --old a0cf09d [--chunks 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database
from kb_eval import LIMIT, TENANT, corpus_files, load_questions, pad, percentile, prepare
from wagate.storage import knowledge as new_knowledge
from wagate.storage.database import Database

HERE = Path(__file__).resolve().parent


def old_module(commit: str) -> ModuleType:
    """The older commit's storage/knowledge.py, imported beside this tree's."""
    source = subprocess.run(
        ["git", "show", f"{commit}:src/wagate/storage/knowledge.py"],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    handle, name = tempfile.mkstemp(suffix=".py", prefix="old_knowledge_")
    with os.fdopen(handle, "w") as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location("old_knowledge", name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_knowledge"] = module  # dataclasses look their module up while defined
    spec.loader.exec_module(module)
    os.unlink(name)
    return module


async def run(url: str, args: argparse.Namespace, old: ModuleType) -> dict[str, list[float]]:
    documents = args.corpus / "documents"
    questions = load_questions(args.corpus / "questions.jsonl", documents)
    database = Database(url, pool_size=4)
    await database.open()
    try:
        new_kb = new_knowledge.KnowledgeBase(database, TENANT)
        old_kb = old.KnowledgeBase(database, TENANT)
        for path in corpus_files(documents):
            await new_kb.add_file(path)
        await pad(new_kb, args.chunks)
        for q in questions[:20]:  # warm the pool and the server's caches
            await new_kb.search(q.text, limit=LIMIT)
            await old_kb.search(q.text, limit=LIMIT)
        times: dict[str, list[float]] = {"old": [], "new": []}
        for round_ in range(args.rounds):
            for index, q in enumerate(questions):
                order = [("old", old_kb), ("new", new_kb)]
                if (index + round_) % 2:
                    order.reverse()
                for name, kb in order:
                    start = time.perf_counter()
                    await kb.search(q.text, limit=LIMIT)
                    times[name].append((time.perf_counter() - start) * 1000)
        return times
    finally:
        await database.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--corpus", type=Path, default=HERE / "kb_holdout6")
    parser.add_argument("--old", default="HEAD", help="the commit whose search is compared")
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    old = old_module(args.old)
    with fresh_database(args.database_url, "_kb_pairs") as owner_url:
        times = asyncio.run(run(prepare(owner_url), args, old))
    print(f"load average {os.getloadavg()[0]:.1f}; {len(times['new'])} pairs")
    for name in ("old", "new"):
        t = times[name]
        print(
            f"{name} ({args.old if name == 'old' else 'this tree'}): p50 {percentile(t, 0.5):.2f}"
            f" ms, p95 {percentile(t, 0.95):.2f} ms, p99 {percentile(t, 0.99):.2f} ms"
        )
    differences = [n - o for n, o in zip(times["new"], times["old"], strict=True)]
    print(
        f"new − old per question: median {statistics.median(differences):+.2f} ms, "
        f"mean {statistics.fmean(differences):+.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
