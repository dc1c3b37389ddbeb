"""Several web and worker processes on one database: conversations stay in order and are never
processed by two workers at once."""

from __future__ import annotations

import itertools
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    Process,
    fresh_database,
    tag,
    wait_until,
)
from wagate.fakes.payloads import meta_text

AI_DELAY = 0.6


def test_two_workers_never_interleave_one_conversation(workdir: Path, fake_meta: FakePeer) -> None:
    slow_ai = FakePeer("openai", workdir)
    httpx.post(
        f"{slow_ai.url}/_fake/fail", json={"delay_seconds": AI_DELAY, "times": 10_000}
    ).raise_for_status()
    senders = [f"62814{index:08d}" for index in range(6)]
    with fresh_database() as url:
        web = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{slow_ai.url}/v1",
            worker=False,
            WORKER_CONCURRENCY="4",
            RATE_LIMIT_PER_MINUTE="100",
        ).start()
        second_web = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{slow_ai.url}/v1",
            worker=False,
            data_dir=web.data_dir,
        ).start()
        workers = [
            Process(
                [sys.executable, "-m", "wagate", "worker"],
                web.env,
                workdir / f"scale-worker-{i}-{web.port}.log",
            )
            for i in range(2)
        ]
        try:
            wait_until(lambda: all("worker.started" in w.log_tail() for w in workers), timeout=30)
            for round_number in range(4):
                for index, sender in enumerate(senders):
                    target = (web, second_web)[(round_number + index) % 2]
                    text = f"r{round_number} {tag(sender)}"
                    assert (
                        target.post_meta(
                            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
                        ).status_code
                        == 200
                    )
                time.sleep(AI_DELAY / 2)  # later rounds arrive while earlier ones are answered

            def all_asked() -> bool:
                asked = " ".join(
                    r["body"]["messages"][-1]["content"] for r in slow_ai.requests("chat")
                )
                return all(f"r3 {tag(s)}" in asked for s in senders)

            wait_until(all_asked, timeout=90, every=0.5)
            calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for request in slow_ai.requests("chat"):
                question = request["body"]["messages"][-1]["content"]
                calls[question.split()[-1]].append({"at": request["at"], "question": question})

            overlapping_conversations = 0
            for sender in senders:
                mine = sorted(calls[tag(sender)], key=lambda c: c["at"])
                assert len(mine) >= 2  # several jobs of this conversation really competed
                # never two AI calls of one conversation in flight at once
                starts = [c["at"] for c in mine]
                assert all(b - a >= AI_DELAY * 0.9 for a, b in itertools.pairwise(starts))
                # every message asked exactly once, in the order it was sent
                asked = [line.split()[0] for c in mine for line in c["question"].split("\n")]
                assert asked == ["r0", "r1", "r2", "r3"], (sender, asked)
            # …while different conversations did run in parallel
            all_starts = sorted(r["at"] for r in slow_ai.requests("chat"))
            overlapping_conversations = sum(
                1 for a, b in itertools.pairwise(all_starts) if b - a < AI_DELAY
            )
            assert overlapping_conversations > 0
        finally:
            for worker in workers:
                worker.stop()
            second_web.stop()
            web.stop()
            slow_ai.stop()
