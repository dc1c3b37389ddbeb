"""Outbound HTTP cost: CPU microseconds per request of the gateway's own clients (issue 18).

Per answered message the worker makes three outbound requests: the read receipt with the
typing indicator (one Graph API call), the AI chat call and the send. This benchmark runs
exactly those adapters — `MetaClient.mark_read(typing=True)`, `MetaClient.send_text`,
`OpenAICompatibleAssistant.reply` and `FonnteClient.send_text` — against the shipped fakes
(`python -m wagate fake meta|openai|fonnte`, real HTTP servers on loopback, each in its own
process) over keep-alive connections, at each concurrency level, on the event loop the
worker uses (uvloop unless --loop asyncio).

Per operation and level it prints the CPU this process spent per request (user + system,
`time.process_time`, everything the client does: building the request, the HTTP/1.1 exchange,
the event loop, parsing the answer), requests per second, and the cores used meanwhile by the
fakes and by every other process ("others": well above 0 means a shared machine disturbed
the run). The fakes run in other processes, so their CPU is not in the µs column.

    python benchmarks/http_clients.py [--requests 2000] [--levels 1,16]
                                      [--ops meta-read,meta-send,ai-chat,fonnte-send]
                                      [--history 10] [--loop uvloop|asyncio] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import free_port
from _load import CpuMeter
from wagate.assistants.openai_compatible import OpenAICompatibleAssistant
from wagate.domain.chat import ChatTurn, Role
from wagate.observability.logs import configure_logging
from wagate.providers.fonnte.client import FonnteClient
from wagate.providers.meta.client import MetaClient

PHONE_NUMBER_ID = "106540352242922"
OPERATIONS = ("meta-read", "meta-send", "ai-chat", "fonnte-send")
# A plausible answer's prompt: a system prompt of a few hundred words and recent history.
SYSTEM_PROMPT = (
    "Anda adalah asisten kantor hukum. Jawab singkat, sopan, dalam bahasa pengguna. " * 12
).strip()
REPLY = (
    "Terima kasih atas pertanyaan Anda. Untuk perkara warisan, kami perlu melihat akta dan "
    "daftar ahli waris. Apakah Anda bisa datang ke kantor minggu ini?"
)


@dataclass(frozen=True, slots=True)
class Figures:
    operation: str
    concurrency: int
    requests: int
    cpu_us_per_request: float
    requests_per_second: float
    fakes_cores: float
    others_cores: float


@contextlib.contextmanager
def fake(kind: str) -> Iterator[tuple[str, int]]:
    """`python -m wagate fake <kind>` on a free port: (its URL, its pid)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wagate", "fake", kind, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_fake/requests", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit(f"the fake {kind} did not start on {url}")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


def conversation(history: int) -> list[ChatTurn]:
    turns = [ChatTurn(role=Role.SYSTEM, content=SYSTEM_PROMPT)]
    for n in range(history):
        turns.append(ChatTurn(role=Role.USER, content=f"Pertanyaan {n}: bagaimana warisan ayah?"))
        turns.append(ChatTurn(role=Role.ASSISTANT, content=REPLY))
    turns.append(ChatTurn(role=Role.USER, content="Bisa, hari Kamis jam sepuluh?"))
    return turns


async def run_level(
    call: Callable[[int], Awaitable[object]], *, requests: int, concurrency: int, warmup: int
) -> tuple[float, float]:
    """`requests` calls, `concurrency` at a time, after a warm-up that opens the connections:
    (CPU seconds of this process, wall seconds)."""

    async def drive(count: int, offset: int) -> None:
        for n in range(count):
            await call(offset + n)

    async def run(total: int, start: int) -> None:
        share, extra = divmod(total, concurrency)
        counts = [share + (1 if i < extra else 0) for i in range(concurrency)]
        offsets = [start + sum(counts[:i]) for i in range(concurrency)]
        await asyncio.gather(*(drive(c, o) for c, o in zip(counts, offsets, strict=True)))

    await run(max(warmup, concurrency), 0)
    cpu, wall = time.process_time(), time.perf_counter()
    await run(requests, 1_000_000)
    return time.process_time() - cpu, time.perf_counter() - wall


async def measure(
    args: argparse.Namespace, urls: dict[str, str], pids: dict[str, int]
) -> list[Figures]:
    meta = MetaClient(
        graph_url=f"{urls['meta']}/v22.0",
        access_token="bench-token",
        phone_number_id=PHONE_NUMBER_ID,
    )
    fonnte = FonnteClient(api_url=f"{urls['fonnte']}/send", token="bench-device-token")
    assistant = OpenAICompatibleAssistant(
        base_url=f"{urls['openai']}/v1", api_key="bench-key", model="fake-large"
    )
    turns = conversation(args.history)

    calls: dict[str, Callable[[int], Awaitable[object]]] = {
        "meta-read": lambda n: meta.mark_read(message_id=f"wamid.bench{n}", typing=True),
        "meta-send": lambda n: meta.send_text(
            to="6281234567890", body=REPLY, reply_to=f"wamid.bench{n}", tracker=f"t{n}"
        ),
        "ai-chat": lambda _n: assistant.reply(turns),
        "fonnte-send": lambda n: fonnte.send_text(to="6281234567890", body=REPLY),
    }
    peer = {"meta-read": "meta", "meta-send": "meta", "ai-chat": "openai", "fonnte-send": "fonnte"}
    results = []
    try:
        async with httpx.AsyncClient() as control:
            for operation in args.ops:
                for level in args.levels:
                    # The fakes keep every request: forget them so each run starts equal.
                    await control.delete(f"{urls[peer[operation]]}/_fake/requests")
                    meter = CpuMeter({name: pid for name, pid in pids.items()})
                    meter.start()
                    cpu, wall = await run_level(
                        calls[operation],
                        requests=args.requests,
                        concurrency=level,
                        warmup=args.warmup,
                    )
                    meter.stop()
                    figures = Figures(
                        operation=operation,
                        concurrency=level,
                        requests=args.requests,
                        cpu_us_per_request=cpu / args.requests * 1e6,
                        requests_per_second=args.requests / wall,
                        fakes_cores=sum(meter.cores.get(name, 0.0) for name in pids),
                        others_cores=meter.cores.get("others", 0.0),
                    )
                    results.append(figures)
                    print(
                        f"{operation:<12} {level:>3} {figures.cpu_us_per_request:>9.0f}"
                        f" {figures.requests_per_second:>9.0f} {figures.fakes_cores:>6.2f}"
                        f" {figures.others_cores:>6.2f}",
                        flush=True,
                    )
    finally:
        await meta.aclose()
        await fonnte.aclose()
        await assistant.aclose()
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument(
        "--levels", default="1,16", help="concurrency levels, comma-separated (default 1,16)"
    )
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="operations to run")
    parser.add_argument(
        "--history", type=int, default=10, help="question/answer pairs in the AI prompt"
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.levels = [int(level) for level in args.levels.split(",") if level]
    args.ops = [op for op in args.ops.split(",") if op]
    unknown = sorted(set(args.ops) - set(OPERATIONS))
    if unknown or not args.levels or min(args.levels) < 1 or args.requests < 1:
        parser.error(f"unknown operations {unknown} or empty levels/requests")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure_logging("WARNING")  # the HTTP cost alone, not the log lines around it
    loop_factory = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with (
        fake("meta") as (meta_url, meta_pid),
        fake("openai") as (ai_url, ai_pid),
        fake("fonnte") as (fonnte_url, fonnte_pid),
    ):
        urls = {"meta": meta_url, "openai": ai_url, "fonnte": fonnte_url}
        pids = {"fake-meta": meta_pid, "fake-openai": ai_pid, "fake-fonnte": fonnte_pid}
        print(
            f"{args.requests} requests per run, loop {args.loop}, AI prompt of "
            f"{2 * args.history + 2} messages"
        )
        print(
            f"{'operation':<12} {'c':>3} {'cpu µs/req':>9} {'req/s':>9} {'fakes':>6} {'others':>6}"
        )
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            results = runner.run(measure(args, urls, pids))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
