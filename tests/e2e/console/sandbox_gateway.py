"""A gateway in sandbox mode for the console's browser tests: `wagate serve` with no provider
credentials at all, its own data dir, knowledge folder and database — what a newcomer runs.
Its start banner gives the console URL and the first admin's credentials on stdout;
`SandboxGateway` reads them from there, as a person would."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.harness import Process, base_env, free_port, fresh_database, wait_until

# The start banner's console line: "  Console    <url> — sign in as <user> / <password> (…)".
FIRST_MINUTE = re.compile(r"^  Console +(\S+) — sign in as (\S+) / (\S+) ", re.M)


@dataclass(frozen=True)
class SandboxGateway:
    url: str
    console_url: str
    user: str
    password: str
    data_dir: Path
    process: Process

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")


@contextmanager
def sandbox_gateway(workdir: Path, name: str = "sandbox-console") -> Iterator[SandboxGateway]:
    port = free_port()
    data_dir = workdir / f"{name}-{port}"
    with fresh_database() as database_url:
        env = base_env(
            DATABASE_URL=database_url,
            WAGATE_DATA_DIR=str(data_dir),
            KB_DIR=str(data_dir / "kb"),
            DEBOUNCE_SECONDS="0",
            JOB_POLL_SECONDS="0.2",
        )
        env.pop("AI_BASE_URL", None)  # the offline assistant answers from the sample KB
        process = Process(
            [sys.executable, "-m", "wagate", "serve", "--port", str(port)],
            env,
            workdir / f"{name}-{port}.log",
        )
        url = f"http://127.0.0.1:{port}"
        try:

            def started() -> re.Match[str] | None:
                assert process.alive(), process.log_tail()
                try:
                    healthy = httpx.get(f"{url}/api/health", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return None
                log = process.log_path.read_text(errors="replace")
                # The worker has read the sample knowledge base: the first question has an answer.
                return FIRST_MINUTE.search(log) if healthy and "kb.loaded" in log else None

            line = wait_until(started, timeout=60, every=0.3)
            yield SandboxGateway(
                url=url,
                console_url=line.group(1),
                user=line.group(2),
                password=line.group(3),
                data_dir=data_dir,
                process=process,
            )
        finally:
            process.stop()
