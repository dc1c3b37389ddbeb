"""PostgreSQL's CPU to hand out a backlog of jobs, claim by claim (issue 18, migration 0025).

A flood leaves thousands of conversation jobs waiting; the worker takes them with
`storage/queue.CLAIM_JOBS_SQL`, up to its free slots per statement, and deletes each finished
job (`DELETE_SUCCEEDED_JOBS_SQL`). This queues `--backlog` jobs (distinct conversations, due
now) in one statement and drains them as the worker does — a claim of `--limit` jobs, then
their deletion, each statement autocommit — against two fresh databases on a PostgreSQL of
this machine: one at `0024_search_custom_plans` (the bare claim statement as it was) and one at
the head (`wagate_claim_jobs` and the index on open jobs' locks), in turn, `--rounds` times.

Statistics (`--statistics`): `stale` — ANALYZE the job table while it is empty, then queue:
what the planner knows in the first seconds of a flood, before the worker's own ANALYZE
(`storage/queue_statistics.py`); `fresh` — ANALYZE after queueing.

Read: the backend's CPU (/proc, user + system) and the shared buffers the claims touched
(pg_stat_statements is not needed: the table's and its indexes' block counters), per job.
`synchronous_commit` is off for the session so commit flushes do not dominate.

    python benchmarks/claim_backlog.py [--database-url postgresql://postgres@127.0.0.1:5432/]
        [--backlog 2000] [--limit 16] [--rounds 3] [--statistics stale|fresh]

Needs the server on this machine (its backend's /proc entry). Exit 1 if it is not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database
from job_cycle import WORKER_ID_SQL, backend_cpu, one_value

BEFORE = "0024_search_custom_plans"

# The claim as `storage/queue.py` sent it up to 0024.
BARE_CLAIM_SQL = """
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
       AND (%(queues)s::varchar[] IS NULL OR jobs.queue_name = ANY(%(queues)s::varchar[]))
       AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
     ORDER BY jobs.priority DESC, jobs.id ASC
     LIMIT %(limit)s
       FOR UPDATE OF jobs SKIP LOCKED
)
UPDATE procrastinate_jobs
   SET status = 'doing', worker_id = %(worker_id)s
  FROM candidate
 WHERE procrastinate_jobs.id = candidate.id
RETURNING procrastinate_jobs.*
"""

QUEUE_BACKLOG_SQL = """
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, scheduled_at)
SELECT %(queue)s, %(task)s, 'conversation:' || g, 'conversation:' || g,
       jsonb_build_object('conversation_id', g), now() - interval '1 second'
  FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(backlog)s - 1) AS g
"""

BLOCKS_SQL = """
SELECT coalesce(sum(heap_blks_hit + heap_blks_read + coalesce(idx_blks_hit, 0)
                    + coalesce(idx_blks_read, 0)), 0)
  FROM pg_statio_user_tables WHERE relname = 'procrastinate_jobs'
"""


def blocks(conn: psycopg.Connection[Any]) -> int:
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")
    return int(one_value(conn, BLOCKS_SQL))


def drain(
    url: str, claim_sql: str, *, first: int, backlog: int, limit: int, stale: bool
) -> tuple[float, float, int]:
    """(backend CPU ms, job-table blocks) per job, and the claims it took."""
    from wagate.storage.queue import DELETE_SUCCEEDED_JOBS_SQL, QUEUE, TASK

    with psycopg.connect(url, autocommit=True, options="-c synchronous_commit=off") as conn:
        pid = int(one_value(conn, "SELECT pg_backend_pid()"))
        worker_id = int(one_value(conn, WORKER_ID_SQL))
        if stale:
            conn.execute("ANALYZE procrastinate_jobs")
        conn.execute(
            QUEUE_BACKLOG_SQL, {"queue": QUEUE, "task": TASK, "first": first, "backlog": backlog}
        )
        if not stale:
            conn.execute("ANALYZE procrastinate_jobs")
        params = {"queues": [QUEUE], "worker_id": worker_id, "limit": limit}
        read_before = blocks(conn)
        cpu_before = backend_cpu(pid)
        taken = claims = 0
        while True:
            ids = [int(row[0]) for row in conn.execute(claim_sql, params).fetchall()]
            claims += 1
            if not ids:
                break
            taken += len(ids)
            conn.execute(DELETE_SUCCEEDED_JOBS_SQL, {"ids": ids})
        spent = backend_cpu(pid) - cpu_before
        read = blocks(conn) - read_before
    assert taken == backlog, f"drained {taken} of {backlog} jobs"
    return spent * 1000 / backlog, read / backlog, claims


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=16, help="jobs per claim (free slots)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--statistics", choices=("stale", "fresh"), default="stale")
    args = parser.parse_args(argv)
    from wagate.storage import migrate
    from wagate.storage.queue import CLAIM_JOBS_SQL

    with (
        fresh_database(args.database_url, "_bare") as bare_url,
        fresh_database(args.database_url, "_ordered") as ordered_url,
    ):
        migrate.upgrade(bare_url, BEFORE)
        migrate.upgrade(ordered_url)
        with psycopg.connect(bare_url, autocommit=True) as owner:
            local = Path(f"/proc/{one_value(owner, 'SELECT pg_backend_pid()')}").exists()
        if not local:
            print("the PostgreSQL server is not on this machine: its CPU cannot be read")
            return 1
        variants = {
            f"bare statement ({BEFORE[:4]})": (bare_url, BARE_CLAIM_SQL),
            "wagate_claim_jobs (0025)": (ordered_url, CLAIM_JOBS_SQL),
        }
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in variants}
        print(
            f"draining {args.backlog} jobs, {args.limit} per claim, {args.statistics} statistics"
            f" · {args.rounds} rounds"
        )
        for round_ in range(args.rounds):
            for name, (url, sql) in variants.items():
                first = 1 + round_ * args.backlog
                result = drain(
                    url,
                    sql,
                    first=first,
                    backlog=args.backlog,
                    limit=args.limit,
                    stale=args.statistics == "stale",
                )
                results[name].append(result)
                cpu, read, claims = result
                print(
                    f"  round {round_ + 1}  {name:<26} {cpu:7.3f} ms CPU  {read:7.1f} blocks"
                    f"  per job  ({claims} claims)"
                )
    print("medians per job (PostgreSQL backend CPU, job-table blocks touched):")
    for name, runs in results.items():
        cpu, read = (statistics.median(r[k] for r in runs) for k in range(2))
        print(f"  {name:<26} {cpu:7.3f} ms  {read:7.1f} blocks")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (the figures move with it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
