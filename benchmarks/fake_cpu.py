"""CPU the fakes spend per request (issue 18): `wagate fake meta` and `wagate fake openai`
answering the requests the gateway makes per answered message.

The fakes share the machine with the gateway in every benchmark (answer_cpu.py, burst.py), so
what they spend per request is taken from the gateway's budget. This script starts each fake as
`python -m wagate fake …` (whatever `wagate` this interpreter imports: PYTHONPATH can point it
at another tree, for an A/B), drives it with the gateway's own adapters over keep-alive
connections (`MetaClient.mark_read(typing=True)`, `MetaClient.send_text`,
`OpenAICompatibleAssistant.reply`, as benchmarks/http_clients.py does) and reads the fake
process's CPU time (user + system) before and after each run.

Per operation it prints the fake's CPU µs per request, requests per second, and the cores
used meanwhile by every other process ("others": well above the driver's own share means a
shared machine). `listing` is one `GET /_fake/requests` of everything recorded so far (the
answer_cpu benchmark polls it while it waits for replies), in ms per listing.

    python benchmarks/fake_cpu.py [--requests 3000] [--concurrency 16] [--rounds 3]
                                  [--history 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import CpuMeter
from http_clients import PHONE_NUMBER_ID, REPLY, conversation, fake, run_level
from wagate.assistants.openai_compatible import OpenAICompatibleAssistant
from wagate.observability.logs import configure_logging
from wagate.providers.meta.client import MetaClient

OPERATIONS = ("meta-read", "meta-send", "ai-chat")


@dataclass(frozen=True, slots=True)
class Figures:
    operation: str
    requests: int
    fake_cpu_us_per_request: list[float]  # one per round
    requests_per_second: list[float]
    others_cores: list[float]
    listing_ms: list[float]  # GET /_fake/requests after the round (its whole record)
    listed_entries: list[int]

    @property
    def median_us(self) -> float:
        return statistics.median(self.fake_cpu_us_per_request)


async def paced(
    call: Callable[[int], Awaitable[object]], *, requests: int, concurrency: int, rate: float
) -> float:
    """`requests` calls, at most `concurrency` at a time, started at `rate` per second (0: as
    fast as they complete): wall seconds. A paced fake wakes for each request or few, as in a
    flood of the gateway, rather than for a batch of them."""
    started = time.perf_counter()
    slots = asyncio.Semaphore(concurrency)
    tasks = []

    async def one(n: int) -> None:
        try:
            await call(n)
        finally:
            slots.release()

    for n in range(requests):
        if rate > 0:
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await slots.acquire()
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def one_round(
    call: Callable[[int], Awaitable[object]],
    *,
    url: str,
    pid: int,
    requests: int,
    concurrency: int,
    control: httpx.AsyncClient,
    rate: float,
) -> tuple[float, float, float, float, int]:
    """(fake CPU µs per request, requests/s, others' cores, listing ms, entries listed)."""
    await control.delete(f"{url}/_fake/requests")  # every round starts from an empty record
    meter = CpuMeter({"fake": pid})
    before = cpu_seconds(pid)
    meter.start()
    wall = await paced(call, requests=requests, concurrency=concurrency, rate=rate)
    meter.stop()
    used = cpu_seconds(pid) - before
    before = cpu_seconds(pid)
    listing = await control.get(f"{url}/_fake/requests", timeout=60)
    listing_cpu = cpu_seconds(pid) - before
    return (
        used / requests * 1e6,
        requests / wall,
        meter.cores.get("others", 0.0),
        listing_cpu * 1e3,
        len(listing.json()),
    )


async def measure(
    args: argparse.Namespace, urls: dict[str, str], pids: dict[str, int]
) -> list[Figures]:
    meta = MetaClient(
        graph_url=f"{urls['meta']}/v22.0",
        access_token="bench-token",
        phone_number_id=PHONE_NUMBER_ID,
    )
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
    }
    peer = {"meta-read": "meta", "meta-send": "meta", "ai-chat": "openai"}
    results = {op: Figures(op, args.requests, [], [], [], [], []) for op in OPERATIONS}
    try:
        async with httpx.AsyncClient() as control:
            for operation in OPERATIONS:  # warm the connections and the fakes' code paths
                await run_level(
                    calls[operation], requests=200, concurrency=args.concurrency, warmup=0
                )
            for _ in range(args.rounds):
                for operation in OPERATIONS:
                    us, rate, others, listing_ms, entries = await one_round(
                        calls[operation],
                        url=urls[peer[operation]],
                        pid=pids[peer[operation]],
                        requests=args.requests,
                        concurrency=args.concurrency,
                        control=control,
                        rate=args.rate,
                    )
                    figures = results[operation]
                    figures.fake_cpu_us_per_request.append(us)
                    figures.requests_per_second.append(rate)
                    figures.others_cores.append(others)
                    figures.listing_ms.append(listing_ms)
                    figures.listed_entries.append(entries)
                    print(
                        f"{operation:<10} {us:>9.0f} {rate:>8.0f} {others:>6.2f}"
                        f" {listing_ms:>9.1f} {entries:>7}",
                        flush=True,
                    )
    finally:
        await meta.aclose()
        await assistant.aclose()
    return list(results.values())


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests per operation and round"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the operations interleaved)")
    parser.add_argument(
        "--history", type=int, default=10, help="question/answer pairs in the AI prompt"
    )
    parser.add_argument(
        "--rate", type=float, default=0.0, help="requests per second (0: as fast as answered)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--requests, --concurrency and --rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure_logging("WARNING")
    import uvloop

    with fake("meta") as (meta_url, meta_pid), fake("openai") as (ai_url, ai_pid):
        urls = {"meta": meta_url, "openai": ai_url}
        pids = {"meta": meta_pid, "openai": ai_pid}
        print(
            f"{args.requests} requests per operation and round, concurrency {args.concurrency}, "
            f"rate {args.rate or 'unpaced'}, AI prompt of {2 * args.history + 2} messages, "
            f"load {psutil.getloadavg()[0]:.1f}"
        )
        print(
            f"{'operation':<10} {'fake µs/req':>9} {'req/s':>8} {'others':>6}"
            f" {'listing ms':>9} {'entries':>7}"
        )
        started = time.perf_counter()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(measure(args, urls, pids))
    print(f"medians over {args.rounds} rounds ({time.perf_counter() - started:.0f} s):")
    for figures in results:
        print(
            f"  {figures.operation:<10} {figures.median_us:>6.0f} µs of fake CPU per request, "
            f"listing {statistics.median(figures.listing_ms):.1f} ms "
            f"({figures.listed_entries[-1]} entries)"
        )
    if args.json:
        payload = [asdict(f) | {"median_us": f.median_us} for f in results]
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
