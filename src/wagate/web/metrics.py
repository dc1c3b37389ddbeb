"""`GET /metrics` in Prometheus' text format (OU5, OU7: breaker and degraded states as metrics).

Behind the API token (Prometheus sends it with `authorization: {credentials: …}`): message
counts are business information. Built per scrape from the database, see `pipeline.status`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wagate.domain.breaker import ChannelState
from wagate.pipeline.status import Gauges
from wagate.web.api import bearer_guard

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Snapshot(Collector):
    def __init__(self, gauges: Gauges, channels: list[dict[str, Any]]) -> None:
        self._gauges = gauges
        self._channels = channels

    def collect(self) -> Iterable[GaugeMetricFamily]:
        g = self._gauges
        state = GaugeMetricFamily(
            "wagate_channel_state",
            "1 for the channel's current state (closed = sending; open/half_open = circuit "
            "breaker; degraded = token refused)",
            labels=["provider", "channel", "state"],
        )
        degraded = GaugeMetricFamily(
            "wagate_channel_degraded",
            "1 while the channel's token is refused (sends paused)",
            labels=["provider", "channel"],
        )
        breaker = GaugeMetricFamily(
            "wagate_channel_breaker_open",
            "1 while the channel's circuit breaker holds sends back",
            labels=["provider", "channel"],
        )
        for c in self._channels:
            for candidate in ChannelState:
                state.add_metric(
                    [c["provider"], c["channel"], candidate.value],
                    1.0 if c["state"] == candidate.value else 0.0,
                )
            is_degraded = c["state"] == ChannelState.DEGRADED.value
            is_open = c["state"] in (ChannelState.OPEN.value, ChannelState.HALF_OPEN.value)
            degraded.add_metric([c["provider"], c["channel"]], float(is_degraded))
            breaker.add_metric([c["provider"], c["channel"]], float(is_open))
        yield state
        yield degraded
        yield breaker
        outbound = GaugeMetricFamily(
            "wagate_outbound_messages",
            "Outbound messages not accepted by the provider, by status (failed = dead letters)",
            labels=["status"],
        )
        for status in ("pending", "sending", "failed"):
            outbound.add_metric([status], float(g.outbound.get(status, 0)))
        yield outbound
        email = GaugeMetricFamily(
            "wagate_email_fallback_messages", "E-mail fallback outcomes", labels=["status"]
        )
        for status, count in sorted(g.email.items()):
            email.add_metric([status], float(count))
        yield email
        yield GaugeMetricFamily(
            "wagate_outbound_resent_after_unknown_outcome",
            "Sends repeated after an attempt whose outcome was unknown (possible duplicates)",
            value=float(g.resent_after_unknown),
        )
        yield GaugeMetricFamily(
            "wagate_inbound_dead_letters",
            "Inbound bursts given up on, not yet replayed",
            value=float(g.inbound_dead_letters),
        )
        yield GaugeMetricFamily(
            "wagate_inbound_unprocessed",
            "Inbound messages stored and not yet processed",
            value=float(g.inbound_unprocessed),
        )
        jobs = GaugeMetricFamily(
            "wagate_queue_jobs", "Conversation jobs in the queue", labels=["status"]
        )
        for status in ("todo", "doing"):
            jobs.add_metric([status], float(g.jobs.get(status, 0)))
        yield jobs


def metrics_router(
    *,
    gauges: Callable[[], Awaitable[Gauges]],
    channels: Callable[[], Awaitable[list[dict[str, Any]]]],
    api_token: str,
) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", dependencies=[Depends(bearer_guard(api_token))])
    async def metrics() -> Response:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(await gauges(), await channels()))
        return Response(content=generate_latest(registry), media_type=CONTENT_TYPE)

    return router
