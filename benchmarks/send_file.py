"""Files an operator sends by upload (issue 16 item 3): the gateway's peak memory while 100 MB
documents pass through `POST /api/whatsapp/send-file` and the worker's upload to the Graph
API, and the time from the API call to the document message reaching the Graph API.

    python benchmarks/send_file.py                        # 20 PDFs, 1 of them 100 MB
    python benchmarks/send_file.py --files 10 --large 2 --json benchmarks/results/send_file.json

It starts the fake Graph API (`wagate fake meta`) and `wagate serve` with its worker in one
process (fresh data dir, a fresh database on --database-url, files under the data dir), opens
one contact's 24-hour window with a signed webhook, writes the PDFs to a temporary folder
(100 KB–5 MB, and `--large` of 100 MB) and posts them one after another as multipart uploads.
Memory is the gateway process's RSS, sampled every 50 ms: idle (after start) and peak. Each
file must reach the fake exactly once as an upload and once as a document message naming the
upload's id. The machine is shared: the load average and the CPU used by processes other than
the gateway, the fake and this script are printed (`others`, in cores).

Exit status 0 when every file went exactly once; 2 with `--check` when the peak RSS is more
than 100 MB over idle.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._gateway import (
    API_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    GatewayProcess,
    fresh_database,
)
from benchmarks.media import RssSampler, _fake_meta, _percentile

from wagate.providers.meta.signature import sign

MB = 1024 * 1024
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def _write_pdfs(folder: Path, files: int, large: int, rng: random.Random) -> list[Path]:
    """The PDFs, written in 1 MiB pieces (the script itself never holds a large one)."""
    sizes = [100 * MB] * large + [rng.randrange(100_000, 5 * MB) for _ in range(files - large)]
    paths = []
    for n, size in enumerate(sizes):
        path = folder / f"berkas-{n:03d}.pdf"
        with path.open("wb") as out:
            out.write(PDF_HEAD)
            written = len(PDF_HEAD)
            block = (f"% wagate bench file {n} ".encode() * 40_000)[:MB]
            while written < size:
                piece = block[: min(MB, size - written)]
                out.write(piece)
                written += len(piece)
        paths.append(path)
    return paths


def _open_window(client: httpx.Client, gateway: str, sender: str) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "0",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": f"wamid.bench-{sender}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "halo"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    client.post(f"{gateway}/webhook/whatsapp", content=body, headers=headers).raise_for_status()


class CpuWatch:
    """Cores used by every process outside `ours` (pids and their children) over a window."""

    def __init__(self, ours: set[int]) -> None:
        self.ours = ours
        self.start = time.monotonic()
        self.machine = psutil.cpu_times()
        self.mine = self._ours_seconds()

    def _ours_seconds(self) -> float:
        total = 0.0
        for pid in self.ours:
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    times = process.cpu_times()
                    total += times.user + times.system
            except psutil.Error:
                continue
        return total

    def others(self) -> float:
        elapsed = time.monotonic() - self.start
        now = psutil.cpu_times()
        busy = (now.user + now.system) - (self.machine.user + self.machine.system)
        return max(0.0, (busy - (self._ours_seconds() - self.mine)) / max(elapsed, 0.001))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--large", type=int, default=1, help="100 MB documents among them")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    fake, fake_url = _fake_meta()
    try:
        with fresh_database(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
            paths = _write_pdfs(Path(folder), args.files, args.large, rng)
            extra = {
                "META_GRAPH_URL": f"{fake_url}/v22.0",
                "DEBOUNCE_SECONDS": "0",
                "JOB_POLL_SECONDS": "0.1",
            }
            with GatewayProcess(database_url=url, worker=True, extra_env=extra) as gateway:
                return _run(args, gateway, fake_url, paths, ours={fake.pid, os.getpid()})
    finally:
        fake.terminate()


def _run(
    args: argparse.Namespace,
    gateway: GatewayProcess,
    fake: str,
    paths: list[Path],
    ours: set[int],
) -> int:
    sender = "62813" + "".join(random.choices("0123456789", k=8))
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(timeout=600) as client:
        _open_window(client, gateway.url, sender)
        time.sleep(2)
        idle = psutil.Process(gateway.pid).memory_info().rss
        sampler = RssSampler(gateway.pid)
        sampler.start()
        cpu = CpuWatch(ours | {gateway.pid})
        load_before = os.getloadavg()[0]
        posted: list[float] = []
        started = time.time()
        for path in paths:
            with path.open("rb") as handle:
                posted.append(time.time())
                answer = client.post(
                    f"{gateway.url}/api/whatsapp/send-file",
                    data={"target": sender},
                    files={"file": (path.name, handle, "application/pdf")},
                    headers=headers,
                )
            answer.raise_for_status()
        documents = _wait_documents(client, fake, sender, len(paths), args.timeout)
        others = cpu.others()
        uploads = client.get(f"{fake}/_fake/requests", params={"kind": "upload"}).json()
    sampler.stopped.set()
    sampler.join()
    finished = max((d["at"] for d in documents), default=time.time())
    latencies = [d["at"] - at for d, at in zip(documents, posted, strict=False)]
    accepted = [u for u in uploads if u.get("outcome") == "accepted"]
    once = len(documents) == len(paths) == len(accepted) and {
        d["body"]["document"]["id"] for d in documents
    } == {u["media_id"] for u in accepted}
    total = sum(p.stat().st_size for p in paths)
    result: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(),
        "files": len(paths),
        "large_documents": args.large,
        "megabytes": round(total / MB, 1),
        "documents_sent": len(documents),
        "uploads_accepted": len(accepted),
        "exactly_once": once,
        "seconds": round(finished - started, 2),
        "api_to_message_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "api_to_message_p99_s": round(_percentile(latencies, 0.99), 3) if latencies else None,
        "rss_idle_mb": round(idle / MB, 1),
        "rss_peak_mb": round(sampler.peak / MB, 1),
        "rss_growth_mb": round((sampler.peak - idle) / MB, 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "others_cores": round(others, 2),
        "cpus": psutil.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if not once:
        return 1
    if args.check and sampler.peak - idle > 100 * MB:
        return 2
    return 0


def _wait_documents(
    client: httpx.Client, fake: str, sender: str, count: int, timeout: float
) -> list[dict[str, Any]]:
    """The document messages the fake received for `sender`, in order, once there are
    `count` (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        sends = client.get(f"{fake}/_fake/requests", params={"kind": "send"}).json()
        found = [
            s
            for s in sends
            if s["body"].get("to") == sender and s["body"].get("type") == "document"
        ]
        if len(found) >= count:
            break
        time.sleep(0.2)
    return found


if __name__ == "__main__":
    sys.exit(main())
