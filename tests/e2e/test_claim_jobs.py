"""Several ready jobs claimed in one statement (issue 18, `storage/queue.CLAIM_JOBS_SQL`, run by
`jobs/claiming_worker.py`): the jobs procrastinate's own fetch would hand out one by one, at
most one per conversation (lock), the oldest first, none scheduled later, none another worker
is claiming; and succeeded jobs' rows deleted in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.harness import fresh_database
from wagate.storage import migrate
from wagate.storage.queue import CLAIM_JOBS_SQL, DELETE_SUCCEEDED_JOBS_SQL, QUEUE, TASK

pytestmark = pytest.mark.e2e

Conn = psycopg.Connection[tuple[object, ...]]


def _job(
    conn: Conn,
    lock: str | None,
    *,
    status: str = "todo",
    later: bool = False,
    priority: int = 0,
    queue: str = QUEUE,
) -> int:
    at = datetime.now(UTC) + (timedelta(hours=1) if later else -timedelta(seconds=1))
    row = conn.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, scheduled_at, status,"
        " priority) VALUES (%s, %s, %s, '{}', %s, %s, %s) RETURNING id",
        (queue, TASK, lock, at, status, priority),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def _worker(conn: Conn) -> int:
    row = conn.execute("SELECT worker_id FROM procrastinate_register_worker_v1()").fetchone()
    assert row is not None
    return int(str(row[0]))


def _queue_state(conn: Conn) -> dict[str, int]:
    """A queue with one job of each kind the rule tells apart."""
    ids = {}
    ids["alone"] = _job(conn, "conversation:1")
    ids["running"] = _job(conn, "conversation:2", status="doing")
    ids["behind_running"] = _job(conn, "conversation:2")
    ids["later"] = _job(conn, "conversation:3", later=True)
    ids["first_of_two"] = _job(conn, "conversation:4")
    ids["second_of_two"] = _job(conn, "conversation:4")
    ids["no_lock"] = _job(conn, None)
    ids["urgent"] = _job(conn, "conversation:5", priority=5)
    ids["other_queue"] = _job(conn, "conversation:6", queue="elsewhere")
    return ids


def _claim(conn: Conn, worker: int, limit: int) -> list[int]:
    rows = conn.execute(
        CLAIM_JOBS_SQL, {"queues": [QUEUE], "worker_id": worker, "limit": limit}
    ).fetchall()
    return sorted(int(str(r[0])) for r in rows)


def _fetch_all(conn: Conn, worker: int) -> list[int]:
    """procrastinate's own fetch, called until it finds nothing."""
    found = []
    while True:
        row = conn.execute(
            "SELECT id FROM procrastinate_fetch_job_v2(%s::varchar[], %s)", ([QUEUE], worker)
        ).fetchone()
        if row is None or row[0] is None:
            return sorted(found)
        found.append(int(str(row[0])))


def test_a_claim_takes_what_procrastinate_s_fetch_would_one_per_conversation() -> None:
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            worker = _worker(conn)
            ids = _queue_state(conn)
            kind = {job: name for name, job in ids.items()}
            by_fetch = sorted(kind[job] for job in _fetch_all(conn, worker))
            conn.execute("DELETE FROM procrastinate_jobs")
            ids = _queue_state(conn)
            kind = {job: name for name, job in ids.items()}
            claimed = _claim(conn, worker, 20)
            # The same jobs procrastinate's fetch hands out one by one.
            assert sorted(kind[job] for job in claimed) == by_fetch
            assert by_fetch == ["alone", "first_of_two", "no_lock", "urgent"]
            rows = conn.execute(
                "SELECT status::text, worker_id FROM procrastinate_jobs WHERE id = ANY(%s)",
                (claimed,),
            ).fetchall()
            assert rows == [("doing", worker)] * len(claimed)
            # Nothing else is ready while those run.
            assert _claim(conn, worker, 20) == []


def test_a_claim_respects_its_limit_priority_and_other_workers_locks() -> None:
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            worker = _worker(conn)
            ids = _queue_state(conn)
            # Two at most: the higher priority first, then the oldest.
            assert _claim(conn, worker, 2) == sorted([ids["urgent"], ids["alone"]])
            # A job another worker's statement has locked is skipped, not waited for.
            with psycopg.connect(url) as other:
                other.execute(
                    "SELECT id FROM procrastinate_jobs WHERE id = %s FOR UPDATE",
                    (ids["first_of_two"],),
                )
                assert _claim(conn, worker, 20) == [ids["no_lock"]]
            # The conversation's second job waits for its first to end.
            assert _claim(conn, worker, 20) == [ids["first_of_two"]]
            assert _claim(conn, worker, 20) == []
            deleted = conn.execute(
                DELETE_SUCCEEDED_JOBS_SQL, {"ids": [ids["first_of_two"], ids["later"], 999999]}
            ).fetchall()
            # Only a job still todo or doing is deleted (procrastinate's finish raises for the
            # others; the worker's batch fails their waits the same way).
            assert sorted(int(str(r[0])) for r in deleted) == sorted(
                [ids["first_of_two"], ids["later"]]
            )
            assert _claim(conn, worker, 20) == [ids["second_of_two"]]


def _buffers_read(conn: Conn, sql: str, params: dict[str, object]) -> int:
    """Shared buffers a statement touched (EXPLAIN ANALYZE counts a function's own reads in
    its scan node); the statement runs and is rolled back."""
    with conn.transaction(force_rollback=True):
        plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params).fetchone()
    assert plan is not None
    top = plan[0][0]["Plan"]  # type: ignore[index]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])


# The claim as it was before migration 0025: the bare statement, planned on the statistics.
_BARE_CLAIM_SQL = """
WITH candidate AS (
    SELECT jobs.id FROM procrastinate_jobs AS jobs
     WHERE NOT EXISTS (
               SELECT 1 FROM procrastinate_jobs AS other_jobs
                WHERE jobs.lock IS NOT NULL AND other_jobs.lock = jobs.lock
                  AND (other_jobs.status = 'doing'
                       OR (other_jobs.status = 'todo'
                           AND (other_jobs.priority > jobs.priority
                                OR (other_jobs.priority = jobs.priority
                                    AND other_jobs.id < jobs.id)))))
       AND jobs.status = 'todo' AND jobs.queue_name = ANY(%(queues)s::varchar[])
       AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
     ORDER BY jobs.priority DESC, jobs.id ASC
     LIMIT %(limit)s
       FOR UPDATE OF jobs SKIP LOCKED
)
UPDATE procrastinate_jobs SET status = 'doing', worker_id = %(worker_id)s
  FROM candidate WHERE procrastinate_jobs.id = candidate.id
RETURNING procrastinate_jobs.*
"""


def test_a_claim_stops_at_its_limit_on_statistics_of_an_empty_queue() -> None:
    # The first seconds of a flood: statistics say the queue is empty, 2,000 jobs wait. The
    # claim walks the queue in order and stops at its limit instead of testing every job.
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            worker = _worker(conn)
            conn.execute("ANALYZE procrastinate_jobs")
            conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock,"
                " args, scheduled_at) SELECT %s, %s, 'conversation:' || g, 'conversation:' || g,"
                " '{}', now() - interval '1 second' FROM generate_series(1, 2000) AS g",
                (QUEUE, TASK),
            )
            params: dict[str, object] = {"queues": [QUEUE], "worker_id": worker, "limit": 10}
            for _ in range(2):  # the second call: the session's kept plan
                claimed = _buffers_read(conn, CLAIM_JOBS_SQL, params)
            bare = _buffers_read(conn, _BARE_CLAIM_SQL, params)
            assert claimed < 1_500, claimed
            assert bare > 10 * claimed, (bare, claimed)
            # And it claims the oldest ten.
            first = conn.execute(
                "SELECT min(id) FROM procrastinate_jobs WHERE status = 'todo'"
            ).fetchone()
            assert first is not None
            assert _claim(conn, worker, 10) == list(
                range(int(str(first[0])), int(str(first[0])) + 10)
            )


def test_a_claim_tests_each_job_s_lock_in_a_probe_however_long_the_backlog() -> None:
    # 15,000 waiting jobs: without an index on the lock of open jobs, each job the claim tests
    # read the whole (id, lock) index (a claim of 64: ~7,700 buffers).
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            worker = _worker(conn)
            conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock,"
                " args, scheduled_at) SELECT %s, %s, 'conversation:' || g, 'conversation:' || g,"
                " '{}', now() - interval '1 second' FROM generate_series(1, 15000) AS g",
                (QUEUE, TASK),
            )
            conn.execute("ANALYZE procrastinate_jobs")
            params: dict[str, object] = {"queues": [QUEUE], "worker_id": worker, "limit": 64}
            for _ in range(2):
                claimed = _buffers_read(conn, CLAIM_JOBS_SQL, params)
            assert claimed < 3_500, claimed


def test_going_down_from_0025_removes_the_claim_function_and_its_index() -> None:
    present = (
        "SELECT (SELECT count(*) FROM pg_proc WHERE proname = 'wagate_claim_jobs'),"
        " (SELECT count(*) FROM pg_class WHERE relname = 'wagate_jobs_open_lock')"
    )
    with fresh_database() as url:
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute(present).fetchone() == (1, 1)
        migrate.downgrade(url, "0024_search_custom_plans")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute(present).fetchone() == (0, 0)
        migrate.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute(present).fetchone() == (1, 1)
            assert _claim(conn, _worker(conn), 5) == []
