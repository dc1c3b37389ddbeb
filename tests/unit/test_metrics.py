"""Issue 17's metrics on the in-memory ports: what the pipeline counts where the work happens,
how a process's recorder adds it to the shared sums, and how a scrape shows them."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from wagate.domain import errors as e
from wagate.domain.breaker import BreakerPolicy
from wagate.domain.chat import AssistantUnavailable
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.messages import WebhookBatch
from wagate.domain.retry import BackoffPolicy
from wagate.observability.metrics import (
    AI_LATENCY,
    MetricsRecorder,
    Sample,
    TenantReading,
    families,
    labels_of,
)
from wagate.pipeline.conversation.record import answering
from wagate.pipeline.converse import Converse, ConversePolicy, Outcome
from wagate.pipeline.deliver import Deliver
from wagate.pipeline.intake import Intake
from wagate.pipeline.ports import IntakeResult, OutboundDraft
from wagate.testing import (
    Clock,
    Directory,
    MemoryConversationStore,
    MemoryHealth,
    MemoryIdentityStore,
    MemoryOutbox,
    MemorySessionStore,
    MemoryVaultStore,
    ScriptedAssistant,
    ScriptedProvider,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTICES = Notices(disclosure="", disclaimer="", apology="[maaf]")


def value(recorder: MetricsRecorder, name: str, tenant: str = "t", **labels: str) -> float:
    """What the recorder holds for one series, flushed or not (0 when nothing)."""
    return recorder.pending().get((tenant, name, labels_of(labels)), 0.0)


# ---------------------------------------------------------------------- the recorder


def test_a_histogram_is_kept_as_cumulative_buckets_and_a_sum() -> None:
    recorder = MetricsRecorder()
    metrics = recorder.tenant("t", sla_seconds=30)
    metrics.responded(provider="meta", seconds=12.0)
    metrics.responded(provider="meta", seconds=3.0)
    name = "whatsapp_response_time_seconds_bucket"
    assert value(recorder, name, provider="meta", le="2.5") == 0
    assert value(recorder, name, provider="meta", le="5.0") == 1
    assert value(recorder, name, provider="meta", le="15.0") == 2
    assert value(recorder, name, provider="meta", le="+Inf") == 2
    assert value(recorder, "whatsapp_response_time_seconds_sum", provider="meta") == 15.0
    # Neither was slower than the SLA.
    assert value(recorder, "whatsapp_sla_breach_total", provider="meta") == 0


@pytest.mark.parametrize(
    "seconds", [0.0, 0.3, 0.5, 0.50001, 1.0, 7.9, 8.0, 60.0, 61.0, math.inf, math.nan, -1.0]
)
def test_an_observation_lands_in_every_bucket_whose_bound_it_does_not_exceed(
    seconds: float,
) -> None:
    recorder = MetricsRecorder()
    for outcome in ("answered", "unavailable", "answered"):  # a series' keys built once, reused
        recorder.observe("t", AI_LATENCY, {"outcome": outcome}, seconds)
    for bound in (*AI_LATENCY.buckets, math.inf):
        le = "+Inf" if math.isinf(bound) else repr(bound)
        bucket = value(recorder, f"{AI_LATENCY.name}_bucket", outcome="answered", le=le)
        assert bucket == (2.0 if seconds <= bound else 0.0), le
    total = value(recorder, f"{AI_LATENCY.name}_sum", outcome="answered")
    assert total == 2 * seconds or (math.isnan(seconds) and math.isnan(total))


def test_a_response_slower_than_the_sla_is_a_breach_and_one_at_it_is_not() -> None:
    recorder = MetricsRecorder()
    metrics = recorder.tenant("t", sla_seconds=30)
    metrics.responded(provider="fonnte", seconds=30.0)
    metrics.responded(provider="fonnte", seconds=30.5)
    metrics.responded(provider="fonnte", seconds=400.0)
    assert value(recorder, "whatsapp_sla_breach_total", provider="fonnte") == 2
    strict = MetricsRecorder()
    strict.tenant("t", sla_seconds=5).responded(provider="fonnte", seconds=6.0)
    assert value(strict, "whatsapp_sla_breach_total", provider="fonnte") == 1


def test_each_tenant_counts_apart_and_nothing_counts_as_nothing() -> None:
    recorder = MetricsRecorder()
    recorder.tenant("a", sla_seconds=30).case_intake()
    recorder.tenant("b", sla_seconds=30).case_intake()
    recorder.tenant("b", sla_seconds=30).case_intake()
    recorder.tenant("a", sla_seconds=30).duplicates(provider="meta", kind="message", count=0)
    assert value(recorder, "whatsapp_intake_total", "a") == 1
    assert value(recorder, "whatsapp_intake_total", "b") == 2
    assert len(recorder.pending()) == 2  # a zero count leaves no series behind


@dataclass
class MemoryCounters:
    """The store's contract: each flush adds to the sums; `broken` tenants fail to write."""

    sums: dict[tuple[str, str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    writes: int = 0

    async def add(self, tenant: str, samples: Sequence[Sample]) -> None:
        if tenant in self.broken:
            raise OSError("database down")
        self.writes += 1
        for s in samples:
            key = (tenant, s.name, s.labels)
            self.sums[key] = self.sums.get(key, 0.0) + s.value

    async def read(self, tenant: str) -> list[Sample]:
        return [Sample(n, labels, v) for (t, n, labels), v in self.sums.items() if t == tenant]


async def test_a_flush_adds_only_what_was_counted_since_the_last_one() -> None:
    store = MemoryCounters()
    recorder = MetricsRecorder(store)
    metrics = recorder.tenant("t", sla_seconds=30)
    metrics.message(direction="in", provider="meta", status="received", count=3)
    await recorder.flush()
    assert recorder.pending() == {}
    await recorder.flush()  # nothing new: nothing written
    assert store.writes == 1
    metrics.message(direction="in", provider="meta", status="received")
    await recorder.flush()
    [total] = await metrics.totals()
    assert total.name == "whatsapp_message_total" and total.value == 4
    # Another process (another recorder on the same store) adds on; nobody overwrites.
    other = MetricsRecorder(store)
    other.tenant("t", sla_seconds=30).message(
        direction="in", provider="meta", status="received", count=2
    )
    await other.flush()
    assert [s.value for s in await metrics.totals()] == [6]


async def test_what_a_failed_flush_could_not_write_waits_for_the_next_and_counts_once() -> None:
    store = MemoryCounters(broken={"b"})
    recorder = MetricsRecorder(store)
    recorder.tenant("a", sla_seconds=30).case_intake()
    recorder.tenant("b", sla_seconds=30).case_intake()
    with pytest.raises(OSError):
        await recorder.flush()
    # "a" was written (if it came first) or kept; "b" was kept: nothing lost either way.
    written_a = store.sums.get(("a", "whatsapp_intake_total", ()), 0.0)
    assert written_a + value(recorder, "whatsapp_intake_total", "a") == 1
    assert value(recorder, "whatsapp_intake_total", "b") == 1
    recorder.tenant("b", sla_seconds=30).case_intake()  # meanwhile
    store.broken.clear()
    await recorder.flush()
    assert store.sums[("a", "whatsapp_intake_total", ())] == 1
    assert store.sums[("b", "whatsapp_intake_total", ())] == 2
    assert recorder.pending() == {}


async def test_the_flush_loop_survives_a_failing_store() -> None:
    store = MemoryCounters(broken={"t"})
    recorder = MetricsRecorder(store)
    recorder.tenant("t", sla_seconds=30).case_intake()
    loop = asyncio.create_task(recorder.flush_every(0.01))
    await asyncio.sleep(0.05)
    assert not loop.done()  # failures are logged, not fatal
    store.broken.clear()
    await asyncio.sleep(0.05)
    loop.cancel()
    assert store.sums[("t", "whatsapp_intake_total", ())] == 1


# ---------------------------------------------------------------------- the exposition


class _Families(Collector):
    def __init__(self, readings: list[TenantReading]) -> None:
        self.readings = readings

    def collect(self) -> Iterable[Metric]:
        yield from families(self.readings)


def exposition(readings: list[TenantReading]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(readings))
    return generate_latest(registry).decode()


def test_a_fresh_tenant_shows_every_seed_family_at_zero_for_its_providers() -> None:
    text = exposition([TenantReading("firm-a", [], ["fonnte", "meta"], 30.0)])
    for line in (
        'whatsapp_message_total{direction="in",provider="meta",status="received",tenant="firm-a"}'
        " 0.0",
        'whatsapp_message_total{direction="out",provider="fonnte",status="sent",tenant="firm-a"}'
        " 0.0",
        'whatsapp_message_total{direction="out",provider="meta",status="failed",tenant="firm-a"}'
        " 0.0",
        'whatsapp_intake_total{tenant="firm-a"} 0.0',
        'whatsapp_sla_breach_total{provider="meta",tenant="firm-a"} 0.0',
        'whatsapp_response_time_seconds_count{provider="meta",tenant="firm-a"} 0.0',
        'whatsapp_response_time_seconds_bucket{le="30.0",provider="meta",tenant="firm-a"} 0.0',
        'whatsapp_sla_seconds{tenant="firm-a"} 30.0',
        'whatsapp_media_retry_total{cause="object_store",provider="meta",tenant="firm-a"} 0.0',
        'whatsapp_media_store_seconds_count{provider="fonnte",tenant="firm-a"} 0.0',
    ):
        assert line in text, line
    assert "# TYPE whatsapp_error_total counter" in text  # declared, no series yet
    assert "# TYPE whatsapp_media_total counter" in text
    assert "# TYPE whatsapp_media_stored_bytes_total counter" in text


def test_a_files_problem_is_a_label_and_an_unknown_kind_is_other() -> None:
    recorder = MetricsRecorder()
    metrics = recorder.tenant("t", sla_seconds=30)
    metrics.media(provider="meta", kind="document", status="refused", problem="too_large")
    metrics.media(provider="meta", kind="hologram", status="received")
    metrics.media_stored(provider="meta", kind="image", size=2048, seconds=-1.0)
    samples = [Sample(n, labels, v) for (_, n, labels), v in recorder.pending().items()]
    text = exposition([TenantReading("t", samples, ["meta"], 30.0)])
    assert (
        'whatsapp_media_total{kind="document",problem="too_large",provider="meta",'
        'status="refused",tenant="t"} 1.0'
    ) in text
    assert 'kind="other",problem="",provider="meta",status="received"' in text
    assert 'whatsapp_media_stored_bytes_total{kind="image",provider="meta",tenant="t"} 2048.0' in (
        text
    )
    # Two clocks (the database's, the worker's) never make a negative time.
    assert 'whatsapp_media_store_seconds_sum{provider="meta",tenant="t"} 0.0' in text


def test_stored_sums_become_series_and_each_family_is_declared_once_for_all_tenants() -> None:
    recorder = MetricsRecorder()
    a = recorder.tenant("a", sla_seconds=30)
    a.responded(provider="meta", seconds=40.0)
    a.error(provider="meta", error_class="unavailable")
    recorder.tenant("b", sla_seconds=10).burst(messages=3)

    def reading(tenant: str, sla: float) -> TenantReading:
        samples = [Sample(n, labels, v) for (t, n, labels), v in recorder.pending().items()]
        return TenantReading(tenant, [s for s in samples if _of(recorder, tenant, s)], [], sla)

    text = exposition([reading("a", 30), reading("b", 10)])
    assert text.count("# TYPE whatsapp_response_time_seconds histogram") == 1
    assert 'whatsapp_response_time_seconds_count{provider="meta",tenant="a"} 1.0' in text
    assert 'whatsapp_response_time_seconds_bucket{le="30.0",provider="meta",tenant="a"} 0.0' in text
    assert 'whatsapp_response_time_seconds_bucket{le="45.0",provider="meta",tenant="a"} 1.0' in text
    assert 'whatsapp_response_time_seconds_sum{provider="meta",tenant="a"} 40.0' in text
    assert 'whatsapp_sla_breach_total{provider="meta",tenant="a"} 1.0' in text
    assert 'whatsapp_error_total{error_class="unavailable",provider="meta",tenant="a"} 1.0' in text
    assert 'whatsapp_debounce_batch_size_bucket{le="2.0",tenant="b"} 0.0' in text
    assert 'whatsapp_debounce_batch_size_bucket{le="3.0",tenant="b"} 1.0' in text
    assert 'whatsapp_debounce_batch_size_count{tenant="a"} 0.0' in text
    assert 'whatsapp_sla_seconds{tenant="b"} 10.0' in text


def _of(recorder: MetricsRecorder, tenant: str, sample: Sample) -> bool:
    return (tenant, sample.name, sample.labels) in recorder.pending()


# ---------------------------------------------------------------------- where the work happens


@dataclass
class World:
    converse: Converse
    clock: Clock
    store: MemoryConversationStore
    assistant: ScriptedAssistant
    provider: ScriptedProvider
    outbox: MemoryOutbox
    recorder: MetricsRecorder


def world(*, sla: float = 30.0, script: list[Exception | None] | None = None) -> World:
    clock = Clock(T0)
    recorder = MetricsRecorder()
    metrics = recorder.tenant("t", sla_seconds=sla)
    outbox = MemoryOutbox(clock=clock)
    sessions = MemorySessionStore()
    store = MemoryConversationStore(sessions=sessions, outbox=outbox)
    assistant = ScriptedAssistant()
    provider = ScriptedProvider(script=script or [])
    directory = Directory(provider)
    backoff = BackoffPolicy(max_attempts=2, base=timedelta(seconds=2))
    converse = Converse(
        store=store,
        identities=MemoryIdentityStore(),
        sessions=sessions,
        assistant=assistant,
        vaults=MemoryVaultStore(),
        deliver=Deliver(
            outbox=outbox,
            providers=directory,
            backoff=backoff,
            clock=clock,
            jitter=lambda: 0.0,
            health=MemoryHealth(),
            breaker=BreakerPolicy(),
            pacing=None,
            metrics=metrics,
        ),
        providers=directory,
        debounce=DebouncePolicy(quiet=timedelta(0), max_wait=timedelta(0)),
        backoff=backoff,
        policy=ConversePolicy(system_prompt="Anda asisten.", notices=NOTICES),
        clock=clock,
        jitter=lambda: 0.0,
        metrics=metrics,
    )
    return World(converse, clock, store, assistant, provider, outbox, recorder)


async def test_one_conversation_counts_its_reply_its_response_time_its_burst_and_its_ai_call() -> (
    None
):
    w = world()
    w.store.receive("Apa syarat cerai?", at=T0)
    w.store.receive("Dan biayanya?", at=T0 + timedelta(seconds=2))
    w.clock.now = T0 + timedelta(seconds=14)
    ticks = iter([100.0, 103.5])
    w.converse.ask.timer = lambda: next(ticks)
    assert await w.converse(1) is Outcome.ANSWERED
    r = w.recorder
    assert value(r, "whatsapp_message_total", direction="out", provider="meta", status="sent") == 1
    # From the latest message's receipt (T0 + 2 s) to the acceptance (T0 + 14 s).
    assert value(r, "whatsapp_response_time_seconds_sum", provider="meta") == 12.0
    assert value(r, "whatsapp_sla_breach_total", provider="meta") == 0
    assert value(r, "whatsapp_debounce_batch_size_bucket", le="2.0") == 1
    assert value(r, "whatsapp_debounce_batch_size_bucket", le="1.0") == 0
    assert value(r, "whatsapp_ai_latency_seconds_sum", outcome="answered") == 3.5


async def test_only_a_runs_first_message_is_timed_and_a_slow_one_breaches_the_sla() -> None:
    w = world(sla=10.0)
    w.assistant.script = ["x" * 5000]  # several parts
    w.store.receive("Pertanyaan panjang", at=T0)
    w.clock.now = T0 + timedelta(seconds=11)
    assert await w.converse(1) is Outcome.ANSWERED
    parts = value(
        w.recorder, "whatsapp_message_total", direction="out", provider="meta", status="sent"
    )
    assert parts == len(w.provider.sent) > 1
    assert (
        value(w.recorder, "whatsapp_response_time_seconds_bucket", provider="meta", le="+Inf") == 1
    )
    assert value(w.recorder, "whatsapp_sla_breach_total", provider="meta") == 1


async def test_an_apology_is_not_the_response_the_answer_after_the_retry_is() -> None:
    w = world()
    w.assistant.script = [AssistantUnavailable("down")]
    w.store.receive("Halo?", at=T0)
    assert await w.converse(1) is Outcome.RETRY
    assert w.provider.sent == ["[maaf]"]
    assert value(w.recorder, "whatsapp_response_time_seconds_sum", provider="meta") == 0
    assert value(w.recorder, "whatsapp_ai_latency_seconds_bucket", outcome="unavailable", le="+Inf")
    w.clock.now = T0 + timedelta(seconds=50)
    w.assistant.script = ["Jawaban."]
    assert await w.converse(1, attempt=1) is Outcome.ANSWERED
    assert value(w.recorder, "whatsapp_response_time_seconds_sum", provider="meta") == 50.0
    assert value(w.recorder, "whatsapp_sla_breach_total", provider="meta") == 1
    # The retried burst is one burst.
    assert value(w.recorder, "whatsapp_debounce_batch_size_bucket", le="+Inf") == 1


async def test_failed_attempts_count_by_error_class_and_a_dead_letter_as_failed() -> None:
    w = world(script=[e.ProviderUnavailable("503", code="131000"), e.RecipientUnreachable("no wa")])
    w.store.receive("Halo", at=T0)
    assert await w.converse(1) is Outcome.ANSWERED
    w.clock.now = w.outbox.deferred[-1]
    await w.converse.deliver(1)
    r = w.recorder
    assert value(r, "whatsapp_error_total", provider="meta", error_class="unavailable") == 1
    assert (
        value(r, "whatsapp_error_total", provider="meta", error_class="recipient_unreachable") == 1
    )
    assert (
        value(r, "whatsapp_message_total", direction="out", provider="meta", status="failed") == 1
    )
    assert value(r, "whatsapp_message_total", direction="out", provider="meta", status="sent") == 0
    assert value(r, "whatsapp_response_time_seconds_sum", provider="meta") == 0


@dataclass
class Stored:
    result: IntakeResult | None = None
    error: Exception | None = None

    async def store(self, batch: WebhookBatch, *, run_at: datetime) -> IntakeResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


async def test_intake_counts_new_messages_and_redeliveries_and_a_failed_commit() -> None:
    recorder = MetricsRecorder()
    metrics = recorder.tenant("t", sla_seconds=30)
    stored = Stored(IntakeResult(stored=2, duplicates=1, status_duplicates=3))
    intake = Intake(store=stored, debounce=timedelta(0), clock=lambda: T0, metrics=metrics)
    batch = WebhookBatch(others=(object(),))  # type: ignore[arg-type]
    await intake.receive(batch, source="fonnte")
    r = recorder
    assert (
        value(r, "whatsapp_message_total", direction="in", provider="fonnte", status="received")
        == 2
    )
    assert value(r, "whatsapp_webhook_duplicate_total", provider="fonnte", kind="message") == 1
    assert value(r, "whatsapp_webhook_duplicate_total", provider="fonnte", kind="status") == 3
    assert value(r, "whatsapp_media_total", provider="fonnte", status="received") == 0
    stored.result = IntakeResult(stored=3, files=("image", "document", "image"))
    await intake.receive(batch, source="fonnte")
    for kind, count in (("image", 2), ("document", 1)):
        labels = {"provider": "fonnte", "kind": kind, "status": "received", "problem": ""}
        assert value(r, "whatsapp_media_total", **labels) == count
    stored.error = OSError("database down")
    with pytest.raises(OSError):
        await intake.receive(batch, source="fonnte")
    assert value(r, "whatsapp_error_total", provider="fonnte", error_class="webhook_store") == 1


def test_the_first_draft_of_a_run_carries_the_latest_receipt() -> None:
    store = MemoryConversationStore()
    store.receive("a", at=T0 + timedelta(seconds=5))
    store.receive("b", at=T0 + timedelta(seconds=3))  # an earlier arrival listed later
    burst = store.bursts[1]
    drafts = [
        OutboundDraft(idempotency_key="k0", text="0", kind="notice"),
        OutboundDraft(idempotency_key="k1", text="1", kind="reply"),
    ]
    marked = answering(burst, drafts)
    assert [d.inbound_received_at for d in marked] == [T0 + timedelta(seconds=5), None]
    assert answering(burst, []) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (e.OutcomeUnknown("read timeout"), "outcome_unknown"),
        (e.ProviderUnavailable("502"), "unavailable"),
        (e.PairRateLimited("131056"), "pair_rate_limited"),
        (e.RateLimited("130429"), "rate_limited"),
        (e.DeviceDisconnected("offline"), "device_disconnected"),
        (e.TransientSendError("?"), "transient"),
        (e.AuthenticationFailed("190"), "auth"),
        (e.WindowClosed("131047"), "window_closed"),
        (e.QuotaExhausted("quota"), "quota"),
        (e.PermanentSendError("?"), "permanent"),
        (e.SendError("?"), "other"),
    ],
)
def test_every_send_error_has_a_bounded_class(error: e.SendError, expected: str) -> None:
    assert e.error_class(error) == expected
