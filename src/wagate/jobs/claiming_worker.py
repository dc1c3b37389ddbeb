"""procrastinate's worker, claiming as many ready jobs per fetch as it has free slots (issue 18).

procrastinate's worker loop takes a slot, fetches ONE job (a round trip), starts it, and only
then takes the next slot: the fetches are serial. Under a flood that loop set the pace, not
the jobs: on a busy two-core machine a fetch took ~9 ms, so about 100 jobs a second started
while ~5 of the 16 slots were in use. Here the loop takes one slot (waiting for it as
procrastinate does), then every other slot free at that moment without waiting, and claims up
to that many jobs in one statement (`storage/queue.CLAIM_JOBS_SQL`: procrastinate's fetch
rule with a limit). Every claimed job is started at once, as procrastinate starts the one it
fetched: nothing is held claimed but unstarted, so a shutdown, a crash or a lost connection
leaves exactly what procrastinate's own loop would (running jobs, released by the heartbeat
sweep if the process dies). Slots no job took are given back. The slower the fetch, the more
slots are free at the next one: the loop keeps up by itself.

A succeeded job's row is deleted in a batch with the others ending meanwhile
(`jobs/finish_batches.py`) instead of by a statement of its own; failures, aborts and retries
are recorded by procrastinate as before.

This overrides procrastinate's private `_fetch_and_process_jobs` and `_persist_job_status`
(procrastinate 3.10), as `QuietWorker` overrides its log helpers; the per-job part (context,
task, completion callback) is procrastinate's, unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from procrastinate import job_context, jobs, retry, utils

from wagate.jobs.finish_batches import FinishBatches
from wagate.jobs.quiet_worker import QuietWorker
from wagate.storage.queue import CLAIM_JOBS_SQL, DELETE_SUCCEEDED_JOBS_SQL


class ClaimingWorker(QuietWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._finishes = FinishBatches(self._delete_succeeded)

    async def _delete_succeeded(self, job_ids: Sequence[int]) -> list[int]:
        rows = await self.app.connector.execute_query_all_async(
            DELETE_SUCCEEDED_JOBS_SQL, ids=list(job_ids)
        )
        return [int(row["id"]) for row in rows]

    async def _persist_job_status(
        self,
        job: jobs.Job,
        status: jobs.Status,
        retry_decision: retry.RetryDecision | None,
        context: job_context.JobContext,
        job_result: job_context.JobResult | None,
    ) -> None:
        deleted = self.delete_jobs in (
            jobs.DeleteJobCondition.ALWAYS,
            jobs.DeleteJobCondition.SUCCESSFUL,
        )
        if retry_decision is not None or status != jobs.Status.SUCCEEDED or not deleted:
            await super()._persist_job_status(job, status, retry_decision, context, job_result)
            return
        assert job.id is not None
        await self._finishes.succeeded(job.id)
        self._job_ids_to_abort.pop(job.id, None)

    async def _claim(self, limit: int) -> list[jobs.Job]:
        assert self.worker_id is not None
        rows: list[dict[str, Any]] = await self.app.connector.execute_query_all_async(
            CLAIM_JOBS_SQL,
            queues=list(self.queues) if self.queues else None,
            worker_id=self.worker_id,
            limit=limit,
        )
        # Started in the order procrastinate would have fetched them (their locks differ, so
        # the order is a courtesy, not a rule).
        rows.sort(key=lambda row: (-row["priority"], row["id"]))
        return [jobs.Job.from_row(row) for row in rows]

    async def _free_slots(self) -> int:
        """Takes every slot free now, without waiting; how many it took."""
        taken = 0
        while not self._job_semaphore.locked():
            # Does not suspend: an unlocked semaphore has a free slot and no waiter.
            await self._job_semaphore.acquire()
            taken += 1
        return taken

    async def _fetch_and_process_jobs(self) -> None:
        """Fetch and process jobs until there is no job left or asked to stop."""
        while not self._stop_event.is_set():
            acquire_sem_task = asyncio.create_task(self._job_semaphore.acquire())
            slots = 0
            claimed: list[jobs.Job] = []
            try:
                await utils.wait_any(acquire_sem_task, self._stop_event.wait())
                if acquire_sem_task.done() and not acquire_sem_task.cancelled():
                    slots = 1
                if self._stop_event.is_set():
                    break
                slots += await self._free_slots()
                # Cleared before the claim, not after (procrastinate clears it after its
                # fetch): a job queued while the claim is under way wakes the loop again.
                self._new_job_event.clear()
                claimed = await self._claim(slots)
            finally:
                for _ in range(slots - len(claimed)):
                    self._job_semaphore.release()

            for job in claimed:
                self._start(job)
            if len(claimed) < slots:
                break  # the queue had fewer ready jobs than free slots: wait to be woken

    def _start(self, job: jobs.Job) -> None:
        job_id = job.id

        def abort_reason() -> job_context.AbortReason | None:
            return self._job_ids_to_abort.get(job_id) if job_id else None

        context = job_context.JobContext(
            app=self.app,
            worker_name=self.worker_name,
            worker_queues=self.queues,
            additional_context=self.additional_context.copy() if self.additional_context else {},
            job=job,
            abort_reason=abort_reason,
            start_timestamp=time.time(),
        )
        job_task = asyncio.create_task(
            self._process_job(context), name=f"process job {job.task_name}[{job.id}]"
        )
        self._running_jobs[job_task] = context

        def on_job_complete(task: asyncio.Task[Any]) -> None:
            del self._running_jobs[task]
            self._job_semaphore.release()

        job_task.add_done_callback(on_job_complete)
