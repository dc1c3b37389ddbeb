"""The job claim walks the queue in order, whatever the statistics say (issue 18).

`storage/queue.CLAIM_JOBS_SQL` takes up to n ready jobs: procrastinate's rule (no job of the
same `lock` running or waiting ahead) over the waiting jobs in priority and id order, with a
limit. Planned on `procrastinate_jobs` statistics taken while the queue was nearly empty, the
planner expects one or two waiting jobs and chooses to read *every* waiting job (a bitmap
scan), test each against the rule and sort them, then keep the first n. The rule's test scans
`procrastinate_jobs_id_lock_idx_v1`, whose first column is the id, for the lock, so each test
costs about as much as the index is long: the claim grows with the square of the backlog. In a
flood of 1,000 messages on PostgreSQL 15 (auto_explain, benchmarks/README.md, p18pg3) claims
read 7,500 buffers and took 56–110 ms each for the seconds until the worker's own ANALYZE
(`storage/queue_statistics.py`, every 5 s at most) caught up; afterwards the same statement
walked the priority index and stopped after n jobs: 50 buffers, under 1 ms.

The claim is now `wagate_claim_jobs`, the same statement inside a PL/pgSQL function whose
settings apply only while it runs. With `enable_sort = off` the only plan left is the walk of
`procrastinate_jobs_priority_idx_v1` (priority DESC, id, waiting jobs only) that stops at the
limit. That walk reads no more than the sort plan in the worst case (every waiting job blocked
or scheduled later) and far less in every other.

Each job the walk meets is tested against the rule, and that test looked the lock up in
`procrastinate_jobs_id_lock_idx_v1`, whose first column is the id: it read the whole index,
so each test cost as much as the backlog is long (at 15,000 waiting jobs a claim of 64 read
7,700 buffers, 112 ms). `wagate_jobs_open_lock`, on the lock of waiting and running jobs,
answers it in a probe (the same claim: 1,800 buffers, 3 ms, most of them the update itself).
It costs an index entry when a job is queued and another when it starts.

The bare statement was also planned anew at every call (PostgreSQL found the kept plan, which
has to guess the limit, dearer than one planned for the call's limit): 0.5–0.8 ms of planning
per claim on this machine, and when the queue keeps up a claim takes one job, so that was per
answered message. With sorts, hash joins and merge joins planned out there is one sensible
plan for every limit (the ordered walk, the lock probes, the job rows updated by primary key),
so the function keeps it for the session (`plan_cache_mode = force_generic_plan`; an ANALYZE
of the job table invalidates it and the next call plans it again under the same settings).
`jit = off`: at ~100,000 waiting jobs the kept plan's guessed cost would pass
`jit_above_cost`, and compiling it costs ~100 ms, far more than the claim.

SECURITY INVOKER (the default): the app role claims as it did with the bare statement.

Revision ID: 0025_claim_in_order
Revises: 0024_search_custom_plans
"""

from alembic import op

revision = "0025_claim_in_order"
down_revision = "0024_search_custom_plans"
branch_labels = None
depends_on = None

# The statement is storage/queue.py's claim as it stood at 0024, its parameters renamed.
_CLAIM = """
CREATE FUNCTION wagate_claim_jobs(p_queues varchar[], p_worker_id bigint, p_limit int)
RETURNS SETOF procrastinate_jobs
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
SET enable_sort = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $claim$
BEGIN
    RETURN QUERY
    WITH candidate AS (
        SELECT jobs.id
          FROM procrastinate_jobs AS jobs
         WHERE NOT EXISTS (
                   SELECT 1
                     FROM procrastinate_jobs AS other_jobs
                    WHERE jobs.lock IS NOT NULL
                      AND other_jobs.lock = jobs.lock
                      AND (other_jobs.status = 'doing'
                           OR (other_jobs.status = 'todo'
                               AND (other_jobs.priority > jobs.priority
                                    OR (other_jobs.priority = jobs.priority
                                        AND other_jobs.id < jobs.id))))
               )
           AND jobs.status = 'todo'
           AND (p_queues IS NULL OR jobs.queue_name = ANY(p_queues))
           AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
         ORDER BY jobs.priority DESC, jobs.id ASC
         LIMIT p_limit
           FOR UPDATE OF jobs SKIP LOCKED
    )
    UPDATE procrastinate_jobs
       SET status = 'doing', worker_id = p_worker_id
      FROM candidate
     WHERE procrastinate_jobs.id = candidate.id
    RETURNING procrastinate_jobs.*;
END
$claim$
"""


def upgrade() -> None:
    op.execute(
        "CREATE INDEX wagate_jobs_open_lock ON procrastinate_jobs (lock)"
        " WHERE status IN ('todo', 'doing')"
    )
    op.execute(_CLAIM)


def downgrade() -> None:
    op.execute("DROP FUNCTION wagate_claim_jobs(varchar[], bigint, int)")
    op.execute("DROP INDEX wagate_jobs_open_lock")
