"""`wagate smoke-test`'s service: it queues one message through the operator service, follows
that message's row until the provider reports it delivered, and says why when it is not —
by how far the message got."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from tests.unit.operator_fakes import NOW, World
from wagate.domain.messages import Provider
from wagate.domain.operators import Role
from wagate.pipeline.operator import CLI, Actor, Forbidden, NotFound
from wagate.pipeline.operator.ports import Delivery, DeliveryEvent
from wagate.pipeline.operator.service import OperatorService
from wagate.pipeline.smoke_test import Message, Milestone, SmokeTest

TARGET = "6281200000001"


@dataclass
class ScriptedDeliveries:
    """The row as successive polls find it: one (status, reported statuses) per poll, the last
    repeated. Answers only for keys the outbox really queued."""

    world: World
    script: list[tuple[str, tuple[str, ...]]]
    error: tuple[str | None, str | None] = (None, None)
    asked: list[str] = field(default_factory=list)

    async def delivery(self, key: str) -> Delivery | None:
        if key not in self.world.outbox.queued:
            return None
        self.asked.append(key)
        status, reported = self.script[min(len(self.asked), len(self.script)) - 1]
        queued = self.world.outbox.queued[key]
        return Delivery(
            key=key,
            provider=queued["provider"],
            status=status,
            created_at=NOW,
            status_at=NOW,
            attempts=1,
            provider_message_id="wamid.1" if status not in ("pending", "sending") else None,
            error_code=self.error[0],
            error_detail=self.error[1],
            events=tuple(
                DeliveryEvent(
                    status=name,
                    occurred_at=NOW,
                    received_at=NOW + timedelta(seconds=1 + i),
                )
                for i, name in enumerate(reported)
            ),
        )


@dataclass
class Clock:
    now: float = 100.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def smoke(world: World, deliveries: ScriptedDeliveries, clock: Clock, by: Actor = CLI) -> SmokeTest:
    service: OperatorService = world.service()
    service = replace(service, sending=replace(service.sending, deliveries=deliveries))
    return SmokeTest(
        operator=service,
        by=by,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        poll_seconds=0.5,
        new_key=lambda: "smoke-1",
    )


async def test_a_template_is_followed_until_delivered_with_each_steps_time() -> None:
    world, clock = World(), Clock()
    deliveries = ScriptedDeliveries(
        world,
        [
            ("pending", ()),
            ("accepted", ()),
            ("sent", ("sent",)),
            ("delivered", ("sent", "delivered")),
        ],
    )
    seen: list[Milestone] = []
    result = await smoke(world, deliveries, clock).run(
        TARGET,
        Message(template="jadwal", parameters=["Senin"]),
        wait_seconds=30,
        progress=seen.append,
    )
    assert result.delivered and result.problem == ""
    assert result.key == "cli:smoke-1"
    assert world.outbox.queued["cli:smoke-1"]["kind"] == "template"
    assert [m.status for m in seen] == ["queued", "accepted", "sent", "delivered"]
    assert [m.seen_after for m in seen] == [0.0, 0.5, 1.0, 1.5]
    assert [m.webhook_after for m in seen] == [None, None, 1.0, 2.0]
    assert result.milestones == tuple(seen)
    assert result.provider == Provider.META


async def test_a_status_that_skips_steps_is_still_reported_in_the_ladders_order() -> None:
    world, clock = World(), Clock()
    # "read" arrived first and the row jumped there; "delivered" came in the same poll.
    deliveries = ScriptedDeliveries(world, [("read", ("read", "delivered"))])
    result = await smoke(world, deliveries, clock).run(TARGET, Message(text="hi"), wait_seconds=5)
    assert [m.status for m in result.milestones] == ["queued", "delivered", "read"]
    assert result.delivered


async def test_a_text_outside_the_window_fails_and_points_to_a_template() -> None:
    world, clock = World(), Clock()
    deliveries = ScriptedDeliveries(
        world,
        [("pending", ()), ("failed", ())],
        error=("window_closed", "outside the 24-hour window"),
    )
    result = await smoke(world, deliveries, clock).run(
        TARGET, Message(text="hi", provider=Provider.META), wait_seconds=30
    )
    assert not result.delivered
    assert result.problem == "failed (window_closed): outside the 24-hour window"
    assert "--template" in result.hint
    assert world.outbox.queued["cli:smoke-1"]["provider"] == Provider.META


@pytest.mark.parametrize(
    ("stuck_at", "words"),
    [
        ("pending", "no worker took the message"),
        ("accepted", "the `messages` field"),
        ("sent", "is it online"),
    ],
)
async def test_waiting_too_long_says_where_the_message_stopped(stuck_at: str, words: str) -> None:
    world, clock = World(), Clock()
    deliveries = ScriptedDeliveries(world, [(stuck_at, ("sent",) if stuck_at == "sent" else ())])
    result = await smoke(world, deliveries, clock).run(TARGET, Message(text="hi"), wait_seconds=3)
    assert not result.delivered
    assert result.problem == f"no delivery status within 3 s (last status: {stuck_at})"
    assert words in result.hint
    assert sum(clock.slept) >= 3
    assert len(deliveries.asked) == 7  # at 0, 0.5 … 3.0 s


async def test_a_viewer_may_not_send_a_smoke_test_and_an_unknown_key_is_not_found() -> None:
    world, clock = World(), Clock()
    deliveries = ScriptedDeliveries(world, [("delivered", ())])
    viewer = Actor(via="cli", role=Role.VIEWER)
    with pytest.raises(Forbidden):
        await smoke(world, deliveries, clock, by=viewer).run(
            TARGET, Message(text="hi"), wait_seconds=1
        )
    service = replace(world.service().sending, deliveries=deliveries)
    with pytest.raises(NotFound):
        await service.delivery("cli:never-queued", by=CLI)
