"""How a conversation job is put on the queue, in SQL, so it can share a transaction.

The job row is inserted in the same statement as the message it is for: a committed message
always has its job, with no window in which a crash leaves it orphaned. Two procrastinate keys
make the queue do the conversation's bookkeeping:

* `queueing_lock` — at most one *waiting* job per conversation; a second message of a burst
  finds it there (`ON CONFLICT … DO NOTHING`) and is picked up by the same job (debounce).
* `lock` — at most one *running* job per conversation, and jobs of one conversation run in
  the order they were queued, whichever worker takes them (ordering, SE2).

This writes procrastinate's `procrastinate_jobs` table directly (procrastinate's own defer
function has no "if not already queued" form). The columns used are those of procrastinate's
v3 schema, which migration 0001 installs; the end-to-end tests prove the worker runs them.
"""

from __future__ import annotations

QUEUE = "conversations"
TASK = "wagate.converse"


def lock_key(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def insert_job_sql(
    source: str,
    conversation_column: str,
    *,
    advance: bool = False,
    run_at: str = "%(run_at)s",
    returning: str = "id",
) -> str:
    """An INSERT that queues one job per row of `source` (a CTE name), unless one is waiting.

    Parameters it expects: `%(run_at)s` (when the job may start; or `run_at`, an expression
    over `source`'s columns) and `%(attempt)s`. `returning`: what each queued job returns.

    With `advance`, a job already waiting is brought forward to `run_at` when that is sooner:
    what asks for it (a failure reported by a status webhook, an e-mail retry, a deferral) must
    not wait behind a job scheduled for later (a pair slowed down for minutes). A job that runs
    early finds nothing due and queues itself again for the later time. New messages do not
    advance: their job's time is the debounce, and an update per message would cost a row
    version each.
    """
    return f"""
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, scheduled_at)
    SELECT '{QUEUE}', '{TASK}',
           'conversation:' || {conversation_column}, 'conversation:' || {conversation_column},
           jsonb_build_object('conversation_id', {conversation_column},
                              'attempt', %(attempt)s::int,
                              'tenant', {_tenant_of(conversation_column)}),
           {run_at}
      FROM {source}
    ON CONFLICT (queueing_lock) WHERE status = 'todo' {_ADVANCE if advance else "DO NOTHING"}
    RETURNING {returning}
    """


def _tenant_of(conversation_column: str) -> str:
    """The job names its tenant, so the worker runs it with that tenant's services. Every
    transaction sets its tenant (row-level security); the conversation's own row is the
    fallback for a connection that did not (the owner's, in maintenance scripts)."""
    return (
        "COALESCE(NULLIF(current_setting('wagate.tenant', true), ''), "
        f"(SELECT c.tenant FROM conversations c WHERE c.id = {conversation_column}))"
    )


# Only ever earlier: `WHERE` leaves a job due sooner untouched (no new row version either).
_ADVANCE = """DO UPDATE SET scheduled_at = EXCLUDED.scheduled_at
     WHERE procrastinate_jobs.scheduled_at > EXCLUDED.scheduled_at"""


DEFER_SQL = (
    "WITH target AS (SELECT %(conversation_id)s::bigint AS conversation_id) "
    + insert_job_sql("target", "conversation_id", advance=True)
)


# The knowledge-base refresh (issue 13): one job per tenant at a time, on the same queue (the
# worker runs one queue). `queueing_lock` keeps at most one waiting, `lock` one running.
KB_REFRESH_TASK = "wagate.kb_refresh"


def kb_refresh_lock(tenant: str) -> str:
    return f"kb-refresh:{tenant}"


# Inbound files (issue 16): one fetch job per media row, queued in the intake statement that
# stores the message, due at once (a Meta download link lasts minutes). `lock` keeps one fetch
# of a file running; `queueing_lock` one waiting. A retry queues the next try itself.
MEDIA_TASK = "wagate.media_fetch"


def media_lock(media_id: int) -> str:
    return f"media:{media_id}"


def insert_media_job_sql(
    source: str, media_column: str, *, run_at: str = "%(media_run_at)s"
) -> str:
    """An INSERT that queues a fetch job per row of `source` (a CTE name) unless one waits.
    Parameters: `%(media_attempt)s` and the `run_at` expression (`%(media_run_at)s`)."""
    return f"""
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, scheduled_at)
    SELECT '{QUEUE}', '{MEDIA_TASK}', 'media:' || {media_column}, 'media:' || {media_column},
           jsonb_build_object('media_id', {media_column},
                              'attempt', %(media_attempt)s::int,
                              'tenant', current_setting('wagate.tenant', true)),
           {run_at}
      FROM {source}
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
    RETURNING id
    """


# Several ready jobs claimed in one statement (issue 18): procrastinate's worker fetches one
# job per round trip, one after the other, so under a flood its fetch loop, not the jobs, set
# the pace (a fetch took ~9 ms on a busy machine while 16 slots waited; ~5 jobs ran at once).
# The rule is procrastinate's own `procrastinate_fetch_job_v2` (schema v3) with `LIMIT n`: a
# job is a candidate only when no job of its `lock` is running and none is waiting ahead of
# it, so the candidates of one statement have distinct locks (one per conversation, the
# oldest), and `FOR UPDATE … SKIP LOCKED` leaves jobs another worker is claiming to it.
# The statement is migration 0025's `wagate_claim_jobs`: with the sort planned out, it walks the
# waiting jobs in order and stops at the limit, even on statistics taken when the queue was
# nearly empty (the first seconds of a flood; see the migration).
CLAIM_JOBS_SQL = """
SELECT * FROM wagate_claim_jobs(%(queues)s::varchar[], %(worker_id)s::bigint, %(limit)s::int)
"""


# A succeeded job's row deleted, for several jobs in one statement: what
# `procrastinate_finish_job_v1(id, 'succeeded', delete_job => true)` does for one (it deletes
# only a job still `todo` or `doing`, and raises when there is none: the ids not returned).
DELETE_SUCCEEDED_JOBS_SQL = """
DELETE FROM procrastinate_jobs
 WHERE id = ANY(%(ids)s::bigint[]) AND status IN ('todo', 'doing')
RETURNING id
"""
