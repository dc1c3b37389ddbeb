"""The job queue without its event history (issue 18): no `procrastinate_events` rows per job.

procrastinate's schema keeps a history of every job in `procrastinate_events`, written by
triggers on `procrastinate_jobs`: a row when a job is queued (`deferred`), another when it has a
time to run (`scheduled`, and every conversation job has one), another when a worker takes it
(`started`), and one for each later change of status. With successful jobs deleted, the rows
are deleted again with their job (the foreign key's cascade). Per answered message that was
three inserts, their six index entries and a cascaded delete, all for a history nothing reads:

* wagate finds stalled jobs by the worker's heartbeat (`procrastinate_workers`, the
  `worker_id` a fetch writes on the job; `storage/conversations.py`), never by `started`
  events, and does not run procrastinate's `remove_old_jobs` (the other reader, which picks
  old finished jobs by their latest event);
* retries are jobs queued again by wagate (`insert_job_sql`), not procrastinate's retry;
* the job's own row keeps what the operator gauges read (status, scheduled time, attempts).

So the three triggers that write the history are dropped; the functions they call stay, so
going down recreates the triggers exactly as procrastinate 3.x's schema declares them. The
abort-request trigger (wagate never aborts a job) and the queue's NOTIFY triggers stay.

`IF EXISTS`: migration 0001 installs the schema of the procrastinate version installed then;
a 3.x release that renamed a trigger leaves its own in place rather than failing here.

Revision ID: 0023_lean_jobs
Revises: 0022_lean_identity
"""

from alembic import op

revision = "0023_lean_jobs"
down_revision = "0022_lean_identity"
branch_labels = None
depends_on = None

# The three history triggers as procrastinate 3.10's schema.sql creates them.
_HISTORY_TRIGGERS = {
    "procrastinate_trigger_status_events_update_v1": """
        AFTER UPDATE OF status ON procrastinate_jobs
        FOR EACH ROW
        EXECUTE PROCEDURE procrastinate_trigger_function_status_events_update_v1()""",
    "procrastinate_trigger_status_events_insert_v1": """
        AFTER INSERT ON procrastinate_jobs
        FOR EACH ROW WHEN ((new.status = 'todo'::procrastinate_job_status))
        EXECUTE PROCEDURE procrastinate_trigger_function_status_events_insert_v1()""",
    "procrastinate_trigger_scheduled_events_v1": """
        AFTER UPDATE OR INSERT ON procrastinate_jobs
        FOR EACH ROW WHEN ((new.scheduled_at IS NOT NULL
                            AND new.status = 'todo'::procrastinate_job_status))
        EXECUTE PROCEDURE procrastinate_trigger_function_scheduled_events_v1()""",
}


def upgrade() -> None:
    for name in _HISTORY_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON procrastinate_jobs")


def downgrade() -> None:
    for name, definition in _HISTORY_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON procrastinate_jobs")
        op.execute(f"CREATE TRIGGER {name} {definition}")
