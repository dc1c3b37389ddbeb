"""`GET /metrics` in Prometheus' text format (OU5, OU7: breaker and degraded states as metrics;
issue 17: the seed's `whatsapp_*` families, the SLA, process figures).

Behind the API token (Prometheus sends it with `authorization: {credentials: …}`): message
counts are business information. Built per scrape from the database: the states and counts
of stored rows (`pipeline.status`) and the sums every process's recorder added
(`observability.metrics`), after this process has added its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Response
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from wagate.domain.breaker import ChannelState
from wagate.edge_services import TenantServices
from wagate.observability.metrics import (
    MetricsRecorder,
    TenantReading,
    families,
    uptime_family,
)
from wagate.pipeline.status import Gauges
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.web.scope import Caller

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

log = structlog.get_logger(__name__)

# prometheus-client's reader of /proc/self (resident memory, CPU seconds, start time, open
# files): the process answering the scrape. Not registered anywhere global; each platform
# scrape adds it to its own registry.
_PROCESS = ProcessCollector(registry=None)


class _Snapshot(Collector):
    """Every family carries a `tenant` label: a tenant id (bounded: one per firm), never a
    phone number."""

    def __init__(self, readings: list[tuple[str, Gauges, list[dict[str, Any]]]]) -> None:
        self._readings = readings

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        state = GaugeMetricFamily(
            "wagate_channel_state",
            "1 for the channel's current state (closed = sending; open/half_open = circuit "
            "breaker; degraded = token refused)",
            labels=["tenant", "provider", "channel", "state"],
        )
        degraded = GaugeMetricFamily(
            "wagate_channel_degraded",
            "1 while the channel's token is refused (sends paused)",
            labels=["tenant", "provider", "channel"],
        )
        breaker = GaugeMetricFamily(
            "wagate_channel_breaker_open",
            "1 while the channel's circuit breaker holds sends back",
            labels=["tenant", "provider", "channel"],
        )
        outbound = GaugeMetricFamily(
            "wagate_outbound_messages",
            "Outbound messages not accepted by the provider, by status (failed = dead letters)",
            labels=["tenant", "status"],
        )
        email = GaugeMetricFamily(
            "wagate_email_fallback_messages",
            "E-mail fallback outcomes",
            labels=["tenant", "status"],
        )
        resent = GaugeMetricFamily(
            "wagate_outbound_resent_after_unknown_outcome",
            "Sends repeated after an attempt whose outcome was unknown (possible duplicates)",
            labels=["tenant"],
        )
        dead = GaugeMetricFamily(
            "wagate_inbound_dead_letters",
            "Inbound bursts given up on, not yet replayed",
            labels=["tenant"],
        )
        unprocessed = GaugeMetricFamily(
            "wagate_inbound_unprocessed",
            "Inbound messages stored and not yet processed",
            labels=["tenant"],
        )
        jobs = GaugeMetricFamily(
            "wagate_queue_jobs", "Conversation jobs in the queue (all tenants)", labels=["status"]
        )
        depth = GaugeMetricFamily(
            "whatsapp_queue_depth",
            "The tenant's jobs waiting: ready = due, waiting for a worker (the backlog); "
            "scheduled = waiting for their time (a debounce, a retry's backoff, pacing)",
            labels=["tenant", "state"],
        )
        held = GaugeMetricFamily(
            "wagate_conversations_held",
            "Conversations a human holds now (take-over, or handed over after a red message): "
            "the AI does not answer them",
            labels=["tenant"],
        )
        # Counted from the stored alerts, so every process's sends are in it.
        alerts = CounterMetricFamily(
            "wagate_staff_alerts",
            "On-duty staff alert mails: sent (per address), failed (tries that failed), "
            "undeliverable (alerts nobody could be sent: no SMTP, no addresses, all refused)",
            labels=["tenant", "outcome"],
        )
        for tenant, g, channels in self._readings:
            for c in channels:
                labels = [tenant, c["provider"], c["channel"]]
                for candidate in ChannelState:
                    state.add_metric(
                        [*labels, candidate.value],
                        1.0 if c["state"] == candidate.value else 0.0,
                    )
                is_degraded = c["state"] == ChannelState.DEGRADED.value
                is_open = c["state"] in (ChannelState.OPEN.value, ChannelState.HALF_OPEN.value)
                degraded.add_metric(labels, float(is_degraded))
                breaker.add_metric(labels, float(is_open))
            for status in ("pending", "sending", "failed"):
                outbound.add_metric([tenant, status], float(g.outbound.get(status, 0)))
            for status, count in sorted(g.email.items()):
                email.add_metric([tenant, status], float(count))
            resent.add_metric([tenant], float(g.resent_after_unknown))
            dead.add_metric([tenant], float(g.inbound_dead_letters))
            unprocessed.add_metric([tenant], float(g.inbound_unprocessed))
            held.add_metric([tenant], float(g.conversations_held))
            for outcome in ("sent", "failed", "undeliverable"):
                alerts.add_metric([tenant, outcome], float(g.staff_alerts.get(outcome, 0)))
            for queue_state in ("ready", "scheduled"):
                depth.add_metric([tenant, queue_state], float(g.queue.get(queue_state, 0)))
        if self._readings:
            first = self._readings[0][1]
            for status in ("todo", "doing"):
                jobs.add_metric([status], float(first.jobs.get(status, 0)))
        yield from (state, degraded, breaker, outbound, email, resent, dead, unprocessed, jobs)
        yield from (held, alerts, depth)


# Time from a draft's creation to its approval, in seconds: minutes up to a day.
APPROVAL_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 86400.0)


class _Reviews(Collector):
    """The lawyer's review (AI7), per tenant, from the drafts table and the runs: drafts
    waiting, time to approval, escalations and red hand-offs (counted from stored rows, so
    every process reports the same figures)."""

    def __init__(self, readings: list[tuple[str, dict[str, Any]]]) -> None:
        self._readings = readings

    def collect(self) -> Iterable[Metric]:
        waiting = GaugeMetricFamily(
            "wagate_review_drafts_waiting", "Drafts waiting for a lawyer", labels=["tenant"]
        )
        approval = HistogramMetricFamily(
            "wagate_review_time_to_approval_seconds",
            "From a draft's creation to its approval",
            labels=["tenant"],
        )
        escalations = CounterMetricFamily(
            "wagate_review_escalations",
            "Drafts escalated to on-duty staff (deadline near, window closing)",
            labels=["tenant"],
        )
        red = CounterMetricFamily(
            "wagate_red_handoffs",
            "Red (urgent) messages handed to a human with the holding reply",
            labels=["tenant"],
        )
        for tenant, f in self._readings:
            waiting.add_metric([tenant], float(f["waiting"]))
            seconds = sorted(f["approval_seconds"])
            buckets = [(str(b), float(sum(1 for s in seconds if s <= b))) for b in APPROVAL_BUCKETS]
            buckets.append(("+Inf", float(len(seconds))))
            approval.add_metric([tenant], buckets=buckets, sum_value=float(sum(seconds)))
            escalations.add_metric([tenant], float(f["escalations"]))
            red.add_metric([tenant], float(f["red_handoffs"]))
        yield from (waiting, approval, escalations, red)


class _Recorded(Collector):
    """The recorded families (messages, response time, errors, intakes, SLA breaches, AI
    latency, debounce batches, duplicate and refused webhooks) and each tenant's SLA."""

    def __init__(self, readings: list[TenantReading]) -> None:
        self._readings = readings

    def collect(self) -> Iterable[Metric]:
        yield from families(self._readings)


class _Process(Collector):
    """The process answering the scrape: its uptime, memory and CPU (platform scrapes only:
    a tenant has no business with the host)."""

    def __init__(self, recorder: MetricsRecorder) -> None:
        self._recorder = recorder

    def collect(self) -> Iterable[Metric]:
        yield from uptime_family(self._recorder)
        yield from _PROCESS.collect()


async def _recorded(services: TenantServices) -> TenantReading:
    return TenantReading(
        tenant=services.tenant.id,
        samples=await services.metrics.totals(),
        providers=sorted(provider.value for provider in services.channels),
        sla_seconds=services.metrics.sla_seconds,
    )


async def _flush(recorder: MetricsRecorder | None) -> None:
    """This process's counts since its last flush join the sums first, so a scrape sees
    its own work at once (other processes' within their flush interval)."""
    if recorder is None:
        return
    try:
        await recorder.flush()
    except Exception as exc:  # kept for the next flush; the sums are read regardless
        log.warning("metrics.flush_failed", error_type=type(exc).__name__)


def metrics_router(
    *,
    scope: Callable[..., Awaitable[Caller]],
    tenants: TenantRuntimes[TenantServices],
    recorder: MetricsRecorder | None = None,
) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics")
    async def metrics(who: Caller = Depends(scope)) -> Response:
        """A platform admin's scrape covers every tenant; a tenant's token, its own."""
        served = [services for _, services in tenants.served()] if who.platform else [who.services]
        readings = [
            (
                services.tenant.id,
                await services.status.gauges(),
                await services.status.channel_states(with_ids=True),
            )
            for services in served
        ]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(readings))
        reviews = [
            (services.tenant.id, await services.review_figures())
            for services in served
            if services.review_figures is not None
        ]
        registry.register(_Reviews(reviews))
        await _flush(recorder)
        registry.register(_Recorded([await _recorded(services) for services in served]))
        if who.platform and recorder is not None:
            registry.register(_Process(recorder))
        return Response(content=generate_latest(registry), media_type=CONTENT_TYPE)

    return router
