"""Group commit: requests that arrive while a commit is in flight share the next one (issue 18).

Each webhook used to be its own transaction: one round trip, one commit record and one WAL
flush per message, and PostgreSQL's per-statement work (parse, plan, locks, index opens) paid
again for every row. Under concurrency most of that is shared when the requests waiting for a
commit go together. `GroupCommit` queues what callers submit; a drain runs as soon as one of
its `lanes` is free and takes whatever queued meanwhile (at most `most` items) as one batch.
There is no timer: an idle system commits a lone request at once, a busy one in batches the
size of what arrived during the previous commit. Every caller gets its own item's result, only
after the batch that carried it has finished, so an acknowledgement still follows its own
rows' commit.

A batch that raises fails every item in it with that error (the webhook answers 503 and the
provider delivers again); what a failure of one item's *content* should do is the `flush`
function's business (`storage.intake` re-runs each request alone).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Flush = Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, flush: Flush[Item, Result], *, lanes: int = 2, most: int = 64) -> None:
        """`flush(items)` commits the items as one batch and returns one result per item, in
        order. `lanes`: batches in flight at once (each holds a database connection);
        `most`: items per batch."""
        if lanes < 1 or most < 1:
            raise ValueError("group commit needs at least one lane and one item per batch")
        self._flush = flush
        self._lanes = lanes
        self._most = most
        self._queue: deque[tuple[Item, asyncio.Future[Result]]] = deque()
        self._draining = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """`item`'s result once the batch that carried it has committed; its error if not."""
        waiter: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, waiter))
        if self._draining < self._lanes:
            self._draining += 1
            # A task of its own, not the caller's: the caller's reply must not wait for the
            # batches that queue after its own.
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)  # the loop keeps only a weak reference
            task.add_done_callback(self._tasks.discard)
        return await waiter

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(self._most, len(self._queue)))]
                # A caller that gave up (cancelled) has nothing to wait for: leave it out.
                batch = [(item, waiter) for item, waiter in batch if not waiter.done()]
                if not batch:
                    continue
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as exc:
                    for _, waiter in batch:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                except BaseException as exc:  # cancelled (shutdown): nobody is acknowledged
                    for _, waiter in batch:
                        waiter.cancel()
                    self._fail_queued(exc)
                    raise
                if len(results) != len(batch):
                    mismatch = RuntimeError(
                        f"group commit: {len(results)} results for {len(batch)} items"
                    )
                    for _, waiter in batch:
                        if not waiter.done():
                            waiter.set_exception(mismatch)
                    continue
                for (_, waiter), result in zip(batch, results, strict=True):
                    if not waiter.done():
                        waiter.set_result(result)
        finally:
            self._draining -= 1

    def _fail_queued(self, exc: BaseException) -> None:
        while self._queue:
            _, waiter = self._queue.popleft()
            waiter.cancel(msg=str(exc) or None)
