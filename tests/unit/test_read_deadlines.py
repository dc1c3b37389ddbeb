"""The guarded protocol's read deadline: one timer per connection that follows a moving
deadline (web/server.py). The end-to-end cut-offs are in tests/e2e/test_hostile_input.py."""

from __future__ import annotations

import asyncio

from wagate.web.server import GuardedHttpProtocol


class _Transport:
    def __init__(self) -> None:
        self.closed_at: float | None = None
        self.loop = asyncio.get_running_loop()

    def is_closing(self) -> bool:
        return self.closed_at is not None

    def close(self) -> None:
        self.closed_at = self.loop.time()


def _guarded() -> tuple[GuardedHttpProtocol, _Transport]:
    # Only the deadline's part of the protocol: no uvicorn server behind it.
    protocol = GuardedHttpProtocol.__new__(GuardedHttpProtocol)
    transport = _Transport()
    protocol.loop = asyncio.get_running_loop()
    protocol.transport = transport  # type: ignore[assignment]
    return protocol, transport


async def test_a_deadline_moved_later_closes_at_the_later_time() -> None:
    protocol, transport = _guarded()
    start = asyncio.get_running_loop().time()
    protocol._arm(0.05)
    await asyncio.sleep(0.03)
    protocol._arm(0.1)  # the head arrived: the body's own deadline, later than the timer's
    await asyncio.sleep(0.05)
    assert transport.closed_at is None  # the first deadline passed without closing
    await asyncio.sleep(0.1)
    assert transport.closed_at is not None
    assert transport.closed_at - start >= 0.13


async def test_an_earlier_deadline_replaces_the_timer() -> None:
    protocol, transport = _guarded()
    protocol._arm(10)
    protocol._arm(0.02)
    await asyncio.sleep(0.08)
    assert transport.closed_at is not None


async def test_a_finished_request_is_never_cut_off() -> None:
    protocol, transport = _guarded()
    protocol._arm(0.02)
    protocol._deadline = None  # what on_message_complete does
    await asyncio.sleep(0.06)
    assert transport.closed_at is None
    assert protocol._timer is None  # the timer fired once and was not renewed


def test_sub_millisecond_timers_under_uvloop_do_not_break_arming() -> None:
    # uvloop returns a plain Handle (no `when()`) for a delay under half a millisecond: arming
    # again after such a timer, or re-arming a deadline a float step away, must still work.
    import uvloop

    async def scenario() -> tuple[float | None, bool]:
        protocol, transport = _guarded()
        protocol._arm(0.0002)
        protocol._arm(30)  # the head arrived: the body's deadline
        protocol._deadline = asyncio.get_running_loop().time() + 1e-12
        protocol._check_deadline()  # fired a hair early: sleeps again, at least a millisecond
        protocol._arm(0.0002)
        await asyncio.sleep(0.02)
        return transport.closed_at, protocol._timer is None

    closed_at, timer_gone = uvloop.run(scenario())
    assert closed_at is not None
    assert timer_gone
