"""The worker's own record of the jobs it ended (for outcomes a database outage lost)."""

from __future__ import annotations

import time

from wagate.jobs.worker import EndedJobs


def test_ended_jobs_are_offered_only_after_their_grace_and_until_forgotten() -> None:
    """The worker's record of jobs whose coroutine ended here: the sweep releases those still
    `doing` after a grace (procrastinate writes the outcome a moment later), once."""
    ended = EndedJobs()
    ended.ended(7)
    assert ended.older_than(60) == []  # just ended: procrastinate may still be recording it
    time.sleep(0.02)
    assert ended.older_than(0.01) == [7]
    ended.forget([7])
    assert ended.older_than(0) == []
