"""The gateway's counters and histograms (issue 17: the seed's `whatsapp_*` metrics, the SLA,
AI latency, debounce batches, duplicate and refused webhooks).

Recorded where the work happens, summed where every process can see them:

* each process keeps a `MetricsRecorder`: an increment is a dict update in memory, so the
  webhook path and the delivery loop pay no database round trip for their figures;
* every few seconds (and when the process stops, and before `/metrics` answers) the recorder
  adds what it counted since its last flush to `metric_counters`, one statement per tenant;
* `/metrics` reads the sums from there, so it shows what every web process and worker did,
  on however many machines share the database, and the totals survive restarts and the
  retention of the rows they count.

Only increments travel (never a process's running total), so a restarted process simply adds
on; the price is that a crash loses what the process counted since its last flush (seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric

from wagate.domain.media import MEDIA_KINDS
from wagate.pipeline.metrics import (
    FAILED,
    RECEIVED,
    RETRY_OBJECT_STORE,
    RETRY_PROVIDER,
    SENT,
    Direction,
)

log = structlog.get_logger(__name__)

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs, the tenant apart


@dataclass(frozen=True, slots=True)
class Sample:
    """One stored figure: a counter's value, or a histogram's bucket (`le` among the labels)
    or sum, as Prometheus names them (`…_total`, `…_bucket`, `…_sum`)."""

    name: str
    labels: Labels
    value: float


@dataclass(frozen=True, slots=True)
class Counter:
    name: str  # ends in `_total`, as exposed
    help: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Histogram:
    name: str
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...]  # upper bounds, ascending; +Inf is implied


MESSAGES = Counter(
    "whatsapp_message_total",
    "WhatsApp messages: in = received and stored; out = sent (accepted by the provider) or "
    "failed (given up on: a dead letter)",
    ("direction", "provider", "status"),
)
RESPONSE_TIME = Histogram(
    "whatsapp_response_time_seconds",
    "From the receipt of the message a run answers (a burst's last) to the provider's "
    "acceptance of the run's first reply; the debounce is part of it",
    ("provider",),
    # The SLA's default (30 s) is a bound, so its share can be read off the buckets too.
    (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0, 300.0, 900.0),
)
ERRORS = Counter(
    "whatsapp_error_total",
    "Failed provider calls by error class (unavailable = network or the provider's servers; "
    "auth, permission, window_closed, recipient_unreachable, invalid_request, quota = refusals; "
    "rate limits; outcome_unknown), and webhook deliveries that could not be stored "
    "(webhook_store)",
    ("provider", "error_class"),
)
INTAKES = Counter("whatsapp_intake_total", "Case intakes: new matters registered")
SLA_BREACHES = Counter(
    "whatsapp_sla_breach_total",
    "Responses slower than SLA_SECONDS (see whatsapp_response_time_seconds)",
    ("provider",),
)
AI_LATENCY = Histogram(
    "whatsapp_ai_latency_seconds",
    "One call to the AI, fallback models and retries included; outcome answered or unavailable",
    ("outcome",),
    (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0),
)
BATCH_SIZE = Histogram(
    "whatsapp_debounce_batch_size",
    "Messages the debounce merged into one run (1 = no burst)",
    (),
    (1.0, 2.0, 3.0, 4.0, 5.0, 8.0, 13.0, 21.0),
)
DUPLICATES = Counter(
    "whatsapp_webhook_duplicate_total",
    "Messages and statuses a provider delivered again, already stored (kept once)",
    ("provider", "kind"),
)
REJECTED = Counter(
    "whatsapp_webhook_rejected_total",
    "Webhook requests refused: not_found (unknown URL or secret), unsigned, forged, "
    "source_not_allowed, malformed",
    ("provider", "reason"),
)

MEDIA = Counter(
    "whatsapp_media_total",
    "Files people sent, by kind: received (the webhook stored its row), then stored, refused "
    "(problem: too_large, executable, type_mismatch, type_not_accepted) or failed (problem: "
    "unavailable = gone at the provider or retries spent, unsupported = the channel hands no "
    "files)",
    ("provider", "kind", "status", "problem"),
)
MEDIA_BYTES = Counter(
    "whatsapp_media_stored_bytes_total",
    "Bytes of the files stored (their plaintext size; the sealed objects are a little larger)",
    ("provider", "kind"),
)
MEDIA_STORE_TIME = Histogram(
    "whatsapp_media_store_seconds",
    "From the webhook that brought a file to its object being stored, sealed (the queue, the "
    "download and any retries included)",
    ("provider",),
    (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 900.0),
)
MEDIA_RETRIES = Counter(
    "whatsapp_media_retry_total",
    "File fetches that failed and wait for another try, by the side that failed: provider "
    "(timeouts, 5xx, 429, a refused token), object_store (the store down) or unexpected",
    ("provider", "cause"),
)

RECORDED: tuple[Counter | Histogram, ...] = (
    MESSAGES,
    RESPONSE_TIME,
    ERRORS,
    INTAKES,
    SLA_BREACHES,
    AI_LATENCY,
    BATCH_SIZE,
    DUPLICATES,
    REJECTED,
    MEDIA,
    MEDIA_BYTES,
    MEDIA_STORE_TIME,
    MEDIA_RETRIES,
)

SLA_SECONDS_NAME = "whatsapp_sla_seconds"
UPTIME_NAME = "wagate_uptime_seconds"


class CounterStore(Protocol):
    """Where the recorders of every process add up (storage/metric_counters.py)."""

    async def add(self, tenant: str, samples: Sequence[Sample]) -> None:
        """Add each sample's value to the stored one (0 when there is none), all or none."""

    async def read(self, tenant: str) -> list[Sample]:
        """The tenant's sums."""


def _bound(value: float) -> str:
    """A bucket's `le` as Prometheus' clients write it (`30.0`, `+Inf`)."""
    return "+Inf" if math.isinf(value) else repr(float(value))


def labels_of(values: Mapping[str, str]) -> Labels:
    return tuple(sorted(values.items()))


@dataclass(frozen=True, slots=True)
class _HistogramSeries:
    """One histogram series' stored names and keys: its bounds (+Inf last) and, bound by
    bound, the labels of its `le` bucket."""

    bucket_name: str
    sum_name: str
    bounds: tuple[float, ...]
    bucket_keys: tuple[Labels, ...]

    @classmethod
    def of(cls, histogram: Histogram, labels: Labels) -> _HistogramSeries:
        bounds = (*histogram.buckets, math.inf)
        return cls(
            bucket_name=f"{histogram.name}_bucket",
            sum_name=f"{histogram.name}_sum",
            bounds=bounds,
            bucket_keys=tuple(labels_of({**dict(labels), "le": _bound(b)}) for b in bounds),
        )


class MetricsRecorder:
    """One per process: what it counted since its last flush, per tenant."""

    def __init__(self, store: CounterStore | None = None) -> None:
        self._store = store
        self._pending: dict[tuple[str, str, Labels], float] = defaultdict(float)
        # Increments come from the event loop; the lock keeps a thread (a library callback)
        # from losing one while a flush swaps the dict out.
        self._lock = threading.Lock()
        self._flushing = asyncio.Lock()
        self._started = time.monotonic()
        # Each histogram's bucket keys per label set, built at its first observation (the
        # label values come from closed sets: providers, outcomes).
        self._series: dict[tuple[Histogram, Labels], _HistogramSeries] = {}

    def tenant(self, tenant: str, *, sla_seconds: float) -> TenantMetrics:
        return TenantMetrics(recorder=self, tenant_id=tenant, sla_seconds=sla_seconds)

    def uptime(self) -> float:
        """Seconds since this process built its recorder (at start)."""
        return time.monotonic() - self._started

    def add(
        self, tenant: str, counter: Counter, values: Mapping[str, str], amount: float = 1.0
    ) -> None:
        if amount <= 0:
            return
        key = (tenant, counter.name, labels_of(values))
        with self._lock:
            self._pending[key] += amount

    def observe(
        self, tenant: str, histogram: Histogram, values: Mapping[str, str], value: float
    ) -> None:
        """Stored as Prometheus exposes it: cumulative buckets (`le`) and the sum; the count
        is the +Inf bucket."""
        labels = labels_of(values)
        series = self._series.get((histogram, labels))
        if series is None:
            series = self._series[(histogram, labels)] = _HistogramSeries.of(histogram, labels)
        # The buckets a value falls in are every one from the first bound >= value on (the
        # bounds ascend, +Inf last); NaN is below no bound, so it lands in none.
        first = bisect_left(series.bounds, value) if value == value else len(series.bounds)
        with self._lock:
            for key in series.bucket_keys[first:]:
                self._pending[(tenant, series.bucket_name, key)] += 1.0
            self._pending[(tenant, series.sum_name, labels)] += value

    def pending(self) -> dict[tuple[str, str, Labels], float]:
        """What was counted and not yet flushed (a copy)."""
        with self._lock:
            return dict(self._pending)

    async def flush(self) -> None:
        """Add what was counted to the store, tenant by tenant. What could not be written is
        kept for the next flush (it may count twice if the database committed and the answer
        was lost: rare, and the safer error for an alert than losing it)."""
        if self._store is None:
            return
        async with self._flushing:
            with self._lock:
                taken, self._pending = self._pending, defaultdict(float)
            by_tenant: dict[str, list[Sample]] = defaultdict(list)
            for (tenant, name, labels), value in taken.items():
                by_tenant[tenant].append(Sample(name, labels, value))
            written: set[str] = set()
            try:
                for tenant, samples in by_tenant.items():
                    # One order for every process: two flushes never wait on each other's rows.
                    samples.sort(key=lambda s: (s.name, s.labels))
                    await self._store.add(tenant, samples)
                    written.add(tenant)
            except BaseException:
                self._give_back({k: v for k, v in taken.items() if k[0] not in written})
                raise

    def _give_back(self, unwritten: Mapping[tuple[str, str, Labels], float]) -> None:
        with self._lock:
            for key, value in unwritten.items():
                self._pending[key] += value

    async def flush_every(self, seconds: float) -> None:
        """Flush until cancelled; a failed flush is retried with the next."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.flush()
            except Exception as exc:
                log.warning("metrics.flush_failed", error_type=type(exc).__name__)

    async def close(self) -> None:
        """The last flush, when the process stops."""
        with contextlib.suppress(Exception):
            await self.flush()

    async def totals(self, tenant: str) -> list[Sample]:
        """Every process's sums for the tenant, this process's pending ones included when
        this reads after a flush (the scrape does)."""
        if self._store is None:
            pending = self.pending().items()
            return [
                Sample(name, labels, value) for (t, name, labels), value in pending if t == tenant
            ]
        return await self._store.read(tenant)


@dataclass(frozen=True, slots=True)
class TenantMetrics:
    """The pipeline's `Metrics` port for one tenant."""

    recorder: MetricsRecorder
    tenant_id: str
    sla_seconds: float

    def message(self, *, direction: Direction, provider: str, status: str, count: int = 1) -> None:
        self.recorder.add(
            self.tenant_id,
            MESSAGES,
            {"direction": direction, "provider": provider, "status": status},
            count,
        )

    def responded(self, *, provider: str, seconds: float) -> None:
        seconds = max(seconds, 0.0)  # two clocks (database, process): never below zero
        self.recorder.observe(self.tenant_id, RESPONSE_TIME, {"provider": provider}, seconds)
        if seconds > self.sla_seconds:
            self.recorder.add(self.tenant_id, SLA_BREACHES, {"provider": provider})

    def error(self, *, provider: str, error_class: str) -> None:
        self.recorder.add(
            self.tenant_id, ERRORS, {"provider": provider, "error_class": error_class}
        )

    def ai_call(self, *, seconds: float, outcome: str) -> None:
        self.recorder.observe(self.tenant_id, AI_LATENCY, {"outcome": outcome}, max(seconds, 0.0))

    def burst(self, *, messages: int) -> None:
        self.recorder.observe(self.tenant_id, BATCH_SIZE, {}, float(messages))

    def duplicates(self, *, provider: str, kind: str, count: int) -> None:
        self.recorder.add(self.tenant_id, DUPLICATES, {"provider": provider, "kind": kind}, count)

    def webhook_rejected(self, *, provider: str, reason: str) -> None:
        self.recorder.add(self.tenant_id, REJECTED, {"provider": provider, "reason": reason})

    def case_intake(self) -> None:
        self.recorder.add(self.tenant_id, INTAKES, {})

    def media(
        self, *, provider: str, kind: str, status: str, problem: str = "", count: int = 1
    ) -> None:
        self.recorder.add(
            self.tenant_id,
            MEDIA,
            {"provider": provider, "kind": _kind(kind), "status": status, "problem": problem},
            count,
        )

    def media_stored(self, *, provider: str, kind: str, size: int, seconds: float) -> None:
        self.recorder.add(
            self.tenant_id, MEDIA_BYTES, {"provider": provider, "kind": _kind(kind)}, size
        )
        self.recorder.observe(
            self.tenant_id, MEDIA_STORE_TIME, {"provider": provider}, max(seconds, 0.0)
        )

    def media_retry(self, *, provider: str, cause: str) -> None:
        self.recorder.add(self.tenant_id, MEDIA_RETRIES, {"provider": provider, "cause": cause})

    async def totals(self) -> list[Sample]:
        return await self.recorder.totals(self.tenant_id)


def _kind(kind: str) -> str:
    """A label from a closed set: a kind of message no provider should send is `other`."""
    return kind if kind in MEDIA_KINDS else "other"


# ---------------------------------------------------------------------- exposition


@dataclass(frozen=True, slots=True)
class TenantReading:
    """One tenant's part of a scrape: its sums, the providers of its channels (their series
    are shown at 0 before anything happened, so dashboards and alerts see them) and its SLA."""

    tenant: str
    samples: Sequence[Sample]
    providers: Sequence[str]
    sla_seconds: float


def _zero_series(family: Counter | Histogram, providers: Sequence[str]) -> list[dict[str, str]]:
    if family is MESSAGES:
        return [
            {"direction": direction, "provider": p, "status": status}
            for p in providers
            for direction, status in (("in", RECEIVED), ("out", SENT), ("out", FAILED))
        ]
    if family in (RESPONSE_TIME, SLA_BREACHES, MEDIA_STORE_TIME):
        return [{"provider": p} for p in providers]
    if family is MEDIA_RETRIES:  # the alert on an object store that is down reads these
        return [
            {"provider": p, "cause": cause}
            for p in providers
            for cause in (RETRY_PROVIDER, RETRY_OBJECT_STORE)
        ]
    if family in (INTAKES, BATCH_SIZE):
        return [{}]
    return []


def families(readings: Sequence[TenantReading]) -> list[Metric]:
    """Every recorded family once, each tenant's series in it (a family must not repeat in
    one exposition), and the SLA each tenant is measured against."""
    out: list[Metric] = []
    for family in RECORDED:
        if isinstance(family, Counter):
            out.append(_counter(family, readings))
        else:
            out.append(_histogram(family, readings))
    sla = GaugeMetricFamily(
        SLA_SECONDS_NAME,
        "The response time the SLA allows (SLA_SECONDS): slower responses are breaches",
        labels=["tenant"],
    )
    for reading in readings:
        sla.add_metric([reading.tenant], reading.sla_seconds)
    out.append(sla)
    return out


def _counter(family: Counter, readings: Sequence[TenantReading]) -> Metric:
    metric = CounterMetricFamily(family.name, family.help, labels=["tenant", *family.labels])
    for reading in readings:
        values: dict[Labels, float] = {
            labels_of(zero): 0.0 for zero in _zero_series(family, reading.providers)
        }
        for sample in reading.samples:
            if sample.name == family.name:
                values[sample.labels] = values.get(sample.labels, 0.0) + sample.value
        for labels, value in sorted(values.items()):
            found = dict(labels)
            metric.add_metric([reading.tenant, *(found.get(n, "") for n in family.labels)], value)
    return metric


def _histogram(family: Histogram, readings: Sequence[TenantReading]) -> Metric:
    metric = HistogramMetricFamily(family.name, family.help, labels=["tenant", *family.labels])
    bounds = [_bound(b) for b in (*family.buckets, float("inf"))]
    for reading in readings:
        series: dict[Labels, dict[str, float]] = {
            labels_of(zero): {} for zero in _zero_series(family, reading.providers)
        }
        sums: dict[Labels, float] = defaultdict(float)
        for sample in reading.samples:
            if sample.name == f"{family.name}_bucket":
                rest = dict(sample.labels)
                le = rest.pop("le", "")
                if le in bounds:  # a bound no longer declared is left out
                    series.setdefault(labels_of(rest), {})[le] = sample.value
            elif sample.name == f"{family.name}_sum":
                sums[sample.labels] += sample.value
                series.setdefault(sample.labels, {})
        for key, counts in sorted(series.items()):
            found = dict(key)
            metric.add_metric(
                [reading.tenant, *(found.get(n, "") for n in family.labels)],
                buckets=[(le, counts.get(le, 0.0)) for le in bounds],
                sum_value=sums.get(key, 0.0),
            )
    return metric


def uptime_family(recorder: MetricsRecorder) -> Iterable[Metric]:
    gauge = GaugeMetricFamily(
        UPTIME_NAME, "Seconds since the process answering this scrape started"
    )
    gauge.add_metric([], recorder.uptime())
    yield gauge
