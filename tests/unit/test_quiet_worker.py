"""procrastinate's worker, quietened (issue 18): while INFO is off for procrastinate, a job's
log records carry only their action and a success is not composed; with INFO on, and for an
error at any level, the records are procrastinate's own."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import procrastinate
import pytest
from procrastinate import job_context, jobs
from procrastinate.testing import InMemoryConnector

from wagate.jobs.quiet_worker import QuietWorker


@pytest.fixture
def procrastinate_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger("procrastinate")
    level = logger.level
    yield logger
    logger.setLevel(level)


def _worker_and_context() -> tuple[QuietWorker, job_context.JobContext]:
    app = procrastinate.App(connector=InMemoryConnector())
    worker = QuietWorker(app=app, queues=["conversations"], name="wagate")
    worker.worker_id = 3
    job = jobs.Job(
        id=17,
        queue="conversations",
        lock="conversation:5",
        queueing_lock="conversation:5",
        task_name="wagate.converse",
        task_kwargs={"conversation_id": 5, "attempt": 0},
    )
    context = job_context.JobContext(
        app=app,
        worker_name="wagate",
        worker_queues=["conversations"],
        job=job,
        abort_reason=lambda: None,
        start_timestamp=time.time(),
    )
    return worker, context


def _outcome(worker: QuietWorker, context: job_context.JobContext, status: jobs.Status) -> None:
    result = job_context.JobResult(start_timestamp=time.time(), end_timestamp=time.time())
    worker._log_job_outcome(status=status, context=context, job_result=result, job_retry=None)


def test_quiet_below_info(
    procrastinate_level: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    procrastinate_level.setLevel(logging.WARNING)
    worker, context = _worker_and_context()
    assert worker._log_extra("start_job", context, None) == {"action": "start_job"}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="procrastinate"):
        _outcome(worker, context, jobs.Status.SUCCEEDED)
        assert caplog.records == []
        _outcome(worker, context, jobs.Status.FAILED)
    [error] = caplog.records
    assert error.levelno == logging.ERROR
    assert "wagate.converse[17]" in error.getMessage()


def test_procrastinate_s_own_records_at_info(
    procrastinate_level: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    procrastinate_level.setLevel(logging.INFO)
    worker, context = _worker_and_context()
    extra = worker._log_extra("start_job", context, None)
    assert extra["action"] == "start_job"
    assert extra["job"]["id"] == 17 and extra["worker"]["worker_id"] == 3
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="procrastinate"):
        _outcome(worker, context, jobs.Status.SUCCEEDED)
    [success] = caplog.records
    assert success.levelno == logging.INFO and "Success" in success.getMessage()
    assert success.__dict__["job"]["call_string"].startswith("wagate.converse[17]")
