"""The worker: procrastinate runs conversation jobs; a sweep recovers what crashes left.

It is handed `WorkerServices` (built by wagate.wiring) and builds nothing itself. The queue's
name, task and SQL live in wagate.storage.queue, beside the statements that queue jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import procrastinate
import psycopg
import psycopg_pool
import structlog

from wagate.domain.audit import AuditEvent
from wagate.domain.breaker import ChannelHealth, ChannelState
from wagate.domain.provider_port import CredentialCheck
from wagate.edge_services import TenantServices, WorkerServices
from wagate.jobs.claiming_worker import ClaimingWorker
from wagate.pipeline.operator import Actor, Rejected
from wagate.pipeline.operator.kb import counts_of
from wagate.storage.queue import KB_REFRESH_TASK, MEDIA_TASK, QUEUE, TASK
from wagate.storage.queue_statistics import refresh_if_stale

log = structlog.get_logger(__name__)

# Workers beat their heart every HEARTBEAT_SECONDS; one silent for STALLED_AFTER (seven missed
# beats) is dead and its jobs are given to others: a killed worker's conversations wait about
# that long, never forever.
HEARTBEAT_SECONDS = 2.0
STALLED_AFTER = timedelta(seconds=15)


# procrastinate records a job's outcome a moment after its coroutine ends; one still `doing`
# this long after lost that write to a database outage.
UNRECORDED_AFTER_SECONDS = 5.0


class EndedJobs:
    """The jobs whose coroutine ended in this process, and when (monotonic seconds): process
    state on purpose, since only this process knows its coroutines are done."""

    def __init__(self) -> None:
        self._ended: dict[int, float] = {}

    def ended(self, job_id: int) -> None:
        self._ended[job_id] = time.monotonic()

    def older_than(self, seconds: float) -> list[int]:
        cutoff = time.monotonic() - seconds
        return [job for job, at in self._ended.items() if at <= cutoff]

    def forget(self, job_ids: list[int]) -> None:
        for job in job_ids:
            self._ended.pop(job, None)


# procrastinate's pool checks each connection it hands out with an empty query: a round trip
# before its fetch and another before its finish, two of the four it spent per job (issue 18).
# A connection used this recently was working then: it is handed out unchecked. One idle for
# longer (or never checked) is checked as before; one that broke meanwhile fails its statement
# like any other (the worker loop starts again; a lost finish is released by the sweep).
CHECK_IDLE_AFTER_SECONDS = 5.0


class CheckWhenIdle:
    """The pool's `check`: psycopg_pool's own connection check, for idle connections only."""

    def __init__(self, idle_after: float = CHECK_IDLE_AFTER_SECONDS) -> None:
        self._idle_after = idle_after
        self._handed: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    async def __call__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        now = time.monotonic()
        last = self._handed.get(conn)
        if last is None or now - last >= self._idle_after:
            await psycopg_pool.AsyncConnectionPool.check_connection(conn)
        self._handed[conn] = now  # only once checked or trusted: a failed check raises


def _pool_checking_idle_connections(**kwargs: Any) -> psycopg_pool.AsyncConnectionPool:
    return psycopg_pool.AsyncConnectionPool(**{**kwargs, "check": CheckWhenIdle()})


def build_job_app(services: WorkerServices, ended: EndedJobs | None = None) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        pool_factory=_pool_checking_idle_connections,
        conninfo=services.database.url,
        min_size=1,
        # Jobs hold a connection only for a statement at a time: a bounded pool serves any
        # concurrency, and several workers still fit under PostgreSQL's 100 connections.
        max_size=min(services.tuning.concurrency, 12) + 3,
    )
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    async def converse(
        context: procrastinate.JobContext,
        conversation_id: int,
        attempt: int = 0,
        tenant: str | None = None,
    ) -> None:
        job_id = context.job.id
        if ended is not None and job_id is not None:
            ended.forget([job_id])  # running again (a retried job keeps its id)
        try:
            await run_tenant_job(services, tenant, conversation_id, attempt=attempt)
        finally:
            if ended is not None and job_id is not None:
                ended.ended(job_id)

    @app.task(name=MEDIA_TASK, queue=QUEUE, pass_context=True)
    async def fetch_media(
        context: procrastinate.JobContext,
        media_id: int,
        attempt: int = 0,
        tenant: str | None = None,
    ) -> None:
        job_id = context.job.id
        if ended is not None and job_id is not None:
            ended.forget([job_id])
        try:
            await run_media_job(services, tenant, media_id)
        finally:
            if ended is not None and job_id is not None:
                ended.ended(job_id)

    @app.task(name=KB_REFRESH_TASK, queue=QUEUE)
    async def refresh_knowledge(tenant: str | None = None) -> None:
        await refresh_tenant_knowledge(services, tenant)

    return app


# The audit trail names the worker as the one who refreshed (asked for by an operator, whose
# request was audited when it was queued).
WORKER = Actor(via="worker")


async def refresh_tenant_knowledge(services: WorkerServices, tenant: str | None) -> None:
    """Read the tenant's KB_DIR again (issue 13): changed files re-read, removed ones
    retired; one bad file fails alone and is reported, the rest is refreshed."""
    tenant_id = tenant or services.tenants.default_id
    scope = services.tenants.get(tenant_id)
    if scope is None:
        await services.tenants.refresh(force=True)
        scope = services.tenants.get(tenant_id)
    if scope is None:
        log.warning("kb.refresh_tenant_gone", tenant=tenant_id)
        return
    summary = await scope.operator.knowledge.refresh_now(by=WORKER)
    log.info("kb.refreshed", tenant=tenant_id, **counts_of(summary))


async def load_knowledge_at_start(services: WorkerServices) -> None:
    """Read each answering tenant's knowledge folder once when the worker starts (KB_DIR is
    read at start and on refresh); a tenant without a folder has nothing to read."""
    for tenant, scope in services.tenants.served():
        if not tenant.answers:
            continue
        try:
            summary = await scope.operator.knowledge.refresh_now(by=WORKER)
        except Rejected:
            continue  # no folder for this tenant
        except Exception as exc:  # one tenant's folder must not keep the others unread
            log.error("kb.load_failed", tenant=tenant.id, error_type=type(exc).__name__)
            continue
        log.info("kb.loaded", tenant=tenant.id, **counts_of(summary))


async def run_tenant_job(
    services: WorkerServices, tenant: str | None, conversation_id: int, *, attempt: int = 0
) -> None:
    """Run the job with its tenant's services (jobs queued before tenants existed name none:
    they are the default tenant's). A tenant added a moment ago by another process is picked
    up here; an erased one's job has nothing left to do; a disabled one's messages wait,
    stored, until it is enabled (the sweep queues them again)."""
    tenant_id = tenant or services.tenants.default_id
    scope = services.tenants.get(tenant_id)
    if scope is None:
        await services.tenants.refresh(force=True)
        scope = services.tenants.get(tenant_id)
    if scope is None:
        log.warning("converse.tenant_gone", tenant=tenant_id, conversation_id=conversation_id)
        return
    if not scope.answers:
        log.info("converse.tenant_disabled", tenant=tenant_id, conversation_id=conversation_id)
        return
    await run_conversation(services, scope, conversation_id, attempt=attempt)


async def run_media_job(services: WorkerServices, tenant: str | None, media_id: int) -> None:
    """Fetch one inbound file (MD1) with its tenant's services. A disabled tenant's files are
    fetched all the same: the provider's link expires, and keeping what was sent is not
    answering it. An unexpected error counts as a failed try (retried, then given up)."""
    tenant_id = tenant or services.tenants.default_id
    scope = services.tenants.get(tenant_id)
    if scope is None:
        await services.tenants.refresh(force=True)
        scope = services.tenants.get(tenant_id)
    if scope is None:
        log.warning("media.tenant_gone", tenant=tenant_id, media_id=media_id)
        return
    try:
        await scope.media_fetch(media_id)
    except _INFRASTRUCTURE:
        raise
    except Exception as exc:
        log.exception("media.fetch_failed", tenant=tenant_id, media_id=media_id)
        await scope.media_fetch.attempt_failed(media_id, f"{type(exc).__name__}: {exc}")


# The database itself failing (restart, network) is not the burst's fault: the job fails, and
# the sweep re-queues the conversation once the database is back. Only other errors count
# towards the burst's dead-lettering.
_INFRASTRUCTURE = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)


async def run_conversation(
    services: WorkerServices, scope: TenantServices, conversation_id: int, *, attempt: int = 0
) -> None:
    try:
        await scope.converse(conversation_id, attempt=attempt)
    except _INFRASTRUCTURE:
        raise
    except Exception as exc:
        now = services.clock()
        error = f"{type(exc).__name__}: {exc}"
        failures, letter = await scope.inbound_failures.record(
            conversation_id, error=error, at=now, limit=services.tuning.inbound_attempts
        )
        if letter is not None:
            await scope.audit.record(
                AuditEvent(
                    action="burst.dead_lettered",
                    actor="worker",
                    subject=f"conversation:{conversation_id}",
                    details={"dead_letter": letter, "failures": failures},
                ),
                at=now,
            )
            log.error(
                "converse.dead_lettered",
                tenant=scope.tenant.id,
                conversation_id=conversation_id,
                failures=failures,
                error_type=type(exc).__name__,
            )
            # Later messages of the conversation (if any) still get their turn.
            await scope.conversations.defer(conversation_id, run_at=now, attempt=0)
            return
        delay = services.backoff.delay(failures - 1, jitter=0.5)
        await scope.conversations.defer(conversation_id, run_at=now + delay, attempt=attempt)
        log.exception(
            "converse.failed",
            tenant=scope.tenant.id,
            conversation_id=conversation_id,
            failures=failures,
            retry_in_s=round(delay.total_seconds(), 1),
        )
    # A run that went through clears the conversation's failure count itself (Converse), and
    # only when there is one: no statement for the conversations that never failed.


async def sweep_once(services: WorkerServices, ended: EndedJobs | None = None) -> tuple[int, int]:
    """Release jobs whose worker died (the queue is the platform's: once), then queue again
    each answering tenant's messages that have no job."""
    now = services.clock()
    platform = services.tenants.default.conversations
    stalled = await platform.fail_stalled_jobs(heartbeat_before=now - STALLED_AFTER)
    if ended is not None:
        # Jobs that ended here but stayed `doing` (their outcome was lost with the database):
        # this process's heartbeat keeps them from looking stalled, so release them here.
        done = ended.older_than(UNRECORDED_AFTER_SECONDS)
        stalled += await platform.fail_unrecorded_jobs(done)
        ended.forget(done)
    grace = timedelta(seconds=services.tuning.sweep_interval_seconds)
    orphans = 0
    for tenant, scope in services.tenants.served():
        # Files whose fetch job was lost are fetched again, answering tenant or not.
        orphans += await scope.media.requeue_orphans(older_than=now - grace, run_at=now)
        if not tenant.answers:
            continue  # a disabled tenant's messages wait for it to be enabled
        orphans += await scope.conversations.requeue_orphans(
            older_than=now - grace, run_at=now, email_fallback=scope.email_fallback
        )
    if stalled or orphans:
        log.warning("sweep.recovered", stalled_jobs=stalled, conversations=orphans)
    await retry_staff_alerts(services)
    return stalled, orphans


async def retry_staff_alerts(services: WorkerServices) -> int:
    """Mail again each tenant's on-duty alerts whose earlier try failed (AI7); one tenant's
    trouble does not keep the others' alerts back."""
    tried = 0
    for tenant, scope in services.tenants.served():
        try:
            tried += await scope.alerts.retry_due()
        except Exception as exc:
            log.error("sweep.alerts_failed", tenant=tenant.id, error_type=type(exc).__name__)
    return tried


RETENTION_EVERY = timedelta(hours=1)


async def retention_once(services: WorkerServices) -> dict[str, int]:
    """CP7: purge each tenant's content older than its RETENTION_DAYS; the audit chain keeps
    its hashes; and remove what is left of erased tenants' files. Returns the counts summed
    over tenants."""
    now = services.clock()
    totals: dict[str, int] = {}
    for tenant, scope in services.tenants.served():
        cutoff = now - scope.retention
        counts = await scope.rights.purge(cutoff=cutoff)
        counts["audit_redacted"] = await scope.audit.redact_before(cutoff, at=now)
        if any(counts.values()):
            await scope.audit.record(
                AuditEvent(action="retention.purged", actor="worker", subject=None, details=counts),
                at=now,
            )
            log.info("retention.purged", tenant=tenant.id, **counts)
        for name, count in counts.items():
            totals[name] = totals.get(name, 0) + count
    if services.sweep_erased_files is not None:
        # Not served, so not in the loop above: files an erasure could not remove at once.
        totals["erased_tenant_objects"] = await services.sweep_erased_files()
    return totals


async def _retain_forever(services: WorkerServices) -> None:
    while True:
        try:
            await retention_once(services)
        except Exception as exc:  # retention must outlive a database hiccup
            log.error("retention.failed", error_type=type(exc).__name__)
        await asyncio.sleep(RETENTION_EVERY.total_seconds())


CREDENTIAL_CHECKS_AT_ONCE = 8


async def check_credentials_once(services: WorkerServices) -> dict[str, str]:
    """OU7: ask each tenant's providers whether its tokens work; a refused token degrades
    that tenant's channel only, a valid one ends a degraded state. Sends nothing. Results
    are keyed `tenant/provider`."""
    results: dict[str, str] = {}
    # Several tenants at once (each a provider round trip or two): 200 tenants' checks at
    # start-up must not take minutes while their first messages arrive.
    gate = asyncio.Semaphore(CREDENTIAL_CHECKS_AT_ONCE)

    async def check(tenant_id: str, scope: TenantServices) -> None:
        async with gate:
            try:
                checked = await _check_tenant(services, scope)
            except Exception as exc:  # one tenant's failure must not hide the others' checks
                log.error("credentials.check_failed", tenant=tenant_id, error=type(exc).__name__)
                return
            for provider, outcome in checked.items():
                results[f"{tenant_id}/{provider}"] = outcome

    await asyncio.gather(
        *(check(tenant.id, scope) for tenant, scope in services.tenants.served() if tenant.answers)
    )
    return dict(sorted(results.items()))


async def _check_tenant(services: WorkerServices, scope: TenantServices) -> dict[str, str]:
    await scope.providers.refresh(force=True)
    results: dict[str, str] = {}
    now = services.clock()
    policy = services.breaker
    for provider, channel_id in scope.channels.items():
        client = scope.providers.get(provider, channel_id)
        if client is None:
            continue
        check = await client.check_credentials()
        results[provider.value] = check.value
        if check is CredentialCheck.UNKNOWN:
            continue
        transition: Callable[[ChannelHealth], ChannelHealth | None] = (
            partial(policy.rejected_token, now=now, reason="credential check: token refused")
            if check is CredentialCheck.REJECTED
            else partial(policy.token_valid, now=now)
        )

        before, after = await scope.channel_health.change(provider, channel_id, transition)
        if before.state is not after.state:
            log.warning(
                "channel.state_changed",
                tenant=scope.tenant.id,
                provider=provider.value,
                before=before.state.value,
                after=after.state.value,
                by="credential_check",
            )
            await scope.audit.record(
                AuditEvent(
                    action="channel.state_changed",
                    actor="worker",
                    subject=f"channel:{provider.value}",
                    details={"before": before.state.value, "after": after.state.value},
                ),
                at=now,
            )
    return results


async def _check_credentials_forever(services: WorkerServices) -> None:
    """At start, then every CREDENTIAL_CHECK_SECONDS — more often while a channel is degraded."""
    while True:
        degraded = False
        try:
            await check_credentials_once(services)
            for _tenant, scope in services.tenants.served():
                healths = await scope.channel_health.all()
                degraded |= any(h.state is ChannelState.DEGRADED for _, _, h in healths)
        except Exception as exc:
            log.error("credentials.check_failed", error_type=type(exc).__name__)
        tuning = services.tuning
        wait = tuning.degraded_probe_seconds if degraded else tuning.credential_check_seconds
        await asyncio.sleep(wait)


STATISTICS_EVERY_SECONDS = 5.0


async def _fresh_statistics_forever(services: WorkerServices) -> None:
    while True:
        try:
            if await refresh_if_stale(services.database):
                log.debug("queue.statistics_refreshed")
        except Exception as exc:
            log.error("queue.statistics_failed", error_type=type(exc).__name__)
        await asyncio.sleep(STATISTICS_EVERY_SECONDS)


async def escalate_reviews_once(services: WorkerServices) -> int:
    """The review SLA (AI7): each tenant's pending drafts near their deadline or their window's
    end are escalated to on-duty staff, once per kind; how many alerts were raised."""
    raised = 0
    for _, scope in services.tenants.served():
        if scope.review_escalation is not None:
            raised += await scope.review_escalation.sweep()
    return raised


async def _sweep_forever(services: WorkerServices, ended: EndedJobs) -> None:
    while True:
        try:
            await sweep_once(services, ended)
        except Exception as exc:
            log.error("sweep.failed", error_type=type(exc).__name__)
        try:
            await escalate_reviews_once(services)
        except Exception as exc:  # a mail server down: the next sweep tries again
            log.error("review.escalation_failed", error_type=type(exc).__name__)
        await asyncio.sleep(services.tuning.sweep_interval_seconds)


# A database restart can end procrastinate's worker loop with a connection error; the process
# must outlive it (no supervisor is assumed), so the loop starts again after a short pause.
RESTART_PAUSES = (0.5, 1.0, 2.0, 5.0)


async def _run_jobs_until_cancelled(
    app: procrastinate.App, services: WorkerServices, name: str
) -> None:
    failures = 0
    while True:
        try:
            async with app.open_async():
                # What `app.run_worker_async` does, with procrastinate's worker quietened and
                # claiming several jobs per fetch.
                app.perform_import_paths()  # type: ignore[no-untyped-call]
                await ClaimingWorker(
                    app=app,
                    queues=[QUEUE],
                    name=name,
                    concurrency=services.tuning.concurrency,
                    fetch_job_polling_interval=services.tuning.poll_seconds,
                    install_signal_handlers=False,
                    delete_jobs="successful",
                    shutdown_graceful_timeout=10,
                    update_heartbeat_interval=HEARTBEAT_SECONDS,
                ).run()  # type: ignore[no-untyped-call]
            return
        except Exception as exc:
            pause = RESTART_PAUSES[min(failures, len(RESTART_PAUSES) - 1)]
            failures += 1
            log.error("worker.loop_failed", error_type=type(exc).__name__, restart_in_s=pause)
            await asyncio.sleep(pause)


async def run_worker(services: WorkerServices, *, name: str = "wagate") -> None:
    """Run until cancelled; on cancel, running jobs get a few seconds to finish."""
    ended = EndedJobs()
    app = build_job_app(services, ended)
    sweeper = asyncio.create_task(_sweep_forever(services, ended), name="wagate-sweep")
    retainer = asyncio.create_task(_retain_forever(services), name="wagate-retention")
    checker = asyncio.create_task(_check_credentials_forever(services), name="wagate-credentials")
    statistics = asyncio.create_task(_fresh_statistics_forever(services), name="wagate-statistics")
    knowledge = asyncio.create_task(load_knowledge_at_start(services), name="wagate-kb-load")
    log.info("worker.started", concurrency=services.tuning.concurrency)
    try:
        await _run_jobs_until_cancelled(app, services, name)
    finally:
        for task in (sweeper, retainer, checker, statistics, knowledge):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("worker.stopped")
