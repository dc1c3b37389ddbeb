"""The worker: procrastinate runs conversation jobs; a sweep recovers what crashes left."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import procrastinate
import structlog

from wagate.jobs.queue import QUEUE, TASK
from wagate.wiring import Gateway

log = structlog.get_logger(__name__)

# A worker that has not beaten its heart for this long is dead; procrastinate beats every 10 s.
STALLED_AFTER = timedelta(seconds=60)


def build_job_app(gateway: Gateway) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=gateway.database.url,
        min_size=1,
        # Jobs hold a connection only for a statement at a time: a bounded pool serves any
        # concurrency, and several workers still fit under PostgreSQL's 100 connections.
        max_size=min(gateway.settings.worker_concurrency, 12) + 3,
    )
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, queue=QUEUE)
    async def converse(conversation_id: int, attempt: int = 0) -> None:
        await gateway.converse(conversation_id, attempt=attempt)

    return app


async def sweep_once(gateway: Gateway) -> tuple[int, int]:
    now = gateway.clock()
    stalled = await gateway.conversations.fail_stalled_jobs(heartbeat_before=now - STALLED_AFTER)
    grace = timedelta(seconds=gateway.settings.sweep_interval_seconds)
    orphans = await gateway.conversations.requeue_orphans(older_than=now - grace, run_at=now)
    if stalled or orphans:
        log.warning("sweep.recovered", stalled_jobs=stalled, conversations=orphans)
    return stalled, orphans


async def _sweep_forever(gateway: Gateway) -> None:
    while True:
        try:
            await sweep_once(gateway)
        except Exception as exc:
            log.error("sweep.failed", error_type=type(exc).__name__)
        await asyncio.sleep(gateway.settings.sweep_interval_seconds)


async def run_worker(gateway: Gateway, *, name: str = "wagate") -> None:
    """Run until cancelled; on cancel, running jobs get a few seconds to finish."""
    app = build_job_app(gateway)
    sweeper = asyncio.create_task(_sweep_forever(gateway), name="wagate-sweep")
    log.info("worker.started", concurrency=gateway.settings.worker_concurrency)
    try:
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE],
                name=name,
                concurrency=gateway.settings.worker_concurrency,
                fetch_job_polling_interval=gateway.settings.job_poll_seconds,
                install_signal_handlers=False,
                delete_jobs="successful",
                shutdown_graceful_timeout=10,
            )
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        log.info("worker.stopped")
