"""procrastinate's worker, without building log context for records that are dropped (issue 18).

procrastinate's worker logs each job four times (loaded, started, its outcome, its status
saved), at DEBUG and INFO, and builds each record's `extra` first — a copy of the job's
fields, its call string, the worker's name and queues, the timings — whether or not the
record is kept. wagate keeps procrastinate's loggers at WARNING unless LOG_LEVEL asks for more
(`observability/logs.py`), and its formatter renders a record's message, not its `extra`. So
while INFO is off for procrastinate's worker logger, a record's `extra` is only its action,
and a successful job's outcome (an INFO record) is not composed at all. With INFO on,
everything is as procrastinate does it. An error outcome is still logged at ERROR as before.

This overrides two of procrastinate's private methods (`_log_extra`, `_log_job_outcome`,
procrastinate 3.10); a release that renames them leaves this a plain procrastinate worker.
"""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import jobs, worker

_OUTCOME_LOG = logging.getLogger(worker.__name__)  # the logger procrastinate's outcome uses


class QuietWorker(worker.Worker):
    def _log_extra(
        self, action: str, context: Any, job_result: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if self.logger.isEnabledFor(logging.INFO):
            extra: dict[str, Any] = super()._log_extra(action, context, job_result, **kwargs)
            return extra
        return {"action": action}

    def _log_job_outcome(
        self,
        status: jobs.Status,
        context: Any,
        job_result: Any,
        job_retry: Any,
        exc_info: bool | BaseException = False,
    ) -> None:
        if status == jobs.Status.SUCCEEDED and not _OUTCOME_LOG.isEnabledFor(logging.INFO):
            return  # an INFO record nobody keeps
        super()._log_job_outcome(
            status=status,
            context=context,
            job_result=job_result,
            job_retry=job_retry,
            exc_info=exc_info,
        )
