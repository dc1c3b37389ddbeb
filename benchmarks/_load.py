"""A lean HTTP/1.1 load generator that runs in its own process.

    with LoadProcess() as load:
        result = load.run(LoadSpec(host=..., port=..., concurrency=32, warmup=1, duration=5,
                                   plan=MetaWebhooks(...)), watch={"gateway": pid})

Each level opens `concurrency` keep-alive connections; each connection loops: write one
pre-built request, read the status line, headers and Content-Length body, repeat. All request
bytes (bodies, signatures) are built before the clock starts, in the load process, so the
measured window spends client CPU on sockets only. Latency is time.perf_counter_ns() from just
before the write to just after the body is read; a 200 counts for the window when it completes
inside it (anything else is an error, counted apart).

The load process only signals when the window opens and closes; the parent then samples the
CPU time of the load process, of the watched process trees and of every other process, so a
saturated client, or a machine shared with other work, shows up as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Protocol

import orjson
import psutil

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000

# ------------------------------------------------------------------------- request plans


class RequestPlan(Protocol):
    """Builds the request bytes for one level (in the load process, before timing)."""

    @property
    def unique(self) -> bool:
        """True: each request may be sent once (the level stops if they run out)."""
        ...

    def build(self, authority: str) -> list[bytes]: ...


def http_request(method: str, path: str, authority: str, body: bytes, **headers: str) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {authority}", f"Content-Length: {len(body)}"]
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True, kw_only=True)
class MetaWebhooks:
    """Signed Meta text-message webhooks, each with its own message id, from `senders`
    distinct numbers in turn. `unique=False` builds `count` of them and cycles through them
    (for routes that store nothing, such as the bare endpoint)."""

    path: str
    count: int
    app_secret: str
    phone_number_id: str
    id_prefix: str
    senders: int = 50
    unique: bool = True
    # When given, request i goes to phone_number_ids[i % len]: one gateway, many tenants'
    # numbers in turn (phone_number_id is then unused).
    phone_number_ids: tuple[str, ...] = ()

    def build(self, authority: str) -> list[bytes]:
        from wagate.fakes.payloads import meta_text
        from wagate.providers.meta.signature import sign

        numbers = [f"62812{n:07d}" for n in range(self.senders)]
        channels = self.phone_number_ids or (self.phone_number_id,)
        requests = []
        for i in range(self.count):
            payload = meta_text(
                phone_number_id=channels[i % len(channels)],
                sender=numbers[i % len(numbers)],
                text=f"Halo, ini pesan uji beban nomor {i}. Terima kasih!",
                message_id=f"{self.id_prefix}{i:09d}",
            )
            body = orjson.dumps(payload)
            requests.append(
                http_request(
                    "POST",
                    self.path,
                    authority,
                    body,
                    Content_Type="application/json",
                    X_Hub_Signature_256=sign(body, self.app_secret),
                )
            )
        return requests


# ------------------------------------------------------------------------ specs and results


@dataclass(frozen=True, kw_only=True)
class LoadSpec:
    host: str
    port: int
    concurrency: int
    warmup: float  # seconds before the measured window
    duration: float  # the measured window, seconds
    plan: RequestPlan


@dataclass(kw_only=True)
class LoadResult:
    concurrency: int
    duration: float
    completed: int  # 200 responses completed inside the measured window
    rate: float  # completed / duration
    # latency percentiles of those 200s, in ms
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    sent: int  # requests written, warm-up and tail included
    statuses: dict[int, int]  # every response by status, warm-up and tail included
    failures: dict[str, int]  # requests without a response (outcome unknown), by error
    exhausted: bool  # a unique plan ran out of requests: the level ended early
    build_seconds: float
    # cores busy over the window: "client", each watched tree, "others" (every other process)
    # and "machine" (all CPU time, kernel included)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s != 200) + sum(self.failures.values())


# ------------------------------------------------------------------------------ the client


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """One response: (status, keep_alive). Reads Content-Length or chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    keep_alive = True
    for line in head[:-4].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = b"close" not in value.lower()
    if chunked:
        await _skip_chunks(reader)
    elif length:
        await reader.readexactly(length)
    return status, keep_alive


async def _skip_chunks(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


@dataclass
class Window:
    """When the measured window opens and closes (perf_counter_ns), and what fell in it."""

    opens: int
    closes: int
    latencies: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    exhausted: bool = False

    def record(self, status: int, started: int, ended: int) -> None:
        self.statuses[status] += 1
        if status == 200 and self.opens <= ended <= self.closes:
            self.latencies.append(ended - started)

    @property
    def over(self) -> bool:
        return time.perf_counter_ns() >= self.closes


async def _connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port, limit=1 << 20)


async def _drive(
    host: str,
    port: int,
    stream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    next_request: Callable[[], bytes | None],
    window: Window,
) -> None:
    """One connection: request, response, repeat until the window closes."""
    reader, writer = stream
    try:
        while not window.over:
            request = next_request()
            if request is None:
                window.exhausted = True
                return
            window.sent += 1
            started = time.perf_counter_ns()
            try:
                writer.write(request)
                status, keep_alive = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                window.failures[type(exc).__name__] += 1
                keep_alive = False
            else:
                window.record(status, started, time.perf_counter_ns())
            if not keep_alive:
                writer.close()
                if window.over:
                    return
                try:
                    reader, writer = await _connect(host, port)
                except OSError as exc:  # the server is gone: this connection is done
                    window.failures[f"reconnect {type(exc).__name__}"] += 1
                    return
    finally:
        writer.close()


def _source(requests: list[bytes], *, unique: bool) -> Callable[[], bytes | None]:
    feed: Iterator[bytes] = iter(requests) if unique else itertools.cycle(requests)
    return lambda: next(feed, None)


class CpuMeter:
    """Cores used by named process trees, by every other process, and by the whole machine,
    between start() and stop()."""

    def __init__(self, watch: dict[str, int]) -> None:
        self.watch = watch
        self._before: dict[int, float] = {}
        self._machine_before = 0.0
        self._started = 0.0
        self.cores: dict[str, float] = {}
        self.elapsed = 0.0  # seconds between start() and stop(): cores × elapsed = CPU seconds

    @staticmethod
    def _processes() -> dict[int, tuple[int, float]]:
        """pid → (parent pid, CPU seconds) of every process we may read."""
        found = {}
        for process in psutil.process_iter(["ppid", "cpu_times"]):
            cpu = process.info["cpu_times"]
            if cpu is not None:
                found[process.pid] = (process.info["ppid"], cpu.user + cpu.system)
        return found

    @staticmethod
    def _machine_busy() -> float:
        cpu = psutil.cpu_times()  # guest time is already inside user; steal is not ours
        busy = ("user", "nice", "system", "irq", "softirq")
        return sum(float(getattr(cpu, name, 0.0)) for name in busy)

    def _owner(self, pid: int, table: dict[int, tuple[int, float]]) -> str:
        """The watched name whose tree `pid` belongs to, else "others"."""
        roots = {root: name for name, root in self.watch.items()}
        for _ in range(64):  # walk up the parents
            if pid in roots:
                return roots[pid]
            if pid not in table:
                break
            pid = table[pid][0]
        return "others"

    def start(self) -> None:
        self._started = time.perf_counter()
        self._before = {pid: cpu for pid, (_, cpu) in self._processes().items()}
        self._machine_before = self._machine_busy()

    def stop(self) -> None:
        if not self._started:
            return
        elapsed = time.perf_counter() - self._started
        after = self._processes()
        used = dict.fromkeys([*self.watch, "others"], 0.0)
        for pid, (_, cpu) in after.items():
            if pid != os.getpid():  # a process started in the window counts in full
                used[self._owner(pid, after)] += cpu - self._before.get(pid, 0.0)
        self.elapsed = elapsed
        self.cores = {name: seconds / elapsed for name, seconds in used.items()}
        self.cores["machine"] = (self._machine_busy() - self._machine_before) / elapsed


def percentile(ordered: list[int], p: float) -> float:
    """Nearest-rank percentile of sorted nanoseconds, in milliseconds."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1] / NS_PER_MS


async def run_load(
    spec: LoadSpec, requests: list[bytes], mark: Callable[[str], None] = lambda _: None
) -> LoadResult:
    """Open the connections, run warm-up plus window, and summarise the window.
    `mark("open")` and `mark("close")` are called as the window opens and closes."""
    streams = await asyncio.gather(
        *(_connect(spec.host, spec.port) for _ in range(spec.concurrency))
    )
    now = time.perf_counter_ns()
    window = Window(
        opens=now + int(spec.warmup * NS_PER_S),
        closes=now + int((spec.warmup + spec.duration) * NS_PER_S),
    )
    loop = asyncio.get_running_loop()
    opening = loop.call_later(spec.warmup, mark, "open")
    closing = loop.call_later(spec.warmup + spec.duration, mark, "close")
    next_request = _source(requests, unique=spec.plan.unique)
    await asyncio.gather(*(_drive(spec.host, spec.port, s, next_request, window) for s in streams))
    ended = time.perf_counter_ns()
    if ended < window.closes:  # ran out of requests: close the window now, if it opened
        opening.cancel()
        closing.cancel()
        if ended >= window.opens:
            mark("close")
    latencies = sorted(window.latencies)
    return LoadResult(
        concurrency=spec.concurrency,
        duration=spec.duration,
        completed=len(latencies),
        rate=len(latencies) / spec.duration,
        p50_ms=percentile(latencies, 50),
        p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] / NS_PER_MS if latencies else math.nan,
        sent=window.sent,
        statuses=dict(window.statuses),
        failures=dict(window.failures),
        exhausted=window.exhausted,
        build_seconds=0.0,
    )


# ------------------------------------------------------------------------- the process


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def _serve(conn: Connection) -> None:
    """The load process: run each LoadSpec it is sent, answer its LoadResult (or error),
    sending ("mark", "open"|"close") as the measured window opens and closes."""
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, EOFError):
        _serve_forever(conn)


def _serve_forever(conn: Connection) -> None:
    while True:
        spec = conn.recv()
        if spec is None:
            return
        try:
            started = time.perf_counter()
            requests = spec.plan.build(f"{spec.host}:{spec.port}")
            built = time.perf_counter() - started
            with _runner() as runner:
                result = runner.run(run_load(spec, requests, lambda e: conn.send(("mark", e))))
            result.build_seconds = built
            del requests
            conn.send(result)
        except Exception as exc:
            conn.send(RuntimeError(f"load process failed: {type(exc).__name__}: {exc}"))


class LoadProcess:
    """The load generator in a spawned process (its own interpreter, its own event loop)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child,), name="wagate-bench-load", daemon=True
        )
        self._child = child

    def __enter__(self) -> LoadProcess:
        self._process.start()
        self._child.close()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def run(
        self, spec: LoadSpec, *, watch: dict[str, int] | None = None, slack: float = 120.0
    ) -> LoadResult:
        """Run one level; `watch` names process trees whose CPU use is reported."""
        meter = CpuMeter({"client": self.pid, **(watch or {})})
        self._conn.send(spec)
        deadline = time.monotonic() + spec.warmup + spec.duration + slack
        while True:
            reply = self._receive(deadline)
            if reply == ("mark", "open"):
                meter.start()
            elif reply == ("mark", "close"):
                meter.stop()
            elif isinstance(reply, Exception):
                raise reply
            else:
                assert isinstance(reply, LoadResult)
                reply.cpu = meter.cores
                return reply

    def _receive(self, deadline: float) -> object:
        while not self._conn.poll(0.5):
            if not self._process.is_alive():
                raise RuntimeError(f"load process died (exit code {self._process.exitcode})")
            if time.monotonic() > deadline:
                raise RuntimeError("load process did not answer in time")
        return self._conn.recv()

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        self._conn.close()
