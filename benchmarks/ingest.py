"""Ingest benchmark: how many signed Meta webhooks the gateway acknowledges durably per second,
and how long each acknowledgement takes, at rising concurrency.

What it does
  Starts `wagate serve --no-worker` as its own process on embedded PostgreSQL (or on a fresh
  database created on --database-url and dropped afterwards), then drives it from a second
  process (see _load.py) with N keep-alive HTTP/1.1 connections per level, twice:

    bare     POST /_bench/ok on the same server: 200 with no auth, parsing or database. The
             ceiling of this load client + uvicorn + FastAPI on this machine.
    webhook  POST /webhook/whatsapp: a signed Meta text message with a unique message id, so
             every 200 is a real committed INSERT (the gateway answers only after commit).

  Both send the same kind of body. Every body is built and signed in the load process before
  the clock starts. Each run is a warm-up (--warmup) then a measured window (--duration).

How to read it
  req/s        responses completed in the window per second; for webhook these are acks.
  p50 … max    latency in ms, from writing the request to reading the last response byte.
  errors       non-200 responses and requests without a response, warm-up included.
  cpu          cores busy during the window: the load client, the gateway process, PostgreSQL
               (the server's processes; on a shared --database-url server, everyone's) and
               every other process. A client near 1.0 means the client is the limit: bare req/s
               is then the client's ceiling, not the server's. "others" well above 0 means the
               machine was shared: rerun. (The JSON also has "machine": all busy CPU.)
  webhook/bare the share of the bare ceiling that ingest keeps (req/s), and how many times
               slower it answers (p50, p99).
  Below the table: the goal verdicts at concurrency 32 (>= 1,500 acks/s, p99 <= 50 ms), the
  errors, and the durability check (rows in inbound_messages == 200 acks).

Exit status: 0 valid run; 1 invalid run (errors, an ack not stored, too few pre-built
requests); 2 with --check when the run is valid but a goal is missed.

    /tmp/venv/bin/python benchmarks/ingest.py [--levels 1,8,32,64] [--duration 5]
        [--warmup 1] [--database-url postgresql://postgres@127.0.0.1:5432/] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _gateway import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    GatewayProcess,
    fresh_database,
    postmaster_pid,
)
from _load import LoadProcess, LoadResult, LoadSpec, MetaWebhooks

GOAL_CONCURRENCY = 32
GOAL_ACKS_PER_SECOND = 1500.0
GOAL_P99_MS = 50.0

BARE_PATH = "/_bench/ok"
WEBHOOK_PATH = "/webhook/whatsapp"
BARE_REQUESTS = 2000  # cycled: the bare route stores nothing
HEADROOM = 1.5  # webhook requests pre-built per level: this × what the bare run sent


@dataclass(frozen=True)
class Level:
    concurrency: int
    bare: LoadResult
    webhook: LoadResult

    @property
    def ratio(self) -> dict[str, float]:
        return {
            "rate": _div(self.webhook.rate, self.bare.rate),
            "p50": _div(self.webhook.p50_ms, self.bare.p50_ms),
            "p99": _div(self.webhook.p99_ms, self.bare.p99_ms),
        }


@dataclass(frozen=True)
class Verdict:
    name: str
    target: str
    value: float | None
    passed: bool | None  # None: not measured


def _div(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


# ------------------------------------------------------------------------------ arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Durable webhook acks/s and ack latency of `wagate serve`, vs a bare 200.",
    )
    parser.add_argument(
        "--levels",
        default="1,8,32,64",
        type=_levels,
        help="comma-separated concurrency levels (default: 1,8,32,64)",
    )
    parser.add_argument(
        "--duration", type=float, default=5.0, help="measured seconds per run (default: 5)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up seconds per run (default: 1)"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to use instead of the embedded one; a fresh database "
        "wagate_bench_<pid> is created on it and dropped afterwards",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--check", action="store_true", help="exit 2 if a goal is missed (for CI use)"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0:
        parser.error("--duration must be > 0 and --warmup >= 0")
    return args


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("levels are integers, e.g. 1,8,32,64") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("levels must be positive integers")
    return levels


# -------------------------------------------------------------------------------- running


def run_levels(args: argparse.Namespace, gateway: GatewayProcess, load: LoadProcess) -> list[Level]:
    watch = {"gateway": gateway.pid}
    assert gateway.database_url is not None
    server = postmaster_pid(gateway.database_url)
    if server is not None:
        watch["postgres"] = server
    levels = []
    for concurrency in args.levels:
        print(f"  concurrency {concurrency:>3}: bare …", end="", flush=True)
        bare = load.run(_spec(args, gateway, concurrency, _bare_plan()), watch=watch)
        print(" webhook …", end="", flush=True)
        plan = _webhook_plan(concurrency, count=int(bare.sent * HEADROOM) + 1000)
        webhook = load.run(_spec(args, gateway, concurrency, plan), watch=watch)
        print(f" {webhook.rate:,.0f} acks/s", flush=True)
        levels.append(Level(concurrency, bare, webhook))
    return levels


def _spec(
    args: argparse.Namespace, gateway: GatewayProcess, concurrency: int, plan: MetaWebhooks
) -> LoadSpec:
    return LoadSpec(
        host=gateway.host,
        port=gateway.port,
        concurrency=concurrency,
        warmup=args.warmup,
        duration=args.duration,
        plan=plan,
    )


def _bare_plan() -> MetaWebhooks:
    return MetaWebhooks(
        path=BARE_PATH,
        count=BARE_REQUESTS,
        app_secret=APP_SECRET,
        phone_number_id=PHONE_NUMBER_ID,
        id_prefix="wamid.BENCHBARE.",
        unique=False,
    )


def _webhook_plan(concurrency: int, *, count: int) -> MetaWebhooks:
    return MetaWebhooks(
        path=WEBHOOK_PATH,
        count=count,
        app_secret=APP_SECRET,
        phone_number_id=PHONE_NUMBER_ID,
        id_prefix=f"wamid.BENCH.{os.getpid()}.c{concurrency}.",
    )


# ------------------------------------------------------------------------------- verdicts


def goal_verdicts(levels: list[Level]) -> list[Verdict]:
    at_goal = next((lv for lv in levels if lv.concurrency == GOAL_CONCURRENCY), None)
    rate = at_goal.webhook.rate if at_goal else None
    p99 = at_goal.webhook.p99_ms if at_goal else None
    return [
        Verdict(
            name=f"throughput at concurrency {GOAL_CONCURRENCY}",
            target=f">= {GOAL_ACKS_PER_SECOND:,.0f} durable acks/s",
            value=rate,
            passed=None if rate is None else rate >= GOAL_ACKS_PER_SECOND,
        ),
        Verdict(
            name=f"p99 ack latency at concurrency {GOAL_CONCURRENCY}",
            target=f"<= {GOAL_P99_MS:.0f} ms",
            value=p99,
            passed=None if p99 is None else p99 <= GOAL_P99_MS,
        ),
    ]


def error_lines(levels: list[Level]) -> list[str]:
    lines = []
    for level in levels:
        for name, result in (("bare", level.bare), ("webhook", level.webhook)):
            problems = [f"HTTP {s} ×{n}" for s, n in sorted(result.statuses.items()) if s != 200]
            problems += [f"{kind} ×{n}" for kind, n in sorted(result.failures.items())]
            if result.exhausted:
                problems.append("ran out of pre-built requests: the window ended early")
            if problems:
                lines.append(f"concurrency {level.concurrency} {name}: " + ", ".join(problems))
    return lines


# ------------------------------------------------------------------------------- printing

CPU_COLUMNS = ("client", "gateway", "postgres", "others")  # the JSON also has "machine"
BUSY_MACHINE = 0.15  # cores used by other processes above which the figures are suspect
_HEADER = (
    f"{'conc':>4}  {'endpoint':<12}{'done':>7}{'req/s':>8}{'p50':>8}{'p90':>8}{'p99':>8}"
    f"{'max':>8}{'errors':>7} │" + "".join(f"{name:>9}" for name in CPU_COLUMNS)
)
_TITLE = f"{'latency, ms':>{50}}{'':>18}cpu, cores busy in the window"


def _num(value: float, digits: int = 2) -> str:
    return "—" if math.isnan(value) else f"{value:.{digits}f}"


def _row(concurrency: int, name: str, r: LoadResult) -> str:
    cpu = "".join(f"{_num(r.cpu.get(k, math.nan)):>9}" for k in CPU_COLUMNS)
    return (
        f"{concurrency:>4}  {name:<12}{r.completed:>7}{r.rate:>8,.0f}{_num(r.p50_ms):>8}"
        f"{_num(r.p90_ms):>8}{_num(r.p99_ms):>8}{_num(r.max_ms, 1):>8}{r.errors:>7} │{cpu}"
    )


def _ratio_row(level: Level) -> str:
    ratio = level.ratio
    return (
        f"{'':>4}  {'webhook/bare':<12}{'':>7}{_num(ratio['rate']):>7}×"
        f"{_num(ratio['p50'], 1):>7}×{'':>8}{_num(ratio['p99'], 1):>7}× │"
    )


def busy_machine(levels: list[Level]) -> float:
    """The most CPU other processes used during any window, in cores."""
    runs = [r for lv in levels for r in (lv.bare, lv.webhook)]
    return max((r.cpu.get("others", 0.0) for r in runs), default=0.0)


def print_table(levels: list[Level]) -> None:
    print()
    print(_TITLE)
    print(_HEADER)
    print("─" * len(_HEADER))
    for level in levels:
        print(_row(level.concurrency, "bare", level.bare))
        print(_row(level.concurrency, "webhook", level.webhook))
        print(_ratio_row(level))
    print()
    print(
        "bare = POST /_bench/ok on the same server (no auth, parsing or database): the ceiling\n"
        "of this client + uvicorn + FastAPI here. req/s for webhook = durable acks/s.\n"
        f"cpu: of {os.cpu_count()} cores; client = the load process (near 1.0: client-bound); "
        "others = every\nother process on the machine (well above 0: the machine was shared)."
    )


def print_verdicts(
    levels: list[Level], verdicts: list[Verdict], errors: list[str], durable: dict[str, Any]
) -> None:
    print()
    for verdict in verdicts:
        shown = "not measured" if verdict.value is None else f"{verdict.value:,.1f}"
        outcome = {True: "PASS", False: "FAIL", None: "n/a"}[verdict.passed]
        print(f"goal  {verdict.name}: {verdict.target} → {shown}  {outcome}")
    print()
    others = busy_machine(levels)
    if others > BUSY_MACHINE:
        print(
            f"warning: other processes used up to {others:.2f} cores during the windows; "
            "the figures are perturbed."
        )
    if errors:
        print("!" * 78)
        print(f"!!! ERRORS: {len(errors)} run(s) did not get a 200 for every request;")
        print("!!! their figures are NOT VALID:")
        for line in errors:
            print(f"!!!   {line}")
        print("!" * 78)
    else:
        print("errors: none (every request got a 200)")
    mark = "OK" if durable["ok"] else "MISMATCH: ACKED MESSAGES ARE MISSING OR EXTRA"
    unknown = f", {durable['unknown']} without response" if durable["unknown"] else ""
    print(f"durable: {durable['acked']} acked, {durable['stored']} stored{unknown}  {mark}")


# ----------------------------------------------------------------------------------- JSON


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _commit() -> str | None:
    here = Path(__file__).resolve().parent
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        head = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=here, text=True)
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=here, check=False).returncode
        return head.strip() + ("-dirty" if dirty else "")
    return None


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(report), indent=2) + "\n")


def build_report(
    args: argparse.Namespace,
    levels: list[Level],
    verdicts: list[Verdict],
    errors: list[str],
    durable: dict[str, Any],
    started: datetime,
) -> dict[str, Any]:
    return {
        "benchmark": "ingest",
        "started_at": started.isoformat(),
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "database": "external" if args.database_url else "embedded",
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "levels": [
            {
                "concurrency": lv.concurrency,
                "bare": asdict(lv.bare),
                "webhook": asdict(lv.webhook),
                "ratio": lv.ratio,
            }
            for lv in levels
        ],
        "goals": [asdict(v) for v in verdicts],
        "errors": errors,
        "others_max_cores": busy_machine(levels),
        "durability": durable,
        "valid": not errors and durable["ok"],
    }


# ----------------------------------------------------------------------------------- main


def _exit_on_sigterm() -> None:
    """SIGTERM → SystemExit, so the gateway and the database are still cleaned up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _exit_on_sigterm()
    started = datetime.now(UTC)
    where = "external PostgreSQL (fresh database)" if args.database_url else "embedded PostgreSQL"
    print(
        f"wagate ingest benchmark · {where} · {os.cpu_count()} CPUs · levels "
        f"{','.join(map(str, args.levels))} · warm-up {args.warmup:g} s + {args.duration:g} s"
    )
    with contextlib.ExitStack() as stack:
        database_url = None
        if args.database_url:
            database_url = stack.enter_context(fresh_database(args.database_url))
        clock = time.perf_counter()
        gateway = stack.enter_context(GatewayProcess(database_url=database_url))
        print(f"  gateway up on {gateway.url} in {time.perf_counter() - clock:.1f} s")
        load = stack.enter_context(LoadProcess())
        levels = run_levels(args, gateway, load)
        acked = sum(lv.webhook.ok for lv in levels)
        stored = gateway.count_rows("inbound_messages")
    durable = {
        "acked": acked,
        "stored": stored,
        "unknown": sum(sum(lv.webhook.failures.values()) for lv in levels),
        "ok": acked == stored,
    }
    verdicts = goal_verdicts(levels)
    errors = error_lines(levels)
    print_table(levels)
    print_verdicts(levels, verdicts, errors, durable)
    if args.json:
        write_json(args.json, build_report(args, levels, verdicts, errors, durable, started))
        print(f"figures written to {args.json}")
    if errors or not durable["ok"]:
        return 1
    if args.check and not all(v.passed for v in verdicts):
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: gateway stopped, data removed", file=sys.stderr)
        sys.exit(130)
