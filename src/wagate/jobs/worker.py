"""The worker: procrastinate runs conversation jobs; a sweep recovers what crashes left."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import procrastinate
import structlog

from wagate.domain.audit import AuditEvent
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


RETENTION_EVERY = timedelta(hours=1)


async def retention_once(gateway: Gateway) -> dict[str, int]:
    """CP7: purge content older than RETENTION_DAYS; the audit chain keeps its hashes."""
    now = gateway.clock()
    cutoff = now - timedelta(days=gateway.settings.retention_days)
    counts = await gateway.rights.purge(cutoff=cutoff)
    counts["audit_redacted"] = await gateway.audit.redact_before(cutoff, at=now)
    if any(counts.values()):
        await gateway.audit.record(
            AuditEvent(action="retention.purged", actor="worker", subject=None, details=counts),
            at=now,
        )
        log.info("retention.purged", **counts)
    return counts


async def _retain_forever(gateway: Gateway) -> None:
    while True:
        try:
            await retention_once(gateway)
        except Exception as exc:  # retention must outlive a database hiccup
            log.error("retention.failed", error_type=type(exc).__name__)
        await asyncio.sleep(RETENTION_EVERY.total_seconds())


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
    retainer = asyncio.create_task(_retain_forever(gateway), name="wagate-retention")
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
        for task in (sweeper, retainer):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("worker.stopped")
