"""The knowledge base through the command line, for `kb_eval.py --via-cli`: what an operator
(and the external evaluation) does — `wagate kb add FILE` for each document and `wagate kb
search QUESTION --json` for each question, every call its own process, against a fresh
database and a fresh data dir. Only what it returns is judged (recall and declines); each
call starts a Python process and opens the gateway, so its time says nothing about search.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _gateway import command_environment
from wagate.domain.knowledge import Passage

TIMEOUT_SECONDS = 120


@dataclass(frozen=True, slots=True)
class CommandLine:
    """`python -m wagate kb …` with the environment of one fresh gateway."""

    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wagate", "kb", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_SECONDS,
        )

    def add(self, path: Path) -> dict[str, object]:
        done = self.run("add", str(path))
        if done.returncode != 0:
            raise SystemExit(f"wagate kb add {path.name} failed ({done.returncode}): {done.stderr}")
        report: dict[str, object] = json.loads(done.stdout)
        return report

    def search(self, question: str, limit: int) -> list[Passage]:
        done = self.run("search", question, "--json", "--limit", str(limit))
        if done.returncode != 0:
            raise SystemExit(f"wagate kb search {question!r} failed: {done.stderr[-2000:]}")
        return [
            Passage(
                document_id=0,  # the JSON form names the source, which is what is judged
                source=str(row["source"]),
                title=str(row["title"]),
                section=str(row["section"]),
                text=str(row["text"]),
                score=float(row["score"]),
            )
            for row in json.loads(done.stdout)
        ]


@contextmanager
def command_line(database_url: str) -> Iterator[CommandLine]:
    """The command line of a gateway on `database_url` (fresh, to be migrated by the first
    command) with a throw-away data dir; no AI endpoint, no embeddings."""
    with tempfile.TemporaryDirectory(prefix="wagate-kb-cli-") as data_dir:
        env = command_environment(Path(data_dir), database_url)
        yield CommandLine(env)


def ask_each(
    cli: CommandLine, questions: list[str], limit: int, jobs: int
) -> Iterator[list[Passage]]:
    """The passages for each question, in order; `jobs` commands at a time."""
    search: Callable[[str], list[Passage]] = lambda q: cli.search(q, limit)  # noqa: E731
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        yield from pool.map(search, questions)
