"""Ingest against the minimal durable Python handler, side by side in one run (issue 18).

What it does
  Starts `wagate serve --no-worker` (embedded PostgreSQL, or a fresh database on
  --database-url) and `benchmarks/reference_ingest.py` (uvicorn, HMAC check, one autocommit
  INSERT through a psycopg pool, 200 after commit) on a second fresh database of the *same*
  PostgreSQL server, then drives them in turn with the same load client (_load.py) at the same
  concurrency: reference, wagate, reference, wagate … (--rounds pairs). Every request is a
  signed Meta text webhook with its own message id, built and signed before the clock starts;
  every 200 is a committed row.

How to read it
  acks/s        200s completed in the window per second (each one a committed row).
  p50, p99      latency in ms, write of the request → last byte of the response.
  server ms/ack CPU of the server process per ack (its CPU seconds in the window / acks), and
  pg ms/ack     the same for PostgreSQL's processes (embedded: only ours; a shared external
                server counts everyone's).
  others        cores used by every other process during the window: well above 0 means
                the machine was shared and both sides were disturbed (by the same amount only
                on average: that is why the runs are interleaved).
  Then the medians per side, the ratio wagate/reference of the median acks/s, and the goals:
  ratio >= 0.7 and wagate's median p99 <= 50 ms. Last, the durability check: stored rows ==
  200 acks on both sides.

Exit status: 0 valid run; 1 invalid (errors, lost acks); 2 with --check when a goal is missed.

    python benchmarks/ingest_vs_reference.py [--rounds 3] [--duration 5] [--concurrency 32]
        [--database-url postgresql://postgres@127.0.0.1:5432/] [--json out.json]
        [--gateway-python /path/to/other/tree/.venv/bin/python]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from _gateway import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    GatewayProcess,
    free_port,
    fresh_database,
    postmaster_pid,
)
from _load import LoadProcess, LoadResult, LoadSpec, MetaWebhooks

GOAL_RATIO = 0.7
GOAL_P99_MS = 50.0
WEBHOOK_PATH = "/webhook/whatsapp"
REQUESTS_PER_SECOND_CAP = 8000  # pre-built requests per side and run: cap × (warm-up + window)
REFERENCE = Path(__file__).resolve().parent / "reference_ingest.py"
BUSY_MACHINE = 0.15


# ------------------------------------------------------------------------ the reference


class ReferenceProcess:
    """`reference_ingest.py` in its own session, on the database at `database_url`."""

    def __init__(self, database_url: str, *, python: str = sys.executable) -> None:
        self.database_url = database_url
        self.python = python
        self.host = "127.0.0.1"
        self.port = free_port()
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._popen is not None
        return self._popen.pid

    def __enter__(self) -> ReferenceProcess:
        args = [self.python, str(REFERENCE), "--database-url", self.database_url]
        args += ["--host", self.host, "--port", str(self.port), "--app-secret", APP_SECRET]
        self._popen = subprocess.Popen(args, start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._popen is not None
            if self._popen.poll() is not None:
                raise RuntimeError(f"reference handler exited with {self._popen.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                url = f"http://{self.host}:{self.port}/health"
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("reference handler not healthy in time")

    def stop(self) -> None:
        popen, self._popen = self._popen, None
        if popen is not None and popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(15)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()

    def count_rows(self) -> int:
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM reference_inbound").fetchone()
        assert row is not None
        return int(row[0])


# -------------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Run:
    side: str  # "reference" or "wagate"
    round: int
    result: LoadResult

    @property
    def server_ms_per_ack(self) -> float:
        return _per_ack(self.result, "server")

    @property
    def postgres_ms_per_ack(self) -> float:
        return _per_ack(self.result, "postgres")


def _per_ack(result: LoadResult, name: str) -> float:
    cores = result.cpu.get(name, math.nan)
    if not result.completed or math.isnan(cores):
        return math.nan
    return cores * result.duration / result.completed * 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="wagate's durable webhook acks against the minimal durable Python handler."
    )
    parser.add_argument("--rounds", type=int, default=3, help="reference+wagate pairs (3)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (32)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds (5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds (1)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to use instead of the embedded one; two fresh databases "
        "are created on it and dropped afterwards",
    )
    parser.add_argument(
        "--gateway-python",
        default=sys.executable,
        help="the interpreter that runs wagate (another tree's virtualenv: compare trees)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--check", action="store_true", help="exit 2 if a goal is missed")
    args = parser.parse_args(argv)
    # Absolute (the gateway runs in its data dir), but not resolved: a venv's python is a link.
    args.gateway_python = os.path.abspath(args.gateway_python)
    if args.rounds < 1 or args.concurrency < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--rounds and --concurrency >= 1, --duration > 0, --warmup >= 0")
    return args


def _plan(side: str, round_: int, count: int) -> MetaWebhooks:
    return MetaWebhooks(
        path=WEBHOOK_PATH,
        count=count,
        app_secret=APP_SECRET,
        phone_number_id=PHONE_NUMBER_ID,
        id_prefix=f"wamid.VS.{os.getpid()}.{side}.{round_}.",
    )


def run_rounds(
    args: argparse.Namespace,
    load: LoadProcess,
    targets: dict[str, tuple[str, int, int]],
    postgres: int | None,
) -> list[Run]:
    """targets: side → (host, port, pid). Sides alternate within each round."""
    count = int(REQUESTS_PER_SECOND_CAP * (args.warmup + args.duration)) + 1000
    runs = []
    for round_ in range(1, args.rounds + 1):
        for side, (host, port, pid) in targets.items():
            watch = {"server": pid}
            if postgres is not None:
                watch["postgres"] = postgres
            spec = LoadSpec(
                host=host,
                port=port,
                concurrency=args.concurrency,
                warmup=args.warmup,
                duration=args.duration,
                plan=_plan(side, round_, count),
            )
            print(f"  round {round_} {side:<9} …", end="", flush=True)
            result = load.run(spec, watch=watch)
            print(f" {result.rate:,.0f} acks/s, p99 {result.p99_ms:.1f} ms", flush=True)
            runs.append(Run(side, round_, result))
    return runs


# ----------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Side:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    server_ms_per_ack: float
    postgres_ms_per_ack: float
    others: float  # the most any window saw


def _median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def summarise(runs: list[Run], side: str) -> Side:
    mine = [r for r in runs if r.side == side]
    return Side(
        name=side,
        rate=_median([r.result.rate for r in mine]),
        p50_ms=_median([r.result.p50_ms for r in mine]),
        p99_ms=_median([r.result.p99_ms for r in mine]),
        server_ms_per_ack=_median([r.server_ms_per_ack for r in mine]),
        postgres_ms_per_ack=_median([r.postgres_ms_per_ack for r in mine]),
        others=max((r.result.cpu.get("others", 0.0) for r in mine), default=0.0),
    )


def _num(value: float, digits: int = 2) -> str:
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


_HEADER = (
    f"{'round':>5}  {'side':<10}{'acks':>7}{'acks/s':>8}{'p50':>8}{'p99':>8}{'max':>8}"
    f"{'errors':>7} │{'server':>8}{'pg':>8} │{'server':>8}{'pg':>8}{'client':>8}{'others':>8}"
)
_TITLE = f"{'latency, ms':>47}{'':>9}ms CPU/ack{'':>6}cores busy in the window"


def print_table(runs: list[Run], sides: list[Side]) -> None:
    print()
    print(_TITLE)
    print(_HEADER)
    print("─" * len(_HEADER))
    for run in runs:
        r = run.result
        cpu = "".join(f"{_num(r.cpu.get(k, math.nan)):>8}" for k in ("server", "postgres"))
        cpu += "".join(f"{_num(r.cpu.get(k, math.nan)):>8}" for k in ("client", "others"))
        print(
            f"{run.round:>5}  {run.side:<10}{r.completed:>7}{r.rate:>8,.0f}{_num(r.p50_ms):>8}"
            f"{_num(r.p99_ms):>8}{_num(r.max_ms, 1):>8}{r.errors:>7} │"
            f"{_num(run.server_ms_per_ack, 3):>8}{_num(run.postgres_ms_per_ack, 3):>8} │{cpu}"
        )
    print("─" * len(_HEADER))
    for side in sides:
        print(
            f"{'med':>5}  {side.name:<10}{'':>7}{side.rate:>8,.0f}{_num(side.p50_ms):>8}"
            f"{_num(side.p99_ms):>8}{'':>8}{'':>7} │"
            f"{_num(side.server_ms_per_ack, 3):>8}{_num(side.postgres_ms_per_ack, 3):>8} │"
        )


@dataclass(frozen=True)
class Verdict:
    name: str
    target: str
    value: float
    passed: bool


def verdicts(reference: Side, wagate: Side, concurrency: int) -> list[Verdict]:
    ratio = wagate.rate / reference.rate if reference.rate else math.nan
    return [
        Verdict(
            name="acks/s wagate / reference (medians)",
            target=f">= {GOAL_RATIO}",
            value=ratio,
            passed=ratio >= GOAL_RATIO,
        ),
        Verdict(
            name=f"wagate p99 at concurrency {concurrency} (median of runs)",
            target=f"<= {GOAL_P99_MS:.0f} ms",
            value=wagate.p99_ms,
            passed=wagate.p99_ms <= GOAL_P99_MS,
        ),
    ]


def error_lines(runs: list[Run]) -> list[str]:
    lines = []
    for run in runs:
        r = run.result
        problems = [f"HTTP {s} ×{n}" for s, n in sorted(r.statuses.items()) if s != 200]
        problems += [f"{kind} ×{n}" for kind, n in sorted(r.failures.items())]
        if r.exhausted:
            problems.append("ran out of pre-built requests: the window ended early")
        if problems:
            lines.append(f"round {run.round} {run.side}: " + ", ".join(problems))
    return lines


def _commit() -> str | None:
    here = Path(__file__).resolve().parent
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        head = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=here, text=True)
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=here, check=False).returncode
        return head.strip() + ("-dirty" if dirty else "")
    return None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


# -------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
    where = "external PostgreSQL" if args.database_url else "embedded PostgreSQL"
    print(
        f"ingest vs the minimal durable handler · {where} · {os.cpu_count()} CPUs · "
        f"concurrency {args.concurrency} · {args.rounds} rounds · warm-up {args.warmup:g} s "
        f"+ {args.duration:g} s"
    )
    with contextlib.ExitStack() as stack:
        wagate_url = None
        if args.database_url:
            wagate_url = stack.enter_context(fresh_database(args.database_url))
        gateway = stack.enter_context(
            GatewayProcess(database_url=wagate_url, python=args.gateway_python)
        )
        assert gateway.database_url is not None
        # The reference's own database on the same server (embedded: wagate's server).
        server_url = args.database_url or gateway.database_url
        reference_url = stack.enter_context(fresh_database(server_url, "_reference"))
        reference = stack.enter_context(ReferenceProcess(reference_url))
        print(f"  wagate on {gateway.url}, reference on port {reference.port}")
        load = stack.enter_context(LoadProcess())
        targets = {
            "reference": (reference.host, reference.port, reference.pid),
            "wagate": (gateway.host, gateway.port, gateway.pid),
        }
        runs = run_rounds(args, load, targets, postmaster_pid(gateway.database_url))
        stored = {
            "reference": reference.count_rows(),
            "wagate": gateway.count_rows("inbound_messages"),
        }
    acked = {side: sum(r.result.ok for r in runs if r.side == side) for side in stored}
    durable_ok = acked == stored
    sides = [summarise(runs, "reference"), summarise(runs, "wagate")]
    goals = verdicts(sides[0], sides[1], args.concurrency)
    errors = error_lines(runs)
    print_table(runs, sides)
    print()
    for goal in goals:
        outcome = "PASS" if goal.passed else "FAIL"
        print(f"goal  {goal.name}: {goal.target} → {_num(goal.value)}  {outcome}")
    others = max(s.others for s in sides)
    if others > BUSY_MACHINE:
        print(f"warning: other processes used up to {others:.2f} cores during the windows")
    for line in errors:
        print(f"ERROR {line}")
    for side in stored:
        mark = "OK" if acked[side] == stored[side] else "MISMATCH"
        print(f"durable {side}: {acked[side]} acked, {stored[side]} stored  {mark}")
    if args.json:
        report = {
            "benchmark": "ingest_vs_reference",
            "started_at": started.isoformat(),
            "commit": _commit(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "database": "external" if args.database_url else "embedded",
            "concurrency": args.concurrency,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "runs": [
                {
                    "side": r.side,
                    "round": r.round,
                    "server_ms_per_ack": r.server_ms_per_ack,
                    "postgres_ms_per_ack": r.postgres_ms_per_ack,
                    **asdict(r.result),
                }
                for r in runs
            ],
            "medians": [asdict(s) for s in sides],
            "goals": [asdict(g) for g in goals],
            "errors": errors,
            "durability": {"acked": acked, "stored": stored, "ok": durable_ok},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_clean(report), indent=2) + "\n")
        print(f"figures written to {args.json}")
    if errors or not durable_ok:
        return 1
    if args.check and not all(g.passed for g in goals):
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, data removed", file=sys.stderr)
        sys.exit(130)
