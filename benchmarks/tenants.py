"""Tenants benchmark (issue 12): do ingest and answer cost stay flat from 1 to 200 tenants?

What it does, for each tenant count N (--tenants, default 1,10,50,200)
  A fresh gateway on a fresh database (embedded PostgreSQL, or a new database on
  --database-url), so every N starts from the same empty tables and cold caches and N is the
  only thing that changes; a gateway that kept its tenants between runs would measure N = 200
  on tables the earlier runs filled. The fake Graph API and the fake AI (`wagate fake meta`,
  `wagate fake openai`, answering at once) run once for the whole benchmark and are emptied
  between runs; each of the 200 possible numbers has its own token there.

  setup    N tenants added through the operator API (`POST /api/tenants` with a system prompt
           naming the tenant, then `POST /api/tenants/{id}/channels`: a Meta number and its
           token), timed.
  answer   `wagate serve --no-worker` plus one `wagate worker`, debounce 0, rate limit lifted,
           pair pacing off. One message answered end to end (the worker is up), then one
           message per tenant ("first": each tenant's first answer, paced at --rate), then
           the measured stream: --rate messages/s for --answer-seconds, round-robin over the
           tenants, every message from a new sender. Per message: webhook write → the reply
           reaching the fake Graph API (p50/p99 ms); gateway CPU (web + worker) per answered
           message over the stream and its drain. Checks: every send to one of our senders
           went out from its tenant's number with that tenant's token (and was accepted), and
           every AI request for a message carried that tenant's system prompt.
  ingest   the worker is stopped (so it competes for nothing), then signed Meta text webhooks
           spread round-robin over the N numbers, --concurrency keep-alive connections
           (default 32), --warmup then --duration seconds, from the load process of _load.py:
           acks/s, p50/p99 ms, gateway (web) CPU ms per ack. Durability: rows stored ==
           acks, and per tenant, the rows each tenant got == the requests sent to its number.

  Then the table per N and the ratios against the first N (flat: near 1.0×).

How to read the cpu figures: ms of CPU time per ack / per answered message, so a machine that
is busy elsewhere changes them less than the rates; still, "others" (cores used by every process
that is not ours) well above 0 means the machine was shared: rerun.

Exit status: 0 valid run, 1 when a check failed (errors, lost acks, a message unanswered, a
reply from the wrong number or with the wrong token or prompt).

    python benchmarks/tenants.py [--tenants 1,10,50,200] [--duration 5] [--warmup 1]
        [--rate 20] [--answer-seconds 10] [--database-url postgresql://postgres@127.0.0.1:5432/]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import (
    API_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    GatewayProcess,
    free_port,
    fresh_database,
    postmaster_pid,
)
from _load import CpuMeter, LoadProcess, LoadResult, LoadSpec, MetaWebhooks
from wagate.fakes.payloads import meta_text
from wagate.providers.meta.signature import sign

MAX_TENANTS = 200  # numbers and tokens registered on the fake Graph API
ADMIN = {"Authorization": f"Bearer {API_TOKEN}"}
WEBHOOK_PATH = "/webhook/whatsapp"
INGEST_REQUESTS_PER_SECOND = 4000  # pre-built per second of ingest: well above what it acks
INGEST_SENDERS = 200
BUSY_MACHINE = 0.15  # cores used by other processes above which the figures are suspect
# q<phase>-<index>: x the worker check, w a tenant's first message, m the measured stream.
MARKER = re.compile(r"\bq([xwm])-(\d+)\b")
PROMPT_TAG = re.compile(r"TENANT-PROMPT\[([a-z0-9-]+)\]")

GATEWAY_ENV = {
    "AI_MODEL": "bench",
    "AI_API_KEY": "bench",
    "DEBOUNCE_SECONDS": "0",
    "RATE_LIMIT_PER_MINUTE": "1000000",
    "PAIR_INTERVAL_SECONDS": "0",
    "HISTORY_MESSAGES": "20",
}


def tenant_id(k: int) -> str:
    return f"firm-{k:03d}"


def tenant_number(k: int) -> str:
    return f"31{k:013d}"  # never the platform's own number (PHONE_NUMBER_ID)


def tenant_token(k: int) -> str:
    return f"token-{tenant_id(k)}"


def tenant_prompt(k: int) -> str:
    return f"Kamu asisten toko TENANT-PROMPT[{tenant_id(k)}]. Jawab singkat dan sopan."


# ------------------------------------------------------------------------------ the fakes


class FakePeer:
    """`wagate fake meta|openai` in its own process: its pid (for the CPU meter), what it was
    asked, and a reset between runs."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "wagate", "fake", kind, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if self.http.get("/_fake/requests").status_code == 200:
                    return
            if self._popen.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"fake {kind} did not start")

    @property
    def pid(self) -> int:
        return self._popen.pid

    def requests(self, kind: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.get("/_fake/requests", params={"kind": kind}).json()
        return found

    def reset(self) -> None:
        self.http.delete("/_fake/requests").raise_for_status()

    def stop(self) -> None:
        self.http.close()
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(10)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()


@contextlib.contextmanager
def fakes() -> Iterator[tuple[FakePeer, FakePeer]]:
    with contextlib.ExitStack() as stack:
        graph = FakePeer("meta")
        stack.callback(graph.stop)
        ai = FakePeer("openai")
        stack.callback(ai.stop)
        for k in range(MAX_TENANTS):  # each tenant's number accepts its own token only
            graph.http.post(
                "/_fake/token",
                json={"access_token": tenant_token(k), "phone_number_id": tenant_number(k)},
            ).raise_for_status()
        yield graph, ai


# ------------------------------------------------------------------------------- figures


@dataclass(kw_only=True)
class Answer:
    """The paced stream's figures (and the first-message pass's latency)."""

    sent: int
    answered: int
    errors: int  # webhooks without a 200
    p50_ms: float
    p99_ms: float
    max_ms: float
    worker_ready_s: float  # worker started → its first message answered
    first_p50_ms: float  # each tenant's first message
    first_p99_ms: float
    first_cpu_ms: float  # gateway CPU per first message (each tenant's first-use costs)
    seconds: float  # from the first write until the last answer was seen
    cpu_ms_per_reply: dict[str, float]  # gateway (web + worker), web, worker, postgres
    cpu: dict[str, float]  # cores busy over the window, by owner
    wrong_number: int  # sends to our senders from another number than their tenant's
    wrong_token: int  # … or with another token, or refused by the fake Graph API
    wrong_prompt: int  # AI requests without the tenant's own system prompt
    prompt_checked: int


@dataclass(kw_only=True)
class Ingest:
    load: LoadResult
    cpu_ms_per_ack: dict[str, float]  # gateway, postgres
    stored: int  # rows added to inbound_messages
    misrouted: int  # tenants whose stored rows differ from the requests sent to their number

    @property
    def durable(self) -> bool:
        return self.stored == self.load.ok and self.misrouted == 0


@dataclass(kw_only=True)
class Run:
    tenants: int
    gateway_start_s: float
    setup_s: float
    answer: Answer
    ingest: Ingest
    # The gateway's warnings and errors (it logs at WARNING), by event: a failed attempt
    # costs CPU and latency that the figures then include.
    log_events: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def others(self) -> float:
        return max(self.answer.cpu.get("others", 0.0), self.ingest.load.cpu.get("others", 0.0))


# ------------------------------------------------------------------------------- tenants


def add_tenants(gateway: GatewayProcess, count: int) -> float:
    """Add tenants 0…count-1 with their number and token; seconds taken."""
    started = time.perf_counter()
    with httpx.Client(base_url=gateway.url, headers=ADMIN, timeout=60) as admin:
        for k in range(count):
            created = admin.post(
                "/api/tenants",
                json={
                    "id": tenant_id(k),
                    "name": f"Firm {k}",
                    "settings": {"system_prompt": tenant_prompt(k)},
                },
            )
            if created.status_code != 201:
                raise RuntimeError(f"adding {tenant_id(k)}: {created.status_code} {created.text}")
            channel = {"provider": "meta", "channel": tenant_number(k), "token": tenant_token(k)}
            added = admin.post(f"/api/tenants/{tenant_id(k)}/channels", json=channel)
            if added.status_code != 201:
                raise RuntimeError(f"channel of {tenant_id(k)}: {added.status_code} {added.text}")
    return time.perf_counter() - started


# -------------------------------------------------------------------------------- answer


@dataclass(frozen=True)
class Message:
    marker: str
    tenant: int
    sender: str
    body: bytes
    signature: str


def message(phase: str, index: int, tenant: int) -> Message:
    prefix = {"x": "62819", "w": "62817", "m": "62816"}[phase]
    sender = f"{prefix}{index:08d}"  # a new sender per message: no merging, no history
    marker = f"q{phase}-{index}"
    body = orjson.dumps(
        meta_text(
            phone_number_id=tenant_number(tenant),
            sender=sender,
            text=f"Halo, saya mau tanya soal pesanan {marker} ya",
        )
    )
    return Message(marker, tenant, sender, body, sign(body, APP_SECRET))


async def send_paced(
    url: str, messages: list[Message], rate: float
) -> tuple[dict[str, float], int]:
    """Write message i at start + i / rate (open loop); write times by marker, and errors."""
    written: dict[str, float] = {}
    errors = 0
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=64)
    ) as client:
        start = time.time()

        async def one(i: int, m: Message) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, start + i / rate - time.time()))
            written[m.marker] = time.time()
            response = await client.post(
                WEBHOOK_PATH,
                content=m.body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": m.signature},
            )
            if response.status_code != 200:
                errors += 1

        await asyncio.gather(*(one(i, m) for i, m in enumerate(messages)))
    return written, errors


def answered_at(graph: FakePeer) -> dict[str, float]:
    """Earliest reply time per marker, from the sends the fake Graph API received."""
    answers: dict[str, float] = {}
    for request in graph.requests("send"):
        text = str(request["body"].get("text", {}).get("body", ""))
        for phase, index in MARKER.findall(text):
            marker = f"q{phase}-{index}"
            answers[marker] = min(answers.get(marker, request["at"]), request["at"])
    return answers


def wait_answered(graph: FakePeer, markers: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    answers = answered_at(graph)
    while not markers <= answers.keys() and time.monotonic() < deadline:
        time.sleep(0.25)
        answers = answered_at(graph)
    return answers


def stream(
    url: str, graph: FakePeer, messages: list[Message], rate: float
) -> tuple[list[float], int, int, float]:
    """Send paced and wait for every answer: latencies (ms), answered, errors, seconds."""
    started = time.time()
    written, errors = asyncio.run(send_paced(url, messages, rate))
    timeout = 60 + len(messages) / rate
    answers = wait_answered(graph, set(written), timeout)
    latencies = [(answers[m] - t) * 1000 for m, t in written.items() if m in answers]
    return latencies, len(latencies), errors, time.time() - started


def check_routing(
    graph: FakePeer, ai: FakePeer, messages: list[Message]
) -> tuple[int, int, int, int]:
    """Sends to our senders from the wrong number / with the wrong token; AI requests of our
    messages without their tenant's prompt, and how many AI requests were checked."""
    owner = {m.sender: m.tenant for m in messages}
    wrong_number = wrong_token = 0
    for send in graph.requests("send"):
        tenant = owner.get(str(send["body"].get("to")))
        if tenant is None:
            continue
        wrong_number += send["phone_number_id"] != tenant_number(tenant)
        wrong_token += send["token"] != tenant_token(tenant) or not send["authorized"]
    by_marker = {m.marker: m.tenant for m in messages}
    wrong_prompt = checked = 0
    for chat in ai.requests("chat"):
        turns = chat["body"].get("messages") or []
        found = MARKER.search(str(turns[-1].get("content"))) if turns else None
        if found is None or found.group(0) not in by_marker:
            continue
        checked += 1
        system = " ".join(str(t.get("content")) for t in turns if t.get("role") == "system")
        tags = set(PROMPT_TAG.findall(system))
        wrong_prompt += tags != {tenant_id(by_marker[found.group(0)])}
    return wrong_number, wrong_token, wrong_prompt, checked


def run_answer(
    args: argparse.Namespace, gateway: GatewayProcess, graph: FakePeer, ai: FakePeer, n: int
) -> Answer:
    clock = time.perf_counter()
    worker = gateway.start_worker()
    check = [message("x", 0, 0)]
    _, answered, errors, _ = stream(gateway.url, graph, check, 1.0)
    if errors or answered != 1:
        raise RuntimeError(
            "the first message was not answered: is the worker running?\n" + gateway.log_tail()
        )
    worker_ready = time.perf_counter() - clock
    watch = {"web": gateway.pid, "worker": worker, "graph": graph.pid, "ai": ai.pid}
    assert gateway.database_url is not None
    server = postmaster_pid(gateway.database_url)
    if server is not None:
        watch["postgres"] = server

    first = [message("w", k, k) for k in range(n)]
    first_meter = CpuMeter(watch)
    first_meter.start()
    first_latencies, first_answered, first_errors, _ = stream(gateway.url, graph, first, args.rate)
    first_meter.stop()

    measured = [message("m", i, i % n) for i in range(int(args.rate * args.answer_seconds))]
    meter = CpuMeter(watch)
    meter.start()
    latencies, answered, errors, seconds = stream(gateway.url, graph, measured, args.rate)
    meter.stop()
    everything = [*check, *first, *measured]
    wrong_number, wrong_token, wrong_prompt, checked = check_routing(graph, ai, everything)
    ordered, first_ordered = sorted(latencies), sorted(first_latencies)
    return Answer(
        sent=len(measured),
        answered=answered,
        errors=errors + first_errors + (n - first_answered),
        p50_ms=percentile(ordered, 50),
        p99_ms=percentile(ordered, 99),
        max_ms=ordered[-1] if ordered else math.nan,
        worker_ready_s=worker_ready,
        first_p50_ms=percentile(first_ordered, 50),
        first_p99_ms=percentile(first_ordered, 99),
        first_cpu_ms=cpu_ms_per_message(first_meter, first_answered)["gateway"],
        seconds=seconds,
        cpu_ms_per_reply=cpu_ms_per_message(meter, answered),
        cpu=meter.cores,
        wrong_number=wrong_number,
        wrong_token=wrong_token,
        wrong_prompt=wrong_prompt,
        prompt_checked=checked,
    )


def cpu_ms_per_message(meter: CpuMeter, answered: int) -> dict[str, float]:
    """CPU ms per answered message: gateway (web + worker), web, worker, postgres."""
    seconds = {name: cores * meter.elapsed for name, cores in meter.cores.items()}
    parts = {
        "gateway": seconds["web"] + seconds["worker"],
        "web": seconds["web"],
        "worker": seconds["worker"],
        "postgres": seconds.get("postgres", math.nan),
    }
    return {k: 1000 * v / answered if answered else math.nan for k, v in parts.items()}


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


# -------------------------------------------------------------------------------- ingest


def stored_by_tenant(database_url: str) -> Counter[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT tenant, count(*) FROM inbound_messages GROUP BY tenant")
        return Counter({str(tenant): int(count) for tenant, count in rows})


def run_ingest(
    args: argparse.Namespace, gateway: GatewayProcess, load: LoadProcess, n: int
) -> Ingest:
    gateway.stop_worker()  # the answer phase is over: nothing else uses the CPU
    assert gateway.database_url is not None
    before = stored_by_tenant(gateway.database_url)
    plan = MetaWebhooks(
        path=WEBHOOK_PATH,
        count=int((args.warmup + args.duration) * INGEST_REQUESTS_PER_SECOND),
        app_secret=APP_SECRET,
        phone_number_id=PHONE_NUMBER_ID,
        phone_number_ids=tuple(tenant_number(k) for k in range(n)),
        # 200 senders: request i is (sender i % 200, tenant i % n), so for every n dividing
        # 200 there are 200 conversations: the same work for every tenant count.
        senders=INGEST_SENDERS,
        id_prefix=f"wamid.BENCHTENANTS.{os.getpid()}.n{n}.",
    )
    spec = LoadSpec(
        host=gateway.host,
        port=gateway.port,
        concurrency=args.concurrency,
        warmup=args.warmup,
        duration=args.duration,
        plan=plan,
    )
    watch = {"gateway": gateway.pid}
    server = postmaster_pid(gateway.database_url)
    if server is not None:
        watch["postgres"] = server
    result = load.run(spec, watch=watch)
    after = stored_by_tenant(gateway.database_url)
    added = after - before
    # Requests are written in plan order, so request i went to tenant i % n.
    expected = Counter(
        {tenant_id(k): len(range(k, result.sent, n)) for k in range(n) if k < result.sent}
    )
    misrouted = sum(1 for k in range(n) if added[tenant_id(k)] != expected[tenant_id(k)])
    misrouted += sum(1 for t in added if t not in expected)
    per_ack = {
        name: 1000 * result.cpu.get(name, math.nan) * result.duration / result.completed
        if result.completed
        else math.nan
        for name in ("gateway", "postgres")
    }
    return Ingest(
        load=result,
        cpu_ms_per_ack=per_ack,
        stored=sum(added.values()),
        misrouted=misrouted if result.errors == 0 else 0,
    )


# ----------------------------------------------------------------------------------- a run


def run_one(
    args: argparse.Namespace, n: int, graph: FakePeer, ai: FakePeer, load: LoadProcess
) -> Run:
    graph.reset()
    ai.reset()
    env = {
        **GATEWAY_ENV,
        "META_GRAPH_URL": f"{graph.url}/v22.0",
        "AI_BASE_URL": f"{ai.url}/v1",
        "WORKER_CONCURRENCY": str(args.worker_concurrency),
    }
    with contextlib.ExitStack() as stack:
        database_url = None
        if args.database_url:
            database_url = stack.enter_context(fresh_database(args.database_url))
        clock = time.perf_counter()
        gateway = stack.enter_context(GatewayProcess(database_url=database_url, extra_env=env))
        started = time.perf_counter() - clock
        print(f"  N = {n}: gateway up in {started:.1f} s · setup …", end="", flush=True)
        setup = add_tenants(gateway, n)
        print(f" {setup:.1f} s · answer …", end="", flush=True)
        answer = run_answer(args, gateway, graph, ai, n)
        print(f" p50 {answer.p50_ms:.0f} ms · ingest …", end="", flush=True)
        ingest = run_ingest(args, gateway, load, n)
        print(f" {ingest.load.rate:,.0f} acks/s", flush=True)
        events = log_events(gateway.log_path)
    run = Run(
        tenants=n,
        gateway_start_s=started,
        setup_s=setup,
        answer=answer,
        ingest=ingest,
        log_events=events,
    )
    run.problems = problems(run)
    return run


def log_events(path: Path) -> dict[str, int]:
    """`level event` → count, from the gateway's JSON log lines (web and worker)."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(FileNotFoundError), path.open("rb") as log:
        for line in log:
            with contextlib.suppress(orjson.JSONDecodeError):
                entry = orjson.loads(line)
                if isinstance(entry, dict) and "event" in entry:
                    counts[f"{entry.get('level', '?')} {entry['event']}"] += 1
    return dict(counts.most_common())


def problems(run: Run) -> list[str]:
    found = []
    a, i = run.answer, run.ingest
    if a.errors:
        found.append(f"{a.errors} first messages or webhooks not answered / not acked")
    if a.answered != a.sent:
        found.append(f"{a.sent - a.answered} of {a.sent} measured messages unanswered")
    if a.wrong_number or a.wrong_token:
        found.append(f"replies: {a.wrong_number} from a wrong number, {a.wrong_token} wrong token")
    if a.wrong_prompt or a.prompt_checked < a.sent:
        found.append(
            f"AI requests: {a.wrong_prompt} without the tenant's prompt, {a.prompt_checked} checked"
        )
    if i.load.errors:
        found.append(
            f"ingest: {i.load.errors} requests without a 200 ({i.load.statuses}, {i.load.failures})"
        )
    if i.load.exhausted:
        found.append("ingest ran out of pre-built requests: the window ended early")
    if i.stored != i.load.ok:
        found.append(f"ingest: {i.load.ok} acked, {i.stored} stored")
    if i.misrouted:
        found.append(f"ingest: {i.misrouted} tenants got other rows than were sent to them")
    return found


# ------------------------------------------------------------------------------ printing


def _num(value: float, digits: int = 1) -> str:
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


Column = tuple[str, int, int, Callable[[Run], float]]  # title, width, digits, value of a run
COLUMNS: tuple[Column, ...] = (
    ("acks/s", 8, 0, lambda r: r.ingest.load.rate),
    ("p50", 7, 1, lambda r: r.ingest.load.p50_ms),
    ("p99", 7, 1, lambda r: r.ingest.load.p99_ms),
    ("cpu/ack", 8, 3, lambda r: r.ingest.cpu_ms_per_ack["gateway"]),
    ("pg/ack", 7, 3, lambda r: r.ingest.cpu_ms_per_ack["postgres"]),
    ("p50", 8, 1, lambda r: r.answer.p50_ms),
    ("p99", 8, 1, lambda r: r.answer.p99_ms),
    ("cpu/rep", 8, 2, lambda r: r.answer.cpu_ms_per_reply["gateway"]),
    ("pg/rep", 7, 2, lambda r: r.answer.cpu_ms_per_reply["postgres"]),
    ("1st p50", 8, 1, lambda r: r.answer.first_p50_ms),
    ("1st cpu", 8, 2, lambda r: r.answer.first_cpu_ms),
    ("setup/t", 8, 1, lambda r: 1000 * r.setup_s / r.tenants),
    ("ready", 6, 1, lambda r: r.answer.worker_ready_s),
)
GROUP_STARTS = (0, 5, 11)  # ingest, answer, start-up


def print_table(runs: list[Run], args: argparse.Namespace) -> None:
    print()
    title = f"{'':>8}"
    for width, name in zip(
        (
            sum(c[1] for c in COLUMNS[a:b])
            for a, b in zip(GROUP_STARTS, (*GROUP_STARTS[1:], None), strict=True)
        ),
        (f"ingest, c = {args.concurrency}", f"answer, {args.rate:g} msg/s paced", "start-up"),
        strict=True,
    ):
        title += f" │{name:^{width}}"
    print(title)
    header = f"{'tenants':>8}"
    for i, (name, width, _, _) in enumerate(COLUMNS):
        header += (" │" if i in GROUP_STARTS else "") + f"{name:>{width}}"
    header += f" │{'others':>7}"
    print(header)
    print("─" * len(header))
    for run in runs:
        line = f"{run.tenants:>8}"
        for i, (_, width, digits, value) in enumerate(COLUMNS):
            line += (" │" if i in GROUP_STARTS else "") + f"{_num(value(run), digits):>{width}}"
        print(line + f" │{run.others:>7.2f}")
    base = runs[0]
    print(f"ratio against N = {base.tenants}:")
    for run in runs[1:]:
        line = f"{run.tenants:>8}"
        for i, (_, width, _, value) in enumerate(COLUMNS):
            ratio = _ratio(value(run), value(base))
            line += (" │" if i in GROUP_STARTS else "") + f"{_num(ratio, 2) + '×':>{width}}"
        print(line + " │")
    print()
    print(
        "latencies in ms; cpu/ack, cpu/rep: gateway CPU ms per durable ack (web process) and per\n"
        "answered message (web + worker); pg/…: PostgreSQL's. 1st p50, 1st cpu: the same for each\n"
        "tenant's first message (before the measured stream). setup/t: ms per tenant added\n"
        "through the API (tenant + channel); ready: s from worker start to its first answer.\n"
        "others: most cores used by every other process in a window (well above 0: shared machine)."
    )


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def print_checks(runs: list[Run]) -> None:
    print()
    for run in runs:
        a, i = run.answer, run.ingest
        verdict = "OK" if not run.problems else "FAILED: " + "; ".join(run.problems)
        print(
            f"N = {run.tenants}: answered {a.answered}/{a.sent}, replies from the right number "
            f"and token, {a.prompt_checked} AI requests with their tenant's prompt; ingest "
            f"{i.load.ok} acked, {i.stored} stored  {verdict}"
        )
        if run.log_events:
            shown = ", ".join(f"{event} ×{count}" for event, count in run.log_events.items())
            print(f"        gateway log: {shown}")
    others = max(run.others for run in runs)
    if others > BUSY_MACHINE:
        print(
            f"warning: other processes used up to {others:.2f} cores during a window; "
            "the figures are perturbed: rerun on a quieter machine."
        )


# ---------------------------------------------------------------------------------- JSON


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


def report(args: argparse.Namespace, runs: list[Run], started: datetime) -> dict[str, Any]:
    return {
        "benchmark": "tenants",
        "started_at": started.isoformat(),
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "database": "external" if args.database_url else "embedded",
        "settings": {
            "concurrency": args.concurrency,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "rate": args.rate,
            "answer_seconds": args.answer_seconds,
        },
        "runs": [
            {
                "tenants": r.tenants,
                "gateway_start_s": r.gateway_start_s,
                "setup_s": r.setup_s,
                "answer": asdict(r.answer),
                "ingest": {**asdict(r.ingest), "durable": r.ingest.durable},
                "others_max_cores": r.others,
                "log_events": r.log_events,
                "problems": r.problems,
            }
            for r in runs
        ],
        "valid": not any(r.problems for r in runs),
    }


# ----------------------------------------------------------------------------------- main


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("tenant counts are integers, e.g. 1,10,50,200") from None
    if not counts or min(counts) < 1 or max(counts) > MAX_TENANTS:
        raise argparse.ArgumentTypeError(f"tenant counts must be between 1 and {MAX_TENANTS}")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest and answer cost of one gateway serving 1 … 200 tenants."
    )
    parser.add_argument(
        "--tenants",
        type=_counts,
        default=_counts("1,10,50,200"),
        help="comma-separated tenant counts (default: 1,10,50,200)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=5.0,
        help="measured ingest seconds per tenant count (default: 5)",
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="ingest warm-up seconds (default: 1)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="ingest keep-alive connections (default: 32)"
    )
    parser.add_argument(
        "--rate", type=float, default=20.0, help="answer stream, messages per second (default: 20)"
    )
    parser.add_argument(
        "--answer-seconds",
        type=float,
        default=10.0,
        help="answer stream length in seconds (default: 10)",
    )
    parser.add_argument("--worker-concurrency", type=int, default=16)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to use instead of the embedded one; a fresh "
        "database wagate_bench_<pid> is created per tenant count and dropped",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.rate <= 0 or args.answer_seconds <= 0:
        parser.error("--duration, --rate and --answer-seconds must be > 0, --warmup >= 0")
    if args.concurrency < 1 or args.worker_concurrency < 1:
        parser.error("--concurrency and --worker-concurrency must be at least 1")
    if args.rate * args.answer_seconds < 1:
        parser.error("--rate × --answer-seconds must make at least one message")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so everything is cleaned up
    started = datetime.now(UTC)
    where = (
        "external PostgreSQL (fresh database each)" if args.database_url else "embedded PostgreSQL"
    )
    print(
        f"wagate tenants benchmark · {where} · {os.cpu_count()} CPUs · tenants "
        f"{','.join(map(str, args.tenants))} · answer {args.rate:g} msg/s × "
        f"{args.answer_seconds:g} s · ingest c = {args.concurrency}, "
        f"{args.warmup:g} s + {args.duration:g} s"
    )
    runs = []
    with fakes() as (graph, ai), LoadProcess() as load:
        for n in args.tenants:
            runs.append(run_one(args, n, graph, ai, load))
    print_table(runs, args)
    print_checks(runs)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_clean(report(args, runs, started)), indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 1 if any(run.problems for run in runs) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: gateway and fakes stopped, data removed", file=sys.stderr)
        sys.exit(130)
