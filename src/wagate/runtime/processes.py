"""Long-running processes: `serve` (web, optionally with a worker) and `worker`. Each opens
the gateway and hands the web app and the worker their own services."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import signal
from typing import Any

import structlog
import uvicorn

from wagate.edge_services import WebServices
from wagate.jobs.worker import run_worker
from wagate.runtime.banner import StartFacts, banner, log_fields, start_facts
from wagate.runtime.sandbox import Sandbox, loopback
from wagate.security.keys import KeyringError
from wagate.settings import Settings
from wagate.web.app import create_app
from wagate.web.server import QuietServer, server_options
from wagate.wiring import Gateway, open_gateway

log = structlog.get_logger(__name__)


class StartRefused(Exception):
    """The configuration cannot be used to start (keys that do not parse, a damaged key
    file): the message says what to fix, never a key, and the command line prints it."""


async def _open(settings: Settings, **options: Any) -> Gateway:
    try:
        return await open_gateway(settings, **options)
    except KeyringError as exc:
        source = "WAGATE_ENCRYPTION_KEYS: " if settings.wagate_encryption_keys else ""
        raise StartRefused(f"{source}{exc}") from None


def worker_pool_size(settings: Settings) -> int:
    """The database pool of a process that runs conversation jobs: about a connection per job
    (each holds one for a statement at a time), and two for everything else."""
    return min(settings.worker_concurrency, 16) + 2


async def serve(settings: Settings, *, host: str, port: int, with_worker: bool) -> None:
    try:
        await _serve(settings, host=host, port=port, with_worker=with_worker)
    except asyncio.CancelledError:
        # A stop signal before the server listened (or a second one while stopping).
        log.warning("gateway.stopped_early")
        raise SystemExit(INTERRUPTED) from None


async def _serve(settings: Settings, *, host: str, port: int, with_worker: bool) -> None:
    sandbox: Sandbox | None = None
    if settings.needs_sandbox:
        sandbox = Sandbox(settings.wagate_data_dir)
        settings = await sandbox.start(settings, gateway_port=port)
        sandbox.report_statuses(host=host, port=port)
    # With the worker in the process, its jobs need the connections `wagate worker` gets: at
    # the default pool of 10, 16 jobs shared 5 tenant-statement connections and waited for
    # them (issue 18: ~6 ms per checkout under a flood, a third of a job's time).
    gateway = await _open(
        settings, **({"pool_size": worker_pool_size(settings)} if with_worker else {})
    )
    worker: asyncio.Task[None] | None = None
    follower: asyncio.Task[None] | None = None
    listen_failed = False
    try:
        web = gateway.web
        sign_in: tuple[str, str] | None = None
        if sandbox is not None:
            web, sign_in = await open_sandbox_console(sandbox, gateway, host=host, port=port)
        facts = start_facts(
            settings, gateway, host=host, port=port, worker=with_worker, sign_in=sign_in
        )
        config = uvicorn.Config(
            create_app(web),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            loop="none",
            lifespan="off",
            timeout_graceful_shutdown=10,
            backlog=2048,
            **server_options(
                forwarded_allow_ips=settings.forwarded_allow_ips,
                header_timeout=settings.wagate_header_timeout_seconds,
                body_timeout=settings.wagate_body_timeout_seconds,
                max_connections=settings.wagate_max_connections,
            ),
        )
        server = QuietServer(config, on_started=lambda: announce(facts))
        install_stop_signals(server, asyncio.current_task())
        follower = asyncio.create_task(gateway.keep_fresh(), name="wagate-follow")
        if with_worker:
            worker = asyncio.create_task(run_worker(gateway.worker), name="wagate-worker")
        freeze_startup_objects()
        try:
            await server.serve()
        except SystemExit:
            # uvicorn exits the process when it cannot bind (port taken, address not here);
            # say so in our words, then stop the worker and the pools like any other stop
            # instead of unwinding through them with SystemExit.
            if server.started:
                raise
            listen_failed = True
            log.error(
                "gateway.listen_failed",
                address=f"{host}:{port}",
                hint="another process may hold this port: stop it or choose one with --port",
            )
    finally:
        await stop_tasks(worker, follower)
        await gateway.close()
        if sandbox is not None:
            await sandbox.stop()
        log.info("gateway.stopped")
    if listen_failed:
        raise SystemExit(LISTEN_FAILED)


# The status uvicorn itself uses for a server that could not start.
LISTEN_FAILED = 3
# The shell's status for a process ended by Ctrl-C.
INTERRUPTED = 130
# How long a stop waits for the worker and the follower to finish their current step: a job
# in flight is retried by the next worker if it is cut off (the queue's stalled-job release),
# so a stop must never wait for ever on one.
TASK_STOP_SECONDS = 20.0


def install_stop_signals(server: QuietServer, main: asyncio.Task[Any] | None) -> None:
    """SIGINT/SIGTERM ask the server to finish its requests and stop. Before it listens (or
    once it has been asked already), there is nothing to finish: the signal cancels the start
    itself, so a gateway that cannot come up never ignores Ctrl-C."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.started and not server.should_exit:
            server.request_exit()
        elif main is not None:
            main.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)


async def stop_tasks(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel the background tasks and wait for them, within TASK_STOP_SECONDS."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    if not running:
        return
    _, pending = await asyncio.wait(running, timeout=TASK_STOP_SECONDS)
    for task in pending:
        log.warning("gateway.task_not_stopped", task=task.get_name(), seconds=TASK_STOP_SECONDS)


def announce(facts: StartFacts) -> None:
    """The server listens: the banner on stdout (for the person who started it, whatever the
    log format), and `gateway.started` in the log."""
    log.info("gateway.started", **log_fields(facts))
    print(banner(facts), flush=True)


async def open_sandbox_console(
    sandbox: Sandbox, gateway: Gateway, *, host: str, port: int
) -> tuple[WebServices, tuple[str, str] | None]:
    """Sandbox mode: the console's chat page gets its stand-in WhatsApp user, and a newcomer
    gets an admin user, whose name and password the start banner shows (returned here)."""
    console = gateway.web.console
    if console is None:  # CONSOLE_ENABLED=false: nothing to open
        return gateway.web, None
    url = f"http://{loopback(host)}:{port}/console"
    credentials = await sandbox.first_admin(gateway.services().operator.users, console_url=url)
    chat = sandbox.chat(host=host, port=port)
    web = dataclasses.replace(gateway.web, console=dataclasses.replace(console, sandbox=chat))
    return web, credentials


# Allocations between collections of the youngest generation (CPython's default: 700).
YOUNG_COLLECTION_THRESHOLD = 20_000


def freeze_startup_objects() -> None:
    """Move everything built at start-up out of the collector's sight.

    Without this, full collections walk ~190k long-lived objects (modules, the app, pools)
    and stop the event loop for 100–180 ms every few seconds under load, which is what set the
    webhook p99 (benchmarks/ingest.py: p99 at concurrency 32 went from ~120 ms to ~20 ms).

    The youngest generation is then collected every `YOUNG_COLLECTION_THRESHOLD` allocations
    rather than every 700: a webhook's objects live across a few awaits while dozens of other
    requests allocate, so at 700 most of them were promoted (and walked again by the older
    generations) before they died. Measured with `benchmarks/ingest_vs_reference.py`'s CPU
    counters (branch p18ingest): the gateway's CPU per ack fell by about a tenth.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


async def work(settings: Settings) -> None:
    gateway = await _open(settings, pool_size=worker_pool_size(settings))
    task = asyncio.create_task(run_worker(gateway.worker), name="wagate-worker")
    follower = asyncio.create_task(gateway.keep_fresh(), name="wagate-follow")
    freeze_startup_objects()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await gateway.close()
