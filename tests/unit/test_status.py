"""The status service: configuration as given, the database's answer now, every configured
channel (a channel with no record yet is sending), never a run of digits in a reason, and the
channel id only when asked for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from wagate.domain.breaker import ChannelHealth, ChannelState
from wagate.domain.messages import Provider
from wagate.pipeline.status import GatewayStatus, Gauges

AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


class Healths:
    def __init__(self, *rows: tuple[Provider, str, ChannelHealth]) -> None:
        self.rows = list(rows)

    async def all(self) -> list[tuple[Provider, str, ChannelHealth]]:
        return self.rows


async def _reachable() -> bool:
    return True


async def _unreachable() -> bool:
    return False


async def _gauges() -> Gauges:
    return Gauges(inbound_unprocessed=3)


def _status(healths: Healths, *, ping: Callable[[], Awaitable[bool]] = _reachable) -> GatewayStatus:
    return GatewayStatus(
        configuration={"sandbox": False, "database": {"embedded": True}, "apiToken": True},
        channels={Provider.META: "100200300400", Provider.FONNTE: "fonnte"},
        health=healths,
        ping=ping,
        count=_gauges,
    )


async def test_a_configured_channel_without_a_record_is_sending() -> None:
    states = await _status(Healths()).channel_states()
    assert [(s["provider"], s["state"], s["sending"]) for s in states] == [
        ("fonnte", "closed", True),
        ("meta", "closed", True),
    ]
    assert all("channel" not in s for s in states)


async def test_a_degraded_channel_says_why_without_the_digits() -> None:
    degraded = ChannelHealth(
        state=ChannelState.DEGRADED,
        reason="token refused for 100200300400 (code 190)",
        changed_at=AT,
        retry_at=AT,
    )
    states = await _status(Healths((Provider.META, "100200300400", degraded))).channel_states(
        with_ids=True
    )
    meta = next(s for s in states if s["provider"] == "meta")
    assert meta == {
        "provider": "meta",
        "channel": "100200300400",
        "state": "degraded",
        "sending": False,
        "failures": 0,
        "reason": "token refused for … (code 190)",
        "since": AT.isoformat(),
        "retryAt": AT.isoformat(),
    }


async def test_status_adds_reachability_in_place_and_the_channels() -> None:
    report = await _status(Healths(), ping=_unreachable).status()
    assert list(report) == ["sandbox", "database", "apiToken", "channels"]
    assert report["database"] == {"embedded": True, "reachable": False}
    assert len(report["channels"]) == 2


async def test_gauges_come_from_the_counter() -> None:
    assert (await _status(Healths()).gauges()).inbound_unprocessed == 3
