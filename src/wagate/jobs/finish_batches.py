"""Succeeded jobs' rows deleted in batches (issue 18).

procrastinate records each job's end with a statement of its own (`procrastinate_finish_job_v1`,
one round trip and one commit per job). A succeeded job of wagate's queue is simply deleted
(`delete_jobs="successful"`), so the worker hands those deletions here: what ends while a
deletion is under way goes in the next one, with no timer (at most `IN_FLIGHT` statements at
once), and each job's `_persist_job_status` returns only once the statement carrying its id
has committed, as it returned after its own statement before. A job whose row was no longer
`todo` or `doing` fails its wait as procrastinate's function would have raised. A failed,
aborted or retried job is recorded by procrastinate as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

# Two statements may be in flight: a job ending just after one left does not wait for it.
IN_FLIGHT = 2


class JobNotFinished(Exception):
    """The job's row was not `todo` or `doing` any more (what procrastinate raises too)."""


class FinishBatches:
    def __init__(self, delete: Callable[[Sequence[int]], Awaitable[Sequence[int]]]) -> None:
        self._delete = delete  # deletes the rows, returns the ids it deleted
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak refs

    async def succeeded(self, job_id: int) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((job_id, done))
        if self._running < IN_FLIGHT:
            self._start_drain()
        # Shielded: a job cancelled while its deletion is under way still learns its outcome
        # from the batch, as procrastinate's own finish is shielded from cancellation.
        await asyncio.shield(done)

    def _start_drain(self) -> None:
        self._running += 1
        task = asyncio.get_running_loop().create_task(self._drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    deleted = set(await self._delete([job_id for job_id, _ in batch]))
                except BaseException as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for job_id, done in batch:
                    if done.done():
                        continue
                    if job_id in deleted:
                        done.set_result(None)
                    else:
                        done.set_exception(
                            JobNotFinished(
                                f'Job was not found or not in "doing" or "todo" status '
                                f"(job id: {job_id})"
                            )
                        )
        finally:
            self._running -= 1
            if self._waiting and not self._running:
                # This drain was cancelled with jobs queued behind its batch: nothing else
                # would take them until another job succeeds, and their slots stay held.
                self._hand_on()

    def _hand_on(self) -> None:
        try:
            self._start_drain()
        except RuntimeError as exc:  # the loop is closing: the waiting jobs learn it
            self._running -= 1
            waiting, self._waiting = self._waiting, []
            for _, done in waiting:
                if not done.done():
                    done.set_exception(exc)
