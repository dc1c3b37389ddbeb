"""The job queue's pool checks a connection only when it has been idle (issue 18): a connection
handed out a moment ago costs no extra round trip; an idle, new or broken one is checked."""

from __future__ import annotations

import psycopg
import pytest

from wagate.jobs import worker
from wagate.jobs.worker import CheckWhenIdle


class FakeConnection:
    """What psycopg_pool's check uses: autocommit and an empty statement."""

    def __init__(self, *, broken: bool = False) -> None:
        self.autocommit = True
        self.broken = broken
        self.checks = 0

    async def execute(self, query: str) -> None:
        assert query == ""
        self.checks += 1
        if self.broken:
            raise psycopg.OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    clock = [1000.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    return clock


async def test_a_new_connection_is_checked_then_trusted_while_in_use(now: list[float]) -> None:
    check, conn = CheckWhenIdle(idle_after=5.0), FakeConnection()
    await check(conn)  # never seen: checked
    assert conn.checks == 1
    for _ in range(10):  # handed out again and again within seconds: no round trip
        now[0] += 1.0
        await check(conn)
    assert conn.checks == 1


async def test_a_connection_idle_for_the_interval_is_checked_again(now: list[float]) -> None:
    check, conn = CheckWhenIdle(idle_after=5.0), FakeConnection()
    await check(conn)
    now[0] += 5.0
    await check(conn)
    assert conn.checks == 2
    other = FakeConnection()  # each connection has its own record
    await check(other)
    assert other.checks == 1


async def test_a_broken_idle_connection_fails_its_check_every_time(now: list[float]) -> None:
    check, conn = CheckWhenIdle(idle_after=5.0), FakeConnection(broken=True)
    with pytest.raises(psycopg.OperationalError):
        await check(conn)
    # A failed check never marks the connection as trusted.
    with pytest.raises(psycopg.OperationalError):
        await check(conn)
    assert conn.checks == 2


def test_the_job_queue_pool_uses_the_idle_check() -> None:
    pool = worker._pool_checking_idle_connections(
        conninfo="postgresql://nowhere/none", open=False, check=None
    )
    assert isinstance(pool._check, CheckWhenIdle)
