"""Inbound files through the gateway (issue 16, Measure): files stored per second, the
gateway's peak memory while 100 MB documents pass, and the time from the webhook to the file
being safely stored (p50/p99).

    python benchmarks/media.py                                 # 200 files, 2 of them 100 MB
    python benchmarks/media.py --files 50 --large 1 --json benchmarks/results/media.json

It starts the fake Graph API (`wagate fake meta`) and `wagate serve` with its worker in one
process (fresh data dir, a fresh database `wagate_bench_<pid>` on --database-url, files under
the data dir), registers the files with the fake (photos of 50 KB–4 MB, PDFs of 100 KB–20 MB,
and `--large` documents of 100 MB, their bytes generated as they are sent), posts one signed
webhook per file, and reads each file's `settled_at` from the database. Memory is the gateway
process's RSS, sampled every 50 ms: idle (after start, before the first webhook) and peak.
CPU is in cores busy from the first webhook to the last file settled: the gateway, the fake,
PostgreSQL, and `others` — every other process on the machine (well above 0: it was shared,
and the figures are low by about that much).

Exit status 0 when every file was stored; 2 with `--check` when the peak RSS is more than
100 MB over idle.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import psycopg
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._gateway import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    GatewayProcess,
    free_port,
    fresh_database,
    postmaster_pid,
)
from benchmarks._load import CpuMeter

from wagate.providers.meta.signature import sign

MB = 1024 * 1024
JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def _fake_meta() -> tuple[Any, str]:
    import subprocess

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wagate", "fake", "meta", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/_fake/requests", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the fake Graph API did not start")


def _plan(files: int, large: int, rng: random.Random) -> list[tuple[str, int]]:
    """(kind, size) for each file: `large` 100 MB documents, the rest half photos, half PDFs."""
    plan = [("document", 100 * MB - 1024)] * large
    for i in range(files - large):
        if i % 2:
            plan.append(("image", rng.randint(50 * 1024, 4 * MB)))
        else:
            plan.append(("document", rng.randint(100 * 1024, 20 * MB)))
    rng.shuffle(plan)
    return plan


def _webhook(sender: str, kind: str, media_id: str, n: int) -> bytes:
    body = {"id": media_id, "mime_type": "image/jpeg" if kind == "image" else "application/pdf"}
    if kind == "document":
        body["filename"] = f"berkas-{n}.pdf"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "1",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "B"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": f"wamid.BENCH{n:06d}{time.time_ns()}",
                                    "timestamp": str(int(time.time())),
                                    "type": kind,
                                    kind: body,
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return orjson.dumps(payload)


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--large", type=int, default=2, help="100 MB documents among them")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--check", action="store_true")
    parser.add_argument(
        "--text-max-bytes",
        type=int,
        default=None,
        help="MEDIA_TEXT_MAX_BYTES for the gateway (0: read no document's text)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    fake, fake_url = _fake_meta()
    try:
        with fresh_database(args.database_url) as url:
            extra = {
                "META_GRAPH_URL": f"{fake_url}/v22.0",
                "DEBOUNCE_SECONDS": "0",
                "JOB_POLL_SECONDS": "0.1",
                "MEDIA_MAX_IMAGE_BYTES": str(5 * MB),
            }
            if args.text_max_bytes is not None:
                extra["MEDIA_TEXT_MAX_BYTES"] = str(args.text_max_bytes)
            with GatewayProcess(database_url=url, worker=True, extra_env=extra) as gateway:
                watch = {"gateway": gateway.pid, "fake": fake.pid}
                server = postmaster_pid(url)
                if server is not None:
                    watch["postgres"] = server
                return _run(args, rng, gateway, url, fake_url, CpuMeter(watch))
    finally:
        fake.terminate()


def _run(
    args: argparse.Namespace,
    rng: random.Random,
    gateway: GatewayProcess,
    url: str,
    fake: str,
    meter: CpuMeter,
) -> int:
    plan = _plan(args.files, args.large, rng)
    media_ids = []
    with httpx.Client(timeout=30) as client:
        for kind, size in plan:
            head = JPEG_HEAD if kind == "image" else PDF_HEAD
            answer = client.post(
                f"{fake}/_fake/media",
                json={
                    "head_b64": base64.b64encode(head).decode(),
                    "size": size,
                    "fill": "wagate-bench-",
                    "mime_type": "image/jpeg" if kind == "image" else "application/pdf",
                },
            )
            media_ids.append(answer.json()["id"])
        time.sleep(2)
        idle = psutil.Process(gateway.pid).memory_info().rss
        sampler = RssSampler(gateway.pid)
        sampler.start()
        meter.start()
        posted: dict[str, float] = {}
        senders = [f"62813{rng.randrange(10**7):07d}" for _ in range(args.senders)]
        started = time.time()
        for n, ((kind, _), media_id) in enumerate(zip(plan, media_ids, strict=True)):
            body = _webhook(senders[n % len(senders)], kind, media_id, n)
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(body, APP_SECRET),
            }
            response = client.post(f"{gateway.url}/webhook/whatsapp", content=body, headers=headers)
            response.raise_for_status()
            posted[media_id] = time.time()
    settled = _wait_settled(url, len(plan), args.timeout)
    meter.stop()
    sampler.stopped.set()
    sampler.join()
    for row, media_id in zip(settled, media_ids, strict=False):
        row["media_id"] = media_id
    stored = [row for row in settled if row["status"] == "stored"]
    latencies = [row["settled_at"].timestamp() - posted[row["media_id"]] for row in stored]
    finished = max(row["settled_at"].timestamp() for row in settled) if settled else time.time()
    total_bytes = sum(size for _, size in plan)
    result = {
        "at": datetime.now(UTC).isoformat(),
        "files": len(plan),
        "stored": len(stored),
        "not_stored": {row["media_id"]: row["problem"] for row in settled if row not in stored},
        "large_documents": args.large,
        "megabytes": round(total_bytes / MB, 1),
        "seconds": round(finished - started, 2),
        "files_per_second": round(len(stored) / max(0.001, finished - started), 2),
        "megabytes_per_second": round(total_bytes / MB / max(0.001, finished - started), 1),
        "webhook_to_stored_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "webhook_to_stored_p99_s": round(_percentile(latencies, 0.99), 3) if latencies else None,
        "rss_idle_mb": round(idle / MB, 1),
        "rss_peak_mb": round(sampler.peak / MB, 1),
        "rss_growth_mb": round((sampler.peak - idle) / MB, 1),
        "cpus": psutil.cpu_count(),
        "cpu_cores": {name: round(cores, 2) for name, cores in meter.cores.items()},
        "commit": _commit(),
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if len(stored) != len(plan):
        return 1
    if args.check and sampler.peak - idle > 100 * MB:
        return 2
    return 0


def _commit() -> str | None:
    import subprocess

    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent,
    )
    return done.stdout.strip() or None


def _wait_settled(url: str, count: int, timeout: float) -> list[dict[str, Any]]:
    """Every media row, in the order the webhooks were posted (one file per webhook, posted
    one after another: the rows' ids follow), once none is pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status <> 'pending'), count(*) FROM media"
            ).fetchone()
        assert row is not None
        if row[1] == count and row[0] == count:
            break
        time.sleep(0.5)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return list(conn.execute("SELECT id, status, problem, settled_at FROM media ORDER BY id"))


if __name__ == "__main__":
    sys.exit(main())
