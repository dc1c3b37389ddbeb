"""GroupCommit (issue 18): what queues while a batch commits goes as the next batch, each caller
gets its own item's result only after its batch finished, and a failed batch fails only its own
callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from wagate.storage.group_commit import GroupCommit


class Recorder:
    """A flush that records its batches and can be held open or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.running = 0
        self.most_running = 0
        self.gate: asyncio.Event | None = None
        self.fail_when: int | None = None  # fail a batch that contains this item

    async def __call__(self, items: Sequence[int]) -> list[str]:
        self.batches.append(list(items))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
            if self.fail_when is not None and self.fail_when in items:
                raise OSError(f"batch with {self.fail_when} failed")
            return [f"done {i}" for i in items]
        finally:
            self.running -= 1


async def test_a_lone_item_is_flushed_at_once_and_gets_its_result() -> None:
    flush = Recorder()
    group = GroupCommit(flush, lanes=1)
    assert await group.submit(7) == "done 7"
    assert flush.batches == [[7]]


async def test_items_that_queue_during_a_flush_go_together_in_the_next_batch() -> None:
    flush = Recorder()
    flush.gate = asyncio.Event()
    group = GroupCommit(flush, lanes=1)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.01)  # the first batch is in flight, held by the gate
    assert flush.batches == [[0]]
    rest = [asyncio.create_task(group.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0.01)
    assert not any(t.done() for t in [first, *rest])  # nobody answered before its commit
    flush.gate.set()
    assert await asyncio.gather(first, *rest) == [f"done {i}" for i in range(6)]
    assert flush.batches == [[0], [1, 2, 3, 4, 5]]


async def test_never_more_batches_in_flight_than_lanes_nor_items_than_most() -> None:
    flush = Recorder()
    flush.gate = asyncio.Event()
    group = GroupCommit(flush, lanes=2, most=3)
    tasks = [asyncio.create_task(group.submit(i)) for i in range(10)]
    await asyncio.sleep(0.01)
    assert flush.most_running == 2
    flush.gate.set()
    assert await asyncio.gather(*tasks) == [f"done {i}" for i in range(10)]
    assert flush.most_running == 2
    assert all(len(batch) <= 3 for batch in flush.batches)
    assert sorted(i for batch in flush.batches for i in batch) == list(range(10))


async def test_a_failed_batch_fails_its_own_callers_only() -> None:
    flush = Recorder()
    flush.gate = asyncio.Event()
    flush.fail_when = 2
    group = GroupCommit(flush, lanes=1)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.01)
    doomed = [asyncio.create_task(group.submit(i)) for i in (1, 2)]
    await asyncio.sleep(0.01)
    flush.gate.set()
    assert await first == "done 0"
    for task in doomed:
        with pytest.raises(OSError, match="batch with 2 failed"):
            await task
    assert await group.submit(3) == "done 3"  # the group goes on after a failed batch
    assert flush.batches == [[0], [1, 2], [3]]


async def test_a_caller_that_gave_up_is_left_out_of_the_batch() -> None:
    flush = Recorder()
    flush.gate = asyncio.Event()
    group = GroupCommit(flush, lanes=1)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.01)
    quitter = asyncio.create_task(group.submit(1))
    stays = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0.01)
    quitter.cancel()
    flush.gate.set()
    assert await asyncio.gather(first, stays) == ["done 0", "done 2"]
    assert quitter.cancelled()
    assert flush.batches == [[0], [2]]


async def test_a_flush_that_miscounts_its_results_fails_the_batch_rather_than_mixing_them() -> None:
    async def short(items: Sequence[int]) -> list[str]:
        return ["only one"]

    group = GroupCommit(short, lanes=1)
    tasks = [asyncio.create_task(group.submit(i)) for i in range(2)]
    for task in tasks:
        with pytest.raises(RuntimeError, match="1 results for 2 items"):
            await task


def test_a_group_needs_a_lane_and_room_for_an_item() -> None:
    async def flush(items: Sequence[int]) -> list[int]:
        return list(items)

    with pytest.raises(ValueError):
        GroupCommit(flush, lanes=0)
    with pytest.raises(ValueError):
        GroupCommit(flush, most=0)
