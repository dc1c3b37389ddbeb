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


def insert_job_sql(source: str, conversation_column: str) -> str:
    """An INSERT that queues one job per row of `source` (a CTE name), unless one is waiting.

    Parameters it expects: `%(run_at)s` (when the job may start) and `%(attempt)s`.
    """
    return f"""
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, scheduled_at)
    SELECT '{QUEUE}', '{TASK}',
           'conversation:' || {conversation_column}, 'conversation:' || {conversation_column},
           jsonb_build_object('conversation_id', {conversation_column},
                              'attempt', %(attempt)s::int),
           %(run_at)s
      FROM {source}
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
    RETURNING id
    """


DEFER_SQL = (
    "WITH target AS (SELECT %(conversation_id)s::bigint AS conversation_id) "
    + insert_job_sql("target", "conversation_id")
)
