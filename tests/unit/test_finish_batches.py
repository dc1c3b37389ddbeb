"""Succeeded jobs' rows deleted in batches (issue 18, `jobs/finish_batches.py`): what ends
while a deletion is under way goes in the next one, each caller returns once the statement
carrying its id is done, a job whose row was gone fails its wait, and a failed statement fails
the waits of its batch only."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from wagate.jobs.finish_batches import IN_FLIGHT, FinishBatches, JobNotFinished


async def _turns() -> None:
    for _ in range(5):  # the tasks started, the statements under way
        await asyncio.sleep(0)


class Rows:
    def __init__(self, present: set[int]) -> None:
        self.present = present
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.fail_next = False

    async def delete(self, ids: Sequence[int]) -> list[int]:
        self.batches.append(list(ids))
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("database gone")
        gone = [i for i in ids if i in self.present]
        self.present -= set(gone)
        return gone


async def test_jobs_ending_meanwhile_share_the_next_statement() -> None:
    rows = Rows(set(range(1, 11)))
    batches = FinishBatches(rows.delete)
    first = [asyncio.create_task(batches.succeeded(1))]
    await _turns()
    first.append(asyncio.create_task(batches.succeeded(2)))
    await _turns()
    # Two statements may be under way; the jobs ending while they are wait for the next.
    assert rows.batches == [[1], [2]] and IN_FLIGHT == 2
    later = [asyncio.create_task(batches.succeeded(i)) for i in (3, 4, 5)]
    await _turns()
    assert rows.batches == [[1], [2]]
    assert not any(t.done() for t in first + later)
    rows.gate.set()
    await asyncio.gather(*first, *later)
    assert rows.batches[2:] == [[3, 4, 5]]
    assert rows.present == set(range(6, 11))


async def test_a_job_whose_row_is_gone_fails_its_wait_and_only_its_own() -> None:
    rows = Rows({1, 3})
    rows.gate.set()
    batches = FinishBatches(rows.delete)
    results = await asyncio.gather(
        batches.succeeded(1), batches.succeeded(2), batches.succeeded(3), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], JobNotFinished) and "job id: 2" in str(results[1])


async def test_a_failed_statement_fails_its_batch_and_the_next_goes_on() -> None:
    rows = Rows({1, 2, 3})
    rows.fail_next = True
    batches = FinishBatches(rows.delete)
    failing = asyncio.create_task(batches.succeeded(1))
    await _turns()
    rows.gate.set()
    with pytest.raises(ConnectionError):
        await failing
    await asyncio.gather(batches.succeeded(2), batches.succeeded(3))
    assert rows.present == {1}  # left `doing`: the sweep releases it, as before


async def test_jobs_queued_behind_a_cancelled_statement_are_still_deleted() -> None:
    rows = Rows(set(range(1, 6)))
    batches = FinishBatches(rows.delete)
    first = [asyncio.create_task(batches.succeeded(1))]
    await _turns()
    first.append(asyncio.create_task(batches.succeeded(2)))
    await _turns()
    queued = [asyncio.create_task(batches.succeeded(i)) for i in (3, 4)]
    await _turns()
    assert rows.batches == [[1], [2]]
    for drain in list(batches._tasks):  # both statements' tasks cancelled mid-flight
        drain.cancel()
    await _turns()
    rows.gate.set()
    await asyncio.wait_for(asyncio.gather(*queued), timeout=1)
    assert rows.batches[2:] == [[3, 4]]
    assert {3, 4}.isdisjoint(rows.present)
    for task in first:  # their own statements were cancelled: they learn it
        with pytest.raises(asyncio.CancelledError):
            await task
