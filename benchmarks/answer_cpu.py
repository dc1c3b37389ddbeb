"""CPU per answered message: how much gateway CPU one reply costs, and what that buys.

What it does
  Starts `wagate serve` (web + worker in one process) on embedded PostgreSQL, or on a fresh
  database created on --database-url and dropped afterwards, with the fake Graph API and the
  fake OpenAI-compatible AI (answering at once) as processes of their own; debounce 0 and the
  rate limit lifted, every other setting at its default. After one warm-up message answered
  end to end:

  (a) flood    --messages signed Meta text webhooks, each from a sender of its own (nothing
               to merge: one message, one reply), written as fast as --connections keep-alive
               connections allow. Until the last one is answered it meters the CPU of the
               gateway's processes, of PostgreSQL and of everything else (psutil's counters):
               gateway CPU ms per reply = the gateway's CPU seconds / replies. Ingest (the
               webhook's own ~1 ms) is inside that figure, as it is inside the process.
  (b) paced    --paced-rate msg/s (50) for --paced-seconds from --paced-senders senders (500)
               on an open-loop schedule: webhook-to-Graph latency p50/p99 per message.
  (c) scale-out, with --scale-out (needs --database-url: an external PostgreSQL): a second
               gateway on a fresh database, `serve --no-worker` plus one `wagate worker`, the
               flood again; then a second worker joins and the flood runs once more. Printed:
               answered msgs/s overall and per worker process, CPU ms per reply by process.

  --profile FILE: py-spy (on-CPU, 200 Hz, collapsed stacks) of the `serve` process during
  (a), for benchmarks/profile_top.py; py-spy must be installed (pip install py-spy) and may
  attach to the process (root, or ptrace allowed).

  A message counts as answered when a reply carrying its marker ("q-<index>", echoed by the
  fake AI) reached the fake Graph API; a reply carrying a marker twice is counted as a
  duplicate (exactly-once delivery is checked on the way).

Goals (issue 18), each printed PASS or FAIL
  gateway CPU per reply, flood              <= 5 ms
  answered msgs/s, flood, one serve process >= 200
  paced 50 msg/s from 500 senders, p99      <= 100 ms (webhook received -> reply at Graph)

The `others` CPU column is every other process on the machine: a shared machine shows there.
Exit status: 0 when every message was acked and answered exactly once, 1 otherwise
(2 with --check when a goal is missed).

    python benchmarks/answer_cpu.py                                   # (a) 2,000 + (b) 20 s
    python benchmarks/answer_cpu.py --messages 500 --paced-seconds 5  # a quick look
    python benchmarks/answer_cpu.py --database-url postgresql://postgres@127.0.0.1:5432/ \\
        --scale-out --json benchmarks/results/answer_cpu.json
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import GatewayProcess, fresh_database, postmaster_pid
from _load import CpuMeter
from burst import (
    QUEUE_DEPTH_SQL,
    BurstSpec,
    FakeServer,
    Replies,
    SenderProcess,
    SendLog,
    fake_server,
    fetch_replies,
    spread_ms,
    wagate_source,
    warm_up,
)

GOAL_CPU_MS_PER_REPLY = 5.0
GOAL_ANSWERED_PER_S = 200.0
GOAL_PACED_P99_MS = 100.0
FLOOD_RATE = 1_000_000.0  # "as fast as the connections allow": every message due at once
POLL_EVERY = 0.25  # seconds between checks for the last answer
LOST_AFTER_EMPTY = 30.0  # queue empty this long with messages unanswered: they are lost


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(kw_only=True)
class Phase:
    """One load and its figures."""

    name: str
    workers: int  # worker processes answering (0: the worker runs inside `serve`)
    sent: int = 0
    acked: int = 0
    answered: int = 0
    replies: int = 0
    duplicates: int = 0
    seconds: float = math.nan  # first write -> last answer
    answered_per_s: float = math.nan
    end_to_end: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # by watched tree
    elapsed: float = math.nan  # the metered window

    @property
    def gateway_cpu(self) -> float:
        """CPU seconds of the gateway's own processes: web and workers, PostgreSQL apart."""
        mine = ("gateway", "worker ")
        return sum(v for k, v in self.cpu_seconds.items() if k.startswith(mine))

    def ms_per_reply(self, name: str | None = None) -> float:
        seconds = self.gateway_cpu if name is None else self.cpu_seconds.get(name, math.nan)
        return seconds * 1000 / self.answered if self.answered else math.nan

    @property
    def complete(self) -> bool:
        return self.sent == self.acked == self.answered and self.duplicates == 0


@dataclass
class Stack:
    """A running gateway (web, workers) and the fakes it talks to."""

    gateway: GatewayProcess
    graph: FakeServer
    ai: FakeServer
    postgres: int | None
    workers: list[int] = field(default_factory=list)
    senders_used: int = 0  # each phase takes new sender numbers after these
    profile: Path | None = None  # the first flood's py-spy profile of the gateway goes here

    def watch(self, client: int) -> dict[str, int]:
        # Trees are matched from the leaves up, so an embedded PostgreSQL under the gateway
        # process counts apart.
        watch = {"client": client, "gateway": self.gateway.pid}
        watch |= {f"worker {n}": pid for n, pid in enumerate(self.workers, 1)}
        if self.postgres is not None:
            watch["postgres"] = self.postgres
        return watch | {"fake graph": self.graph.pid, "fake ai": self.ai.pid}


def run_phase(
    stack: Stack, name: str, *, rate: float, total: int, senders: int, connections: int
) -> Phase:
    """Offer `total` webhooks at `rate` from `senders` new senders; wait until every acked
    one is answered; meter CPU from the first write to the last answer seen."""
    for fake in (stack.graph, stack.ai):  # replies counted are this phase's only
        httpx.delete(f"{fake.url}/_fake/requests", timeout=30)
    spec = BurstSpec(
        host=stack.gateway.host,
        port=stack.gateway.port,
        rate=rate,
        seconds=total / rate,
        conversations=senders,
        connections=connections,
        request_timeout=60.0,
        id_prefix=f"wamid.ANS{os.getpid()}x{stack.senders_used}x",
        first_sender=stack.senders_used,
    )
    stack.senders_used += senders
    phase = Phase(name=name, workers=len(stack.workers))
    profile, stack.profile = stack.profile, None  # one phase profiled: the first
    with SenderProcess() as sender, profiled(stack.gateway.pid, profile) as profiler:
        meter = CpuMeter(stack.watch(sender.pid))
        log = send(sender, spec, meter, timeout=total / rate + 600, started=profiler)
        acked = {i for i, status in enumerate(log.status) if status == 200}
        replies = wait_answered(stack, acked, timeout=600 + total / 20)
        meter.stop()
        profiler.stop()
    answered = [i for i in acked if i in replies.first]
    phase.sent = sum(1 for t in log.written if not math.isnan(t))
    phase.acked = len(acked)
    phase.answered = len(answered)
    phase.replies = replies.replies
    phase.duplicates = replies.duplicates
    if answered:
        last = max(replies.first[i] for i in answered)
        phase.seconds = last - log.started
        phase.answered_per_s = len(answered) / phase.seconds
    phase.end_to_end = spread_ms([replies.first[i] - log.written[i] for i in answered])
    phase.elapsed = meter.elapsed
    phase.cpu_seconds = {k: v * meter.elapsed for k, v in meter.cores.items()}
    return phase


class Profiler:
    """py-spy sampling one process on-CPU from `start` to `stop`, its samples written to
    `path` in py-spy's "raw" format (collapsed stacks: one "frame;frame;… count" a line).
    Without a path it does nothing, so an unprofiled run pays nothing for it."""

    def __init__(self, pid: int, path: Path | None, rate: int = 200) -> None:
        self.pid = pid
        self.path = path
        self.rate = rate
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.path is None or self._popen is not None:
            return
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        args = [spy, "record", "--pid", str(self.pid), "--rate", str(self.rate)]
        args += ["--format", "raw", "--output", str(self.path)]
        self._popen = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        if self._popen is None:
            return
        self._popen.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            _, err = self._popen.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            _, err = self._popen.communicate()
        if self._popen.returncode not in (0, -signal.SIGINT):
            progress(f"  py-spy exited {self._popen.returncode}: {err.decode()[-500:]}")
        else:
            progress(f"  profile of the gateway written to {self.path}")
        self._popen = None


@contextlib.contextmanager
def profiled(pid: int, path: Path | None) -> Iterator[Profiler]:
    profiler = Profiler(pid, path)
    try:
        yield profiler
    finally:
        profiler.stop()


def send(
    sender: SenderProcess,
    spec: BurstSpec,
    meter: CpuMeter,
    timeout: float,
    started: Profiler | None = None,
) -> SendLog:
    sender.start(spec)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = sender.receive(0.5)
        if message is None:
            continue
        kind, value = message
        if kind == "built":
            deadline += value
        elif kind == "started":
            meter.start()
            if started is not None:
                started.start()
        elif kind == "done":
            assert isinstance(value, SendLog)
            return value
        else:
            raise RuntimeError(f"sender failed: {value}")
    raise RuntimeError("the sender did not finish in time")


def wait_answered(stack: Stack, acked: set[int], timeout: float) -> Replies:
    """Until every acked message has its reply at the fake Graph API. The queue is read from
    PostgreSQL every POLL_EVERY (cheap); the fake's listing, which grows with the phase, only
    once the queue is empty or every two seconds."""
    assert stack.gateway.database_url is not None
    deadline = time.monotonic() + timeout
    empty_since: float | None = None
    listed = 0.0
    replies = Replies(first={}, replies=0, duplicates=0)
    with psycopg.connect(stack.gateway.database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(QUEUE_DEPTH_SQL).fetchone()
            empty = row is not None and not any(row)
            if empty or time.monotonic() - listed > 2.0:
                replies = fetch_replies(stack.graph.url)
                listed = time.monotonic()
                if acked <= replies.first.keys():
                    return replies
            if empty:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since > LOST_AFTER_EMPTY:
                    progress("  queue empty but messages unanswered: giving up")
                    return replies
            else:
                empty_since = None
            time.sleep(POLL_EVERY)
    progress("  timed out waiting for answers")
    return fetch_replies(stack.graph.url)


# ------------------------------------------------------------------------------ printing


def print_phase(phase: Phase) -> None:
    e2e = phase.end_to_end
    print(
        f"  {phase.name}: sent {phase.sent} · acked {phase.acked} · answered {phase.answered} "
        f"in {phase.replies} replies · answered twice {phase.duplicates}"
    )
    print(
        f"    answered/s {phase.answered_per_s:.1f} over {phase.seconds:.1f} s · webhook -> "
        f"Graph p50 {e2e['p50_ms']:.1f} · p99 {e2e['p99_ms']:.1f} · max {e2e['max_ms']:.1f} ms"
    )
    if phase.workers:
        per_worker = phase.answered_per_s / phase.workers
        print(
            f"    {phase.workers} worker process(es): {per_worker:.1f} answered msgs/s per "
            "worker process"
        )
    parts = [f"gateway {phase.ms_per_reply():.2f}"]
    if phase.workers:  # the gateway's processes apart
        parts += [f"{n} {phase.ms_per_reply(n):.2f}" for n in phase.cpu_seconds if "w" in n[:1]]
        parts += [f"web {phase.ms_per_reply('gateway'):.2f}"]
    parts += [
        f"{name} {phase.ms_per_reply(name):.2f}"
        for name in phase.cpu_seconds
        if name not in ("machine", "client", "gateway") and not name.startswith("worker ")
    ]
    print(f"    CPU ms per reply: {' · '.join(parts)}")
    cores = " · ".join(
        f"{name} {seconds / phase.elapsed:.2f}" for name, seconds in phase.cpu_seconds.items()
    )
    print(f"    cores over {phase.elapsed:.1f} s: {cores}")


def verdicts(flood: Phase, paced: Phase | None) -> list[tuple[str, str, str, bool]]:
    found = [
        (
            "gateway CPU per reply, flood, one message per sender",
            f"<= {GOAL_CPU_MS_PER_REPLY:g} ms",
            f"{flood.ms_per_reply():.2f} ms",
            flood.ms_per_reply() <= GOAL_CPU_MS_PER_REPLY,
        ),
        (
            "answered msgs/s, flood, one serve process",
            f">= {GOAL_ANSWERED_PER_S:g}",
            f"{flood.answered_per_s:.1f}",
            flood.answered_per_s >= GOAL_ANSWERED_PER_S,
        ),
    ]
    if paced is not None:
        p99 = paced.end_to_end["p99_ms"]
        found.append(
            (
                f"{paced.name}: webhook -> Graph p99",
                f"<= {GOAL_PACED_P99_MS:g} ms",
                f"{p99:.1f} ms",
                p99 <= GOAL_PACED_P99_MS,
            )
        )
    return found


# ---------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="flood size (= senders)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--paced-rate", type=float, default=50.0, help="msg/s")
    parser.add_argument("--paced-seconds", type=float, default=20.0, help="0: no paced phase")
    parser.add_argument("--paced-senders", type=int, default=500)
    parser.add_argument("--database-url", help="a server for fresh databases (else embedded)")
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="then serve --no-worker + 1 and 2 worker processes (needs --database-url)",
    )
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy (on-CPU, 200 Hz, raw collapsed stacks) of the `serve` process during (a)",
    )
    parser.add_argument("--check", action="store_true", help="exit 2 when a goal is missed")
    args = parser.parse_args(argv)
    if args.scale_out and not args.database_url:
        parser.error("--scale-out needs --database-url (an external PostgreSQL)")
    if min(args.messages, args.connections, args.paced_senders) < 1 or args.paced_rate <= 0:
        parser.error("--messages, --connections, --paced-senders, --paced-rate must be > 0")
    return args


def host_speed_ms(additions: int = 2_000_000) -> float:
    """Milliseconds a fixed pure-Python loop takes here and now, the best of three: this
    machine's speed moves by a third within minutes (a virtual machine's neighbours), and
    every CPU-per-reply figure moves with it, so each run prints it beside its figures."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(additions):
            total += number
        best = min(best, time.perf_counter() - started)
    return best * 1000


def gateway_env(graph: FakeServer, ai: FakeServer) -> dict[str, str]:
    return {
        "DEBOUNCE_SECONDS": "0",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "AI_MODEL": "bench",
        "AI_API_KEY": "bench",
        "META_GRAPH_URL": f"{graph.url}/v22.0",
        "AI_BASE_URL": f"{ai.url}/v1",
    }


@contextlib.contextmanager
def stack_on(
    graph: FakeServer, ai: FakeServer, server_url: str | None, *, separate: bool, suffix: str
) -> Iterator[Stack]:
    """A gateway on a fresh database (embedded when `server_url` is None), warmed up;
    `separate`: `serve --no-worker` plus one `wagate worker`."""
    with contextlib.ExitStack() as own:
        database_url = None
        if server_url:
            database_url = own.enter_context(fresh_database(server_url, suffix))
        gateway = own.enter_context(
            GatewayProcess(
                database_url=database_url, worker=not separate, extra_env=gateway_env(graph, ai)
            )
        )
        assert gateway.database_url is not None
        running = Stack(gateway, graph, ai, postmaster_pid(gateway.database_url))
        if separate:
            running.workers.append(gateway.start_worker())
        warm_up(gateway, graph.url, ai.url)
        yield running


def flood(stack: Stack, args: argparse.Namespace, name: str) -> Phase:
    progress(f"  {name}: {args.messages} messages, each from its own sender")
    return run_phase(
        stack,
        name,
        rate=FLOOD_RATE,
        total=args.messages,
        senders=args.messages,
        connections=args.connections,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    where = "external PostgreSQL (fresh database)" if args.database_url else "embedded PostgreSQL"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        check=False,
    ).stdout.strip()
    print(
        f"wagate answer CPU benchmark · {where} · fake AI answering at once · debounce 0 · "
        f"{os.cpu_count()} CPUs, load average before {load} · commit {commit or '?'}"
    )
    # The gateway runs whatever `wagate` this interpreter imports (PYTHONPATH can point it at
    # another checkout, for a before/after pair): the figures belong to that code.
    print(f"wagate from {wagate_source()}")
    print(f"host speed before: a fixed Python loop took {host_speed_ms():.0f} ms (lower is faster)")
    phases: list[Phase] = []
    with contextlib.ExitStack() as stack:
        graph = stack.enter_context(fake_server("meta"))
        ai = stack.enter_context(fake_server("openai"))
        with stack_on(graph, ai, args.database_url, separate=False, suffix="a") as one:
            one.profile = args.profile
            print("one `serve` process (web + worker)")
            flooded = flood(one, args, "(a) flood")
            print_phase(flooded)
            phases.append(flooded)
            paced = None
            if args.paced_seconds > 0:
                name = f"(b) paced {args.paced_rate:g} msg/s from {args.paced_senders} senders"
                progress(f"  {name} for {args.paced_seconds:g} s")
                paced = run_phase(
                    one,
                    name,
                    rate=args.paced_rate,
                    total=round(args.paced_rate * args.paced_seconds),
                    senders=args.paced_senders,
                    connections=args.connections,
                )
                print_phase(paced)
                phases.append(paced)
        if args.scale_out:
            with stack_on(graph, ai, args.database_url, separate=True, suffix="c") as out:
                print("(c) scale-out: `serve --no-worker` + worker processes")
                for workers in (1, 2):
                    if workers > len(out.workers):
                        out.workers.append(out.gateway.start_worker())
                        time.sleep(3)  # the new worker has started and is claiming jobs
                    phase = flood(out, args, f"(c) flood, {workers} worker process(es)")
                    print_phase(phase)
                    phases.append(phase)
    print(f"host speed after: the same loop took {host_speed_ms():.0f} ms")
    results = verdicts(flooded, paced)
    for goal, target, value, ok in results:
        print(f"goal  {goal}: {target} -> {value}  {'PASS' if ok else 'FAIL'}")
    complete = all(p.complete for p in phases)
    print(
        "every message acked and answered exactly once"
        if complete
        else "INCOMPLETE: messages unacked, unanswered or answered twice (see above)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "benchmark": "answer_cpu",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "phases": [{**vars(p), "gateway_cpu_ms_per_reply": p.ms_per_reply()} for p in phases],
            "goals": [{"goal": g, "target": t, "value": v, "pass": ok} for g, t, v, ok in results],
        }
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    if not complete:
        return 1
    return 2 if args.check and not all(ok for *_, ok in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: gateways stopped, data removed", file=sys.stderr)
        sys.exit(130)
