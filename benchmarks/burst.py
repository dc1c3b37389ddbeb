"""Burst test: ten times the normal load for a minute, then how long the backlog takes to drain.

What it does
  Starts the gateway with its worker (one process, or --separate-worker) on embedded
  PostgreSQL (or on a fresh database created on --database-url and dropped afterwards), with
  the fake Graph API and the fake OpenAI-compatible AI (answering at once) as processes of
  their own, debounce 0 and the rate limit lifted, so every message is answered. After one
  warm-up message answered end to end, a sender in its own process offers --multiplier ×
  NORMAL_RATE signed Meta text webhooks per second for --seconds, round-robin over
  --conversations senders, on an open-loop schedule: message i is due at start + i / rate
  whatever the gateway does, over --connections keep-alive connections. When all of them
  are busy, due messages wait in the sender; that wait is reported as sender lag.

  While it runs and until the backlog has drained, PostgreSQL is sampled every second: jobs
  waiting or running in procrastinate_jobs, and inbound messages not yet processed; so are
  the resident memory of the gateway's processes and the memory of PostgreSQL's. The fake
  Graph API stamps each reply it receives; a message counts as answered when a reply
  containing its marker arrived (several messages of one conversation may share a reply: the
  queue merges a conversation's waiting messages into one job).

How to read it
  offered      messages written per second, from the burst's start to the last write, against
               the target; sender lag is how late a write was against its schedule. High lag
               with the client well below one core means the gateway held the connections.
  acks/s       200 responses per second: overall, and the spread of the per-second counts.
  ack latency  write → 200 (the durable acknowledgement), p50/p99/max.
  end-to-end   write → reply stamped by the fake Graph API, p50/p99/max.
  drain        from the last write until the last acked message was answered; "queue empty"
               is the first sample after the last write with no job waiting or running and no
               unprocessed message (1 s resolution).
  cpu          cores used during the burst and during the drain by each process tree;
               "others" is every other process alive at the end of the window (a shared
               machine shows here), "unattributed" the rest of the machine's busy time:
               processes that ended inside the window (someone's test run) and the kernel.

Exit status: 0 for a valid run (every message acked with a 200 and every acked message
answered before --drain-timeout); 1 otherwise.

    /tmp/venv/bin/python benchmarks/burst.py                          # 10 × 50 msg/s for 60 s
    /tmp/venv/bin/python benchmarks/burst.py --seconds 5 --multiplier 2          # smoke run
    /tmp/venv/bin/python benchmarks/burst.py [--conversations 500] [--connections 64]
        [--worker-concurrency 16] [--separate-worker] [--drain-timeout 600] [--every 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    GatewayProcess,
    free_port,
    fresh_database,
    postmaster_pid,
)
from _load import CpuMeter, http_request, read_response
from wagate.fakes.payloads import meta_text
from wagate.providers.meta.signature import sign

NORMAL_RATE = 50.0  # messages per second: the "normal load" the burst multiplies
WEBHOOK_PATH = "/webhook/whatsapp"
MARKER = re.compile(r"\bq-(\d+)\b")  # "q-<message index>", echoed back by the fake AI
WARM_UP_MARKER = "q-999999999"
LATE_MS = 100.0  # sender lag p99 above this is called out: the schedule slipped
SAMPLE_EVERY = 1.0  # seconds between PostgreSQL / memory samples
LIVE_EVERY = 10.0  # seconds between progress lines on stderr
# Once the queue is empty, every reply has been or is about to be sent: a message still
# missing this long afterwards is lost, and waiting for the drain timeout would not help.
LOST_AFTER_EMPTY = 30.0
QUEUE_DEPTH_SQL = """
SELECT (SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'),
       (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'),
       (SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL)
"""


# ------------------------------------------------------------------------------ the sender


@dataclass(frozen=True, kw_only=True)
class BurstSpec:
    host: str
    port: int
    rate: float  # messages per second offered
    seconds: float
    conversations: int
    connections: int
    request_timeout: float
    id_prefix: str  # provider message ids must be unique per run
    first_sender: int = 0  # senders are numbered from here (a later run: new senders)

    @property
    def total(self) -> int:
        return round(self.rate * self.seconds)


@dataclass(kw_only=True)
class SendLog:
    """What happened to each message, by index; times are wall-clock (time.time()), the clock
    the fake Graph API stamps replies with, so the two compare directly."""

    started: float  # the schedule's origin: message i is due at started + i / rate
    written: list[float]  # when it was written (nan: never sent)
    responded: list[float]  # when its response (or failure) came back (nan: never sent)
    status: list[int]  # HTTP status; 0: no response (see failures)
    failures: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0


def sender_number(conversation: int) -> str:
    return f"62816{conversation:08d}"


def build_requests(spec: BurstSpec) -> list[bytes]:
    """Every request, signed, before the clock starts: the burst spends no CPU on JSON or
    HMAC, so the schedule is kept for as long as the sockets allow."""
    authority = f"{spec.host}:{spec.port}"
    requests = []
    for i in range(spec.total):
        body = orjson.dumps(
            meta_text(
                phone_number_id=PHONE_NUMBER_ID,
                sender=sender_number(spec.first_sender + i % spec.conversations),
                text=f"pertanyaan q-{i}",
                message_id=f"{spec.id_prefix}{i:09d}",
            )
        )
        requests.append(
            http_request(
                "POST",
                WEBHOOK_PATH,
                authority,
                body,
                Content_Type="application/json",
                X_Hub_Signature_256=sign(body, APP_SECRET),
            )
        )
    return requests


async def _connect(spec: BurstSpec) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(spec.host, spec.port, limit=1 << 20)


async def send_burst(
    spec: BurstSpec, requests: list[bytes], on_start: Callable[[float], None]
) -> SendLog:
    """Offer the requests on schedule; each connection takes the next due one when free."""
    streams = await asyncio.gather(*(_connect(spec) for _ in range(spec.connections)))
    count = len(requests)
    log = SendLog(
        started=0.0, written=[math.nan] * count, responded=[math.nan] * count, status=[0] * count
    )
    failures: Counter[str] = Counter()
    due: asyncio.Queue[int] = asyncio.Queue()
    origin = time.perf_counter()  # monotonic for the schedule, wall clock for the record
    log.started = time.time()
    on_start(log.started)

    async def schedule() -> None:
        for i in range(count):
            delay = origin + i / spec.rate - time.perf_counter()
            if delay > 0:  # when behind, everything already due is queued at once
                await asyncio.sleep(delay)
            due.put_nowait(i)
        for _ in streams:
            due.put_nowait(-1)  # one stop sign per connection, after the last message

    async def connection(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        reader, writer = stream
        while (i := await due.get()) >= 0:
            log.written[i] = time.time()
            keep_alive = False
            try:
                async with asyncio.timeout(spec.request_timeout):
                    writer.write(requests[i])
                    log.status[i], keep_alive = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                failures[type(exc).__name__] += 1
            log.responded[i] = time.time()
            if not keep_alive:
                writer.close()
                reconnected = await _reconnect(spec, failures)
                if reconnected is None:
                    return  # the gateway is gone; the other connections find out too
                reader, writer = reconnected
        writer.close()

    await asyncio.gather(schedule(), *(connection(s) for s in streams))
    log.failures = dict(failures)
    return log


async def _reconnect(
    spec: BurstSpec, failures: Counter[str]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    for _ in range(10):
        try:
            return await _connect(spec)
        except OSError as exc:
            failures[f"reconnect {type(exc).__name__}"] += 1
            await asyncio.sleep(0.5)
    return None


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def sender_main(conn: Connection) -> None:
    """The sender process: one BurstSpec in, ("built", s), ("started", t), ("done", SendLog)
    or ("error", text) out."""
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, EOFError):
        spec = conn.recv()
        try:
            clock = time.perf_counter()
            requests = build_requests(spec)
            built = time.perf_counter() - clock
            conn.send(("built", built))
            with _runner() as runner:
                log = runner.run(send_burst(spec, requests, lambda at: conn.send(("started", at))))
            log.build_seconds = built
            conn.send(("done", log))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class SenderProcess:
    """The sender in a spawned process: its own interpreter and event loop, so neither the
    samplers here nor the GIL of this process slow the schedule down."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, self._child = context.Pipe()
        self._process = context.Process(
            target=sender_main, args=(self._child,), name="wagate-burst-sender", daemon=True
        )

    def __enter__(self) -> SenderProcess:
        self._process.start()
        self._child.close()
        return self

    def __exit__(self, *_: object) -> None:
        self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        self._conn.close()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def start(self, spec: BurstSpec) -> None:
        self._conn.send(spec)

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        if self._conn.poll(timeout):
            message: tuple[str, Any] = self._conn.recv()
            return message
        if not self._process.is_alive():
            raise RuntimeError(f"sender process died (exit code {self._process.exitcode})")
        return None


# ------------------------------------------------------------------------ fakes and probes


@dataclass(frozen=True)
class FakeServer:
    url: str
    pid: int


@contextlib.contextmanager
def fake_server(kind: str) -> Iterator[FakeServer]:
    """`wagate fake <kind>` as a process (its pid is watched for CPU), stopped afterwards."""
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
        while not _answers(f"{url}/_fake/requests"):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"fake {kind} did not start")
            time.sleep(0.1)
        yield FakeServer(url, process.pid)
    finally:
        process.terminate()
        process.wait(10)


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=1).status_code == 200
    return False


@dataclass(frozen=True)
class Sample:
    at: float  # wall clock
    jobs_todo: int  # -1: the query failed
    jobs_doing: int
    unprocessed: int
    gateway_rss: int  # bytes, the gateway's processes (web, worker) without PostgreSQL
    postgres_pss: int  # bytes, PostgreSQL's processes (proportional: shared memory once)

    @property
    def jobs(self) -> int:
        return self.jobs_todo + self.jobs_doing

    @property
    def empty(self) -> bool:
        return self.jobs_todo == 0 and self.jobs_doing == 0 and self.unprocessed == 0


class Sampler:
    """Queue depth from PostgreSQL and memory from /proc, every SAMPLE_EVERY seconds, in a
    thread (its queries take milliseconds; the gateway and the sender are elsewhere)."""

    def __init__(self, database_url: str, gateway_pids: list[int], postgres: int | None) -> None:
        self._database_url = database_url
        self._gateway_pids = gateway_pids
        self._postgres = postgres
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="burst-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            clock = time.monotonic()
            if conn is None or conn.closed:
                # A lost connection is a missing sample, not a dead sampler: the drain
                # waits on these samples.
                with contextlib.suppress(psycopg.Error):
                    conn = psycopg.connect(self._database_url, autocommit=True, connect_timeout=5)
            self.samples.append(self._sample(conn))
            self._stop.wait(max(0.0, SAMPLE_EVERY - (time.monotonic() - clock)))
        if conn is not None:
            conn.close()

    def _sample(self, conn: psycopg.Connection[Any] | None) -> Sample:
        at = time.time()
        try:
            if conn is None:
                raise psycopg.OperationalError("not connected")
            row = conn.execute(QUEUE_DEPTH_SQL).fetchone()
            assert row is not None
            todo, doing, unprocessed = (int(v) for v in row)
        except psycopg.Error:
            todo = doing = unprocessed = -1
        postgres = self._tree(self._postgres) if self._postgres else []
        excluded = {p.pid for p in postgres}
        gateway = [p for pid in self._gateway_pids for p in self._tree(pid)]
        return Sample(
            at=at,
            jobs_todo=todo,
            jobs_doing=doing,
            unprocessed=unprocessed,
            gateway_rss=_memory(p for p in gateway if p.pid not in excluded),
            postgres_pss=_memory(postgres, proportional=True),
        )

    @staticmethod
    def _tree(pid: int) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        return []


def _memory(processes: Iterable[psutil.Process], *, proportional: bool = False) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            # PostgreSQL's backends all map its shared buffers: summed RSS would count them
            # once per backend. PSS shares them out (cheap here: /proc/<pid>/smaps_rollup).
            info = process.memory_full_info() if proportional else process.memory_info()
            total += int(getattr(info, "pss", info.rss))
    return total


def post_one(gateway: str, index: int, text: str) -> int:
    body = orjson.dumps(
        meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender_number(index), text=text)
    )
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    return httpx.post(f"{gateway}{WEBHOOK_PATH}", content=body, headers=headers).status_code


def warm_up(gateway: GatewayProcess, graph: str, ai: str) -> None:
    """One message answered end to end before the burst: the worker is up, its pools are open
    and first-use costs are paid. Then the fakes forget it, so replies are the burst's."""
    status = post_one(gateway.url, 99_999_999, f"pertanyaan {WARM_UP_MARKER}")
    if status != 200:
        raise SystemExit(f"the warm-up webhook got {status}\n{gateway.log_tail()}")
    deadline = time.monotonic() + 60
    while WARM_UP_MARKER not in httpx.get(f"{graph}/_fake/requests", timeout=10).text:
        if time.monotonic() > deadline:
            raise SystemExit(
                "the warm-up message was not answered: is the worker running?\n"
                + gateway.log_tail()
            )
        time.sleep(0.2)
    for fake in (graph, ai):
        httpx.delete(f"{fake}/_fake/requests", timeout=10)


@dataclass(kw_only=True)
class Replies:
    first: dict[int, float]  # message index → when the first reply containing it arrived
    replies: int  # replies (send requests) that carried at least one marker
    duplicates: int  # messages whose marker arrived in more than one reply


def fetch_replies(graph: str) -> Replies:
    response = httpx.get(f"{graph}/_fake/requests", params={"kind": "send"}, timeout=120)
    first: dict[int, float] = {}
    seen: Counter[int] = Counter()
    replies = 0
    for entry in orjson.loads(response.content):
        text = entry["body"].get("text", {}).get("body", "")
        found = {int(m) for m in MARKER.findall(text)}
        replies += bool(found)
        for index in found:
            seen[index] += 1
            first[index] = min(first.get(index, entry["at"]), entry["at"])
    return Replies(first=first, replies=replies, duplicates=sum(1 for n in seen.values() if n > 1))


def gateway_log_levels(log_text: str) -> tuple[Counter[str], Counter[str]]:
    """Lines of the gateway log by level, and warning-or-worse events by name."""
    levels: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for line in log_text.splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            levels["unparsed"] += 1  # tracebacks and anything printed outside the logger
            continue
        if not isinstance(record, dict):
            levels["unparsed"] += 1
            continue
        level = str(record.get("level", "?"))
        levels[level] += 1
        if level in ("warning", "error", "critical", "exception"):
            events[f"{level}: {record.get('event', '?')}"] += 1
    return levels, events


# -------------------------------------------------------------------------------- the run


@dataclass(kw_only=True)
class Run:
    spec: BurstSpec
    layout: str
    log: SendLog
    replies: Replies
    samples: list[Sample]
    ended: float  # wall clock: the drain was over (or given up on)
    cpu_burst: dict[str, float]
    cpu_drain: dict[str, float]
    log_levels: Counter[str]
    log_events: Counter[str]


def progress(text: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(text, file=sys.stderr, flush=True)


def live(sampler: Sampler, origin: float, phase: str) -> None:
    sample = sampler.latest
    if sample is None or sample.jobs_todo < 0:
        return
    progress(
        f"  {phase:>8} t={sample.at - origin:6.1f}s  jobs waiting {sample.jobs_todo:>5} "
        f"running {sample.jobs_doing:>3}  unprocessed messages {sample.unprocessed:>6}  "
        f"gateway {sample.gateway_rss / 2**20:.0f} MB"
    )


def run_burst(
    sender: SenderProcess, spec: BurstSpec, meter: CpuMeter, sampler: Sampler, timeout: float
) -> tuple[SendLog, dict[str, float]]:
    """Hand the spec to the sender and wait for its log; CPU is metered from its first
    scheduled message to its last response."""
    sender.start(spec)
    deadline = time.monotonic() + timeout
    origin: float | None = None
    next_live = math.inf
    while True:
        message = sender.receive(0.5)
        if message is not None:
            kind, value = message
            if kind == "built":
                progress(f"  {spec.total} webhooks built and signed in {value:.1f} s")
                deadline += value
            elif kind == "started":
                meter.start()
                origin = value
                next_live = time.monotonic() + LIVE_EVERY
                progress(f"  burst started: {spec.rate:g} msg/s for {spec.seconds:g} s")
            elif kind == "done":
                meter.stop()
                assert isinstance(value, SendLog)
                return value, meter.cores
            else:
                raise RuntimeError(f"sender failed: {value}")
        if origin is not None and time.monotonic() >= next_live:
            live(sampler, origin, "burst")
            next_live += LIVE_EVERY
        if time.monotonic() > deadline:
            raise RuntimeError("the sender did not finish in time")


def wait_drained(
    graph: str, log: SendLog, sampler: Sampler, timeout: float
) -> tuple[Replies, float]:
    """Until every acked message is answered, or the timeout, or the queue has been empty
    for LOST_AFTER_EMPTY with messages still unanswered. The fake's listing is large, so it
    is read only once PostgreSQL says nothing is left to do."""
    last_write = max((t for t in log.written if not math.isnan(t)), default=log.started)
    acked = {i for i, status in enumerate(log.status) if status == 200}
    deadline = time.monotonic() + timeout
    next_live = time.monotonic()
    empty_since: float | None = None
    while time.monotonic() < deadline:
        sample = sampler.latest
        if sample is not None and sample.at > last_write and sample.empty:
            replies = fetch_replies(graph)
            if acked <= replies.first.keys():
                return replies, time.time()
            empty_since = empty_since or time.monotonic()
            if time.monotonic() - empty_since > LOST_AFTER_EMPTY:
                progress("  queue empty but messages unanswered: giving up")
                break
        else:
            empty_since = None
        if time.monotonic() >= next_live:
            live(sampler, log.started, "drain")
            next_live += LIVE_EVERY
        time.sleep(SAMPLE_EVERY)
    return fetch_replies(graph), time.time()


def drive(
    args: argparse.Namespace,
    gateway: GatewayProcess,
    graph: FakeServer,
    ai: FakeServer,
    worker_pid: int | None,
) -> Run:
    assert gateway.database_url is not None
    postgres = postmaster_pid(gateway.database_url)
    spec = BurstSpec(
        host=gateway.host,
        port=gateway.port,
        rate=NORMAL_RATE * args.multiplier,
        seconds=args.seconds,
        conversations=args.conversations,
        connections=args.connections,
        request_timeout=30.0,
        id_prefix=f"wamid.BURST{os.getpid()}x",
    )
    gateway_pids = [gateway.pid] if worker_pid is None else [gateway.pid, worker_pid]
    with SenderProcess() as sender, Sampler(gateway.database_url, gateway_pids, postgres) as s:
        # Trees are matched from the leaves up, so PostgreSQL counts apart even when the
        # embedded server runs under the gateway process.
        watch = {"client": sender.pid, "gateway": gateway.pid}
        if worker_pid is not None:
            watch["worker"] = worker_pid
        if postgres is not None:
            watch["postgres"] = postgres
        watch |= {"fake graph": graph.pid, "fake ai": ai.pid}
        log, cpu_burst = run_burst(sender, spec, CpuMeter(watch), s, args.seconds + 300)
        drain_meter = CpuMeter(watch)
        drain_meter.start()
        replies, ended = wait_drained(graph.url, log, s, args.drain_timeout)
        drain_meter.stop()
        samples = list(s.samples)
    try:
        log_text = gateway.log_path.read_text(errors="replace")
    except FileNotFoundError:
        log_text = ""
    levels, events = gateway_log_levels(log_text)
    return Run(
        spec=spec,
        layout=(
            "web process + 1 worker process"
            if worker_pid is not None
            else "1 process (web + worker)"
        ),
        log=log,
        replies=replies,
        samples=samples,
        ended=ended,
        cpu_burst=cpu_burst,
        cpu_drain=drain_meter.cores,
        log_levels=levels,
        log_events=events,
    )


# ------------------------------------------------------------------------------- figures


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def spread_ms(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": percentile(ordered, 50) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": (ordered[-1] * 1000) if ordered else math.nan,
    }


def summarise(run: Run) -> dict[str, Any]:
    spec, log, first = run.spec, run.log, run.replies.first
    origin = log.started
    # Message i is due at origin + i / rate, so a schedule kept perfectly writes its n
    # messages in n / rate: the last write plus one interval closes the window.
    interval = 1 / spec.rate
    sent = [i for i, t in enumerate(log.written) if not math.isnan(t)]
    acked = [i for i in sent if log.status[i] == 200]
    statuses = Counter(log.status[i] for i in sent)
    last_write = max((log.written[i] for i in sent), default=origin)
    last_ack = max((log.responded[i] for i in acked), default=origin)
    send_window = last_write - origin + interval
    ack_window = last_ack - origin + interval
    per_second = Counter(int(log.responded[i] - origin) for i in acked)
    burst_seconds = range(math.ceil(spec.seconds))
    ack_counts = sorted(per_second.get(second, 0) for second in burst_seconds)
    answered = [i for i in acked if i in first]
    last_answer = max((first[i] for i in answered), default=last_write)
    unanswered = len(acked) - len(answered)
    in_burst = sum(1 for i in answered if first[i] <= last_write)
    drain = last_answer - last_write if answered else math.nan
    queue_empty = next(
        (s.at - last_write for s in run.samples if s.at > last_write and s.empty), math.nan
    )
    depth = [s for s in run.samples if s.jobs_todo >= 0]
    deepest_jobs = max(depth, key=lambda s: s.jobs, default=None)
    deepest_backlog = max(depth, key=lambda s: s.unprocessed, default=None)
    sent_unanswered_acks = sum(1 for i in sent if log.status[i] != 200 and i in first)
    valid = len(sent) == spec.total and len(acked) == spec.total and unanswered == 0
    return {
        "target_rate": spec.rate,
        "planned": spec.total,
        "sent": len(sent),
        "unsent": spec.total - len(sent),
        "acked": len(acked),
        "non_200": {str(code): n for code, n in statuses.items() if code not in (0, 200)},
        "no_response": statuses.get(0, 0),
        "failures": log.failures,
        "build_seconds": log.build_seconds,
        "offered_rate": len(sent) / send_window,
        "send_seconds": send_window,
        "sender_lag": spread_ms([log.written[i] - origin - i * interval for i in sent]),
        "acks_per_s": len(acked) / ack_window,
        "acks_per_s_by_second": {
            "min": ack_counts[0] if ack_counts else math.nan,
            "p50": percentile(ack_counts, 50),
            "max": ack_counts[-1] if ack_counts else math.nan,
            "after_window": sum(n for sec, n in per_second.items() if sec >= len(burst_seconds)),
        },
        "ack_latency": spread_ms([log.responded[i] - log.written[i] for i in acked]),
        "answered": len(answered),
        "unanswered": unanswered,
        "answered_without_ack": sent_unanswered_acks,
        "replies": run.replies.replies,
        "duplicate_answers": run.replies.duplicates,
        "end_to_end": spread_ms([first[i] - log.written[i] for i in answered]),
        "answered_during_burst": in_burst,
        "answered_per_s_burst": in_burst / send_window,
        "answered_per_s_drain": (
            (len(answered) - in_burst) / drain if drain and drain > 0 else math.nan
        ),
        "answered_per_s_overall": len(answered) / (last_answer - origin) if answered else 0.0,
        "drain_seconds": drain if unanswered == 0 else math.nan,
        "queue_empty_after_seconds": queue_empty,
        "peak_jobs": deepest_jobs.jobs if deepest_jobs else math.nan,
        "peak_jobs_at": deepest_jobs.at - origin if deepest_jobs else math.nan,
        "peak_unprocessed": deepest_backlog.unprocessed if deepest_backlog else math.nan,
        "peak_unprocessed_at": deepest_backlog.at - origin if deepest_backlog else math.nan,
        "peak_gateway_rss_mb": max((s.gateway_rss for s in run.samples), default=0) / 2**20,
        "peak_postgres_pss_mb": max((s.postgres_pss for s in run.samples), default=0) / 2**20,
        "cpu_burst": run.cpu_burst,
        "cpu_drain": run.cpu_drain,
        "valid": valid,
    }


def series(run: Run, every: float) -> list[dict[str, float]]:
    """The run every `every` seconds from the burst's start, cumulative counts and the state
    of the queue at that moment (the last sample taken by then)."""
    log, first, origin = run.log, run.replies.first, run.log.started
    sent = [i for i, t in enumerate(log.written) if not math.isnan(t)]
    writes = sorted(log.written[i] for i in sent)
    acks = sorted(log.responded[i] for i in sent if log.status[i] == 200)
    answers = sorted(first[i] for i in sent if i in first)
    by_write = sorted((log.written[i], first[i] - log.written[i]) for i in sent if i in first)
    write_times = [w for w, _ in by_write]
    sample_times = [s.at for s in run.samples]
    end = max(run.ended, answers[-1] if answers else origin) - origin
    marks = [every * k for k in range(1, math.floor(end / every) + 1)]
    if not marks or marks[-1] < end:
        marks.append(end)
    rows = []
    previous = 0.0
    for t in marks:
        cut = origin + t
        at = bisect.bisect_right(sample_times, cut) - 1
        # A sample whose query failed (-1) shows as missing, like no sample at all.
        sample = run.samples[at] if at >= 0 and run.samples[at].jobs_todo >= 0 else None
        low = bisect.bisect_right(write_times, origin + previous)
        high = bisect.bisect_right(write_times, cut)
        window = sorted(latency for _, latency in by_write[low:high])
        acked_before = bisect.bisect_right(acks, origin + previous)
        acked = bisect.bisect_right(acks, cut)
        rows.append(
            {
                "t": t,
                "offered": bisect.bisect_right(writes, cut),
                "acked": acked,
                "acks_per_s": (acked - acked_before) / (t - previous),
                "answered": bisect.bisect_right(answers, cut),
                "e2e_p99_ms": percentile(window, 99) * 1000,
                "jobs_todo": sample.jobs_todo if sample else math.nan,
                "jobs_doing": sample.jobs_doing if sample else math.nan,
                "unprocessed": sample.unprocessed if sample else math.nan,
                "gateway_mb": sample.gateway_rss / 2**20 if sample else math.nan,
            }
        )
        previous = t
    return rows


# ------------------------------------------------------------------------------ printing


def _cell(value: float, width: int, decimals: int = 0) -> str:
    """A right-aligned figure; "-" where there is nothing to show (no sample, no message)."""
    return f"{'-' if math.isnan(value) else f'{value:.{decimals}f}':>{width}}"


def print_series(rows: list[dict[str, float]]) -> None:
    columns = [
        ("t s", "t", 7, 1),
        ("offered", "offered", 9, 0),
        ("acked", "acked", 8, 0),
        ("acks/s", "acks_per_s", 8, 0),
        ("answered", "answered", 10, 0),
        ("e2e p99 ms", "e2e_p99_ms", 12, 0),
        ("jobs todo", "jobs_todo", 11, 0),
        ("doing", "jobs_doing", 7, 0),
        ("unprocessed", "unprocessed", 13, 0),
        ("gateway MB", "gateway_mb", 12, 0),
    ]
    print("".join(f"{title:>{width}}" for title, _, width, _ in columns))
    for row in rows:
        print("".join(_cell(row[key], width, decimals) for _, key, width, decimals in columns))
    print("  (e2e p99: of the messages written in that step; jobs, unprocessed: the last sample)")


def _cores(cores: dict[str, float]) -> str:
    named = " · ".join(f"{name} {value:.2f}" for name, value in cores.items())
    # CpuMeter attributes the CPU of processes alive when the window closes; what processes
    # that ended inside it (other people's test runs, say) and the kernel used is the rest.
    rest = cores.get("machine", 0.0) - sum(v for k, v in cores.items() if k != "machine")
    return f"{named} · unattributed {rest:.2f}"


def _ms(spread: dict[str, float]) -> str:
    return (
        f"p50 {spread['p50_ms']:.1f} · p99 {spread['p99_ms']:.1f} · max {spread['max_ms']:.1f} ms"
    )


def print_summary(run: Run, f: dict[str, Any]) -> None:
    spec = run.spec
    rate_share = f["offered_rate"] / spec.rate
    acks = f["acks_per_s_by_second"]
    not_acked = f["sent"] - f["acked"]
    client_cores = f["cpu_burst"].get("client", math.nan)
    print()
    print("burst summary")
    print(
        f"  load          {spec.rate / NORMAL_RATE:g} × normal ({NORMAL_RATE:g} msg/s) = "
        f"{spec.rate:g} msg/s for {spec.seconds:g} s · {spec.conversations} conversations · "
        f"{spec.connections} connections · {run.layout}"
    )
    print(
        f"  offered       {f['sent']} of {f['planned']} sent in {f['send_seconds']:.1f} s = "
        f"{f['offered_rate']:.1f} msg/s ({rate_share:.1%} of target) · sender lag "
        f"{_ms(f['sender_lag'])} · client {client_cores:.2f} cores"
    )
    late = f["sender_lag"]["p99_ms"] > LATE_MS
    if rate_share < 0.98 or late:
        what = (
            f"the offered rate fell short of the target ({rate_share:.1%})"
            if rate_share < 0.98
            else f"writes ran late against the schedule (lag p99 > {LATE_MS:g} ms)"
        )
        cause = (
            "the client was CPU-bound"
            if client_cores > 0.85
            else "every connection was waiting for an ack: the gateway, not the client"
        )
        print(f"  NOTE          {what}; {cause}")
    print(
        f"  acked         {f['acked']} with 200 · not acked {not_acked} "
        f"(non-200 {f['non_200'] or 0}, no response {f['no_response']}, "
        f"failures {f['failures'] or 0}) · unsent {f['unsent']}"
    )
    print(
        f"  acks/s        {f['acks_per_s']:.1f} overall · per second of the burst min "
        f"{acks['min']} / p50 {acks['p50']} / max {acks['max']} · acks after the "
        f"window {acks['after_window']}"
    )
    print(f"  ack latency   {_ms(f['ack_latency'])}")
    print(
        f"  answered      {f['answered']} of {f['acked']} acked · unanswered "
        f"{f['unanswered']} · in {f['replies']} replies "
        f"({f['answered'] / max(1, f['replies']):.2f} messages per reply) · answered twice "
        f"{f['duplicate_answers']}"
    )
    print(f"  end-to-end    {_ms(f['end_to_end'])}")
    print(
        f"  answered/s    {f['answered_per_s_burst']:.1f} during the burst "
        f"({f['answered_during_burst']} answered by its end) · "
        f"{f['answered_per_s_drain']:.1f} during the drain · "
        f"{f['answered_per_s_overall']:.1f} overall"
    )
    print(
        f"  queue         peak {f['peak_jobs']} jobs waiting or running at "
        f"t={f['peak_jobs_at']:.0f}s · peak {f['peak_unprocessed']} unprocessed messages at "
        f"t={f['peak_unprocessed_at']:.0f}s"
    )
    if math.isnan(f["drain_seconds"]):
        print(f"  drain         NOT DRAINED: {f['unanswered']} acked messages unanswered")
    else:
        print(
            f"  drain         {f['drain_seconds']:.1f} s after the last write "
            f"({f['drain_seconds'] / spec.seconds:.2f} × the burst's length) · queue empty "
            f"after {f['queue_empty_after_seconds']:.0f} s"
        )
    print(
        f"  memory        gateway peak RSS {f['peak_gateway_rss_mb']:.0f} MB · PostgreSQL "
        f"peak PSS {f['peak_postgres_pss_mb']:.0f} MB"
    )
    print(f"  cpu burst     {_cores(f['cpu_burst'])} (cores of {os.cpu_count()})")
    print(f"  cpu drain     {_cores(f['cpu_drain'])}")
    levels = " · ".join(f"{name} {n}" for name, n in sorted(run.log_levels.items()))
    print(f"  gateway log   {levels or 'empty'} (WARNING and above)")
    for event, n in run.log_events.most_common(5):
        print(f"                {n} × {event}")
    verdict = "VALID" if f["valid"] else "INVALID"
    reason = (
        "every message acked and answered"
        if f["valid"]
        else "messages unsent, not acked or unanswered"
    )
    print(f"  verdict       {verdict}: {reason}")


# ---------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--multiplier", type=float, default=10.0, help="× NORMAL_RATE")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the burst")
    parser.add_argument("--conversations", type=int, default=500, help="distinct senders")
    parser.add_argument("--connections", type=int, default=64, help="sender connections")
    parser.add_argument("--worker-concurrency", type=int, default=16)
    parser.add_argument(
        "--separate-worker",
        action="store_true",
        help="web (serve --no-worker) and one `wagate worker` as two processes",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=600.0, help="seconds after the burst"
    )
    parser.add_argument("--every", type=float, default=5.0, help="time series step, seconds")
    parser.add_argument("--database-url", help="a server for a fresh database (else embedded)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    if args.multiplier <= 0 or args.seconds <= 0 or args.every <= 0:
        parser.error("--multiplier, --seconds and --every must be positive")
    if min(args.conversations, args.connections, args.worker_concurrency) < 1:
        parser.error("--conversations, --connections and --worker-concurrency must be >= 1")
    return args


def wagate_source() -> str:
    import wagate

    return str(Path(wagate.__file__).resolve().parent.parent)


def write_json(path: Path, args: argparse.Namespace, run: Run, figures: dict[str, Any]) -> None:
    report = {
        "benchmark": "burst",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "normal_rate": NORMAL_RATE,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "database": "external" if args.database_url else "embedded",
        "wagate_source": wagate_source(),
        "layout": run.layout,
        "figures": figures,
        "series": series(run, args.every),
        "samples": [{**asdict(s), "t": s.at - run.log.started} for s in run.samples],
        "gateway_log_levels": dict(run.log_levels),
        "gateway_log_events": dict(run.log_events),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # NaN is not JSON: figures that could not be measured are written as null.
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A SIGTERM unwinds the context managers: gateway, database and fakes stopped, data gone.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    where = "external PostgreSQL (fresh database)" if args.database_url else "embedded PostgreSQL"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"wagate burst test · {where} · fake AI answering at once · debounce 0 · "
        f"{os.cpu_count()} CPUs, load average before {load}"
    )
    # The gateway and the fakes run from whatever `wagate` this interpreter imports (PYTHONPATH
    # can point it at another checkout): say which, since the figures belong to that code.
    print(f"wagate from {wagate_source()}")
    env = {
        "DEBOUNCE_SECONDS": "0",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "WORKER_CONCURRENCY": str(args.worker_concurrency),
        "HISTORY_MESSAGES": "20",
        "AI_MODEL": "bench",
        "AI_API_KEY": "bench",
    }
    with contextlib.ExitStack() as stack:
        graph = stack.enter_context(fake_server("meta"))
        ai = stack.enter_context(fake_server("openai"))
        env |= {"META_GRAPH_URL": f"{graph.url}/v22.0", "AI_BASE_URL": f"{ai.url}/v1"}
        database_url = None
        if args.database_url:
            database_url = stack.enter_context(fresh_database(args.database_url))
        clock = time.perf_counter()
        gateway = stack.enter_context(
            GatewayProcess(
                database_url=database_url, worker=not args.separate_worker, extra_env=env
            )
        )
        worker_pid = gateway.start_worker() if args.separate_worker else None
        progress(f"  gateway up on {gateway.url} in {time.perf_counter() - clock:.1f} s")
        warm_up(gateway, graph.url, ai.url)
        run = drive(args, gateway, graph, ai, worker_pid)
    figures = summarise(run)
    print_series(series(run, args.every))
    print_summary(run, figures)
    if args.json:
        write_json(args.json, args, run, figures)
        print(f"figures written to {args.json}")
    return 0 if figures["valid"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: gateway stopped, data removed", file=sys.stderr)
        sys.exit(130)
