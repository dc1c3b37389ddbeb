"""The channel gate, the window routing and the delivery loop's outcomes, each alone on the
shared in-memory ports (test_deliver.py covers them together)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wagate.domain import errors as e
from wagate.domain.breaker import BreakerPolicy, ChannelHealth, ChannelState
from wagate.domain.capabilities import Capabilities
from wagate.domain.pacing import PairPacing
from wagate.domain.provider_port import CredentialCheck
from wagate.domain.retry import BackoffPolicy
from wagate.domain.window import Template, TemplateSet
from wagate.pipeline.channel_gate import PROBE_BUSY_WAIT, ChannelGate, GateRun, Go
from wagate.pipeline.deliver import Deliver
from wagate.pipeline.outbound_audit import OutboundAudit
from wagate.pipeline.outcomes import Deferred
from wagate.pipeline.ports import OutboundMessage
from wagate.pipeline.routing import AsTemplate, FreeForm, WindowClosed, previews_link, route
from wagate.testing import (
    Clock,
    Directory,
    MemoryAudit,
    MemoryHealth,
    MemoryOutbox,
    ScriptedProvider,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BREAKER = BreakerPolicy(failures=2, cooldown=timedelta(seconds=5))


def gate(
    health: ChannelHealth | None = None,
    provider: ScriptedProvider | None = None,
    pacing: PairPacing | None = None,
) -> tuple[ChannelGate, MemoryHealth, MemoryOutbox, MemoryAudit]:
    clock, audit = Clock(T0), MemoryAudit()
    store = MemoryHealth(health or ChannelHealth())
    outbox = MemoryOutbox(clock=clock)
    outbox.add(1)
    channel_gate = ChannelGate(
        outbox=outbox,
        providers=Directory(provider or ScriptedProvider()),
        clock=clock,
        record=OutboundAudit(audit=audit, clock=clock),
        health=store,
        breaker=BREAKER,
        pacing=pacing,
    )
    return channel_gate, store, outbox, audit


def message(outbox: MemoryOutbox) -> OutboundMessage:
    return outbox.rows[1].message


async def test_a_healthy_channel_lets_the_message_go_without_a_probe() -> None:
    g, _, outbox, _ = gate()
    admitted = await g.admit(message(outbox), ScriptedProvider(), T0, GateRun())
    assert isinstance(admitted, Go) and not admitted.probing


async def test_an_open_channel_waits_out_its_cool_down_then_one_message_probes() -> None:
    open_until = T0 + timedelta(seconds=5)
    health = ChannelHealth(state=ChannelState.OPEN, trips=1, retry_at=open_until)
    g, store, outbox, audit = gate(health)
    assert await g.admit(message(outbox), ScriptedProvider(), T0, GateRun()) == Deferred(
        until=open_until
    )
    admitted = await g.admit(message(outbox), ScriptedProvider(), open_until, GateRun())
    assert isinstance(admitted, Go) and admitted.probing
    assert store.health.state is ChannelState.HALF_OPEN
    assert "channel.state_changed" in audit.actions()
    # Another sender finds the probe taken: it looks again shortly.
    assert await g.admit(message(outbox), ScriptedProvider(), open_until, GateRun()) == Deferred(
        until=open_until + PROBE_BUSY_WAIT
    )


async def test_a_degraded_channel_asks_whether_the_token_works_again() -> None:
    probe_at = T0 + timedelta(seconds=15)
    degraded = ChannelHealth(state=ChannelState.DEGRADED, retry_at=probe_at, reason="190")
    provider = ScriptedProvider(credentials=CredentialCheck.REJECTED)
    g, store, outbox, _ = gate(degraded, provider)
    assert await g.admit(message(outbox), provider, probe_at, GateRun()) == Deferred(
        until=probe_at + BREAKER.degraded_probe
    )
    assert store.health.state is ChannelState.DEGRADED
    provider.credentials = CredentialCheck.VALID
    later = store.health.retry_at
    assert later is not None
    admitted = await g.admit(message(outbox), provider, later, GateRun())
    assert isinstance(admitted, Go) and not admitted.probing
    assert store.health.state is ChannelState.CLOSED


async def test_pacing_sleeps_a_short_wait_and_defers_a_long_one() -> None:
    g, _, outbox, _ = gate(pacing=PairPacing(burst=2, interval=timedelta(seconds=6)))
    run = GateRun(recent=[T0 - timedelta(seconds=1), T0])
    assert await g.pace(message(outbox), run) == Deferred(until=T0 + timedelta(seconds=5))
    assert await g.pace(message(outbox), GateRun(recent=[])) is None


def test_routing_text_template_or_closed_window() -> None:
    outbox = MemoryOutbox(clock=Clock(T0))
    outbox.add(1)
    inside = message(outbox)
    meta = ScriptedProvider()
    none = TemplateSet()
    carrier = TemplateSet(
        templates=(
            Template(name="lanjut", language="id", parameters=("isi",), purpose="out_of_window"),
        )
    )
    assert route(inside, meta, none, T0) == FreeForm()
    outside = replace(inside, last_inbound_at=T0 - timedelta(days=2))
    assert route(outside, meta, none, T0) == WindowClosed()
    # "isi" is a named parameter ({{isi}}): its name goes with the value.
    assert route(outside, meta, carrier, T0) == AsTemplate(
        name="lanjut", language="id", values=["part 0"], parameter_names=("isi",)
    )
    # A provider without a 24-hour window sends text whatever the time.
    fonnte_like = ScriptedProvider(capabilities=Capabilities())
    assert route(outside, fonnte_like, none, T0) == FreeForm()
    rerouted = replace(inside, kind="window_template")
    assert isinstance(route(rerouted, meta, carrier, T0), AsTemplate)
    operator = replace(inside, template={"name": "n", "language": "en", "parameters": [1]})
    assert route(operator, meta, none, T0) == AsTemplate(name="n", language="en", values=["1"])


def test_a_template_goes_with_its_values_on_one_line_and_named_ones_with_their_names() -> None:
    outbox = MemoryOutbox(clock=Clock(T0))
    outbox.add(1)
    inside = message(outbox)
    meta = ScriptedProvider()
    # A row queued before values were checked: its line break still must not reach Meta.
    queued = replace(
        inside,
        template={
            "name": "pengingat_sidang",
            "language": "id",
            "parameters": ["Ibu\nSiti", "12 Desember"],
            "parameter_names": ["nama", "tanggal"],
        },
    )
    assert route(queued, meta, TemplateSet(), T0) == AsTemplate(
        name="pengingat_sidang",
        language="id",
        values=["Ibu · Siti", "12 Desember"],
        parameter_names=("nama", "tanggal"),
    )
    positional = TemplateSet(
        templates=(
            Template(name="lanjut", language="id", parameters=("1",), purpose="out_of_window"),
        )
    )
    outside = replace(inside, last_inbound_at=T0 - timedelta(days=2), text="a\n\nb")
    assert route(outside, meta, positional, T0) == AsTemplate(
        name="lanjut", language="id", values=["a · b"]
    )


def test_only_an_operators_text_with_a_link_asks_for_a_preview_where_one_can_be_shown() -> None:
    outbox = MemoryOutbox(clock=Clock(T0))
    outbox.add(1)
    reply = replace(message(outbox), text="Lihat https://contoh.id/jadwal")
    meta, fonnte_like = ScriptedProvider(), ScriptedProvider(capabilities=Capabilities())
    assert not previews_link(reply, meta)  # an AI answer: nobody chose its links
    for kind in ("operator", "human"):
        assert previews_link(replace(reply, kind=kind), meta)
        assert not previews_link(replace(reply, kind=kind), fonnte_like)
        assert not previews_link(replace(reply, kind=kind, text="Lihat contoh.id"), meta)


async def test_the_loop_goes_on_after_a_failure_and_stops_at_the_first_deferral_once() -> None:
    clock = Clock(T0)
    outbox = MemoryOutbox(clock=clock)
    outbox.add(4)
    outbox.rows[1].message = replace(outbox.rows[1].message, last_inbound_at=T0 - timedelta(2))
    provider = ScriptedProvider([None, e.ProviderUnavailable("503")])
    deliver = Deliver(
        outbox=outbox,
        providers=Directory(provider),
        backoff=BackoffPolicy(max_attempts=3, base=timedelta(seconds=1)),
        clock=clock,
        jitter=lambda: 0.0,
        health=MemoryHealth(),
        pacing=None,
    )
    assert await deliver(1) == 1
    # 1: window closed (failed, the loop goes on); 2: sent; 3: retry later (stops); 4 waits.
    assert outbox.statuses() == ["failed", "accepted", "pending", "pending"]
    assert outbox.rows[1].error_code == "window_closed"
    assert outbox.rows[4].attempts == 0
    assert len(outbox.deferred) == 1 and outbox.deferred[0] == outbox.rows[3].next_attempt_at
