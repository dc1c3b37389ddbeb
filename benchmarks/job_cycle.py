"""PostgreSQL's CPU per conversation job's queue cycle, with and without the job history
(issue 18, migration `0023_lean_jobs`).

Every answered message costs the queue three statements: the job queued (`DEFER_SQL`, as the
webhook's intake and the sweep queue it), procrastinate's fetch (`procrastinate_fetch_job_v2`,
the worker's claim) and its finish (`procrastinate_finish_job_v1`, the successful job
deleted). This runs that cycle as the gateway does — autocommit, each statement a transaction
of its own — against two fresh databases on a PostgreSQL of this machine, one migrated to
`0022_lean_identity` (procrastinate's triggers write `procrastinate_events` rows) and one to
the head (they do not), in turn, `--rounds` times, and reads:

* the CPU the server's backend process spent (its /proc counters, user + system);
* the WAL written meanwhile (the whole server's: other databases' writes count too, so it is a
  ceiling on a busy machine);
* the `procrastinate_events` rows inserted (the table's statistics, flushed before each read).

`synchronous_commit` is off for the measuring session so the flush of each commit does not
dominate. Each database's cycles use their own conversation ids, so the queue's locks never
meet.

    python benchmarks/job_cycle.py [--database-url postgresql://postgres@127.0.0.1:5432/]
        [--cycles 3000] [--rounds 3]

Needs the server on this machine (its backend's /proc entry). Exit 1 if it is not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database

TENANT = "default"
WORKER_ID_SQL = "SELECT worker_id FROM procrastinate_register_worker_v1()"
# procrastinate 3's own statements (its queries.sql), as its job manager sends them.
FETCH_SQL = """
SELECT id, status, task_name, priority, lock, queueing_lock, args, scheduled_at, queue_name,
       attempts, worker_id
  FROM procrastinate_fetch_job_v2(%(queues)s::varchar[], %(worker_id)s)
"""
FINISH_SQL = "SELECT procrastinate_finish_job_v1(%(job_id)s, %(status)s, %(delete_job)s)"
EVENTS_SQL = "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'procrastinate_events'"


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_value(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def events_inserted(conn: psycopg.Connection[Any]) -> int:
    conn.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, reported now
    conn.execute("SELECT 1")
    return int(one_value(conn, EVENTS_SQL) or 0)


def measure(url: str, first_conversation: int, cycles: int) -> tuple[float, float, float]:
    """(backend CPU ms, WAL bytes, events rows) per cycle."""
    from wagate.storage.queue import DEFER_SQL, QUEUE

    with psycopg.connect(url, autocommit=True, options="-c synchronous_commit=off") as conn:
        conn.execute("SELECT set_config('wagate.tenant', %s, false)", (TENANT,))
        pid = int(one_value(conn, "SELECT pg_backend_pid()"))
        worker_id = int(one_value(conn, WORKER_ID_SQL))

        def cycle(conversation_id: int) -> None:
            due = datetime.now(UTC) - timedelta(seconds=1)
            queued = {"conversation_id": conversation_id, "run_at": due, "attempt": 0}
            conn.execute(DEFER_SQL, queued)
            job = one_value(conn, FETCH_SQL, {"queues": [QUEUE], "worker_id": worker_id})
            assert job is not None, "the job just queued was not fetched"
            conn.execute(FINISH_SQL, {"job_id": job, "status": "succeeded", "delete_job": True})

        for i in range(50):  # warm: statements prepared, caches filled
            cycle(first_conversation + i)
        events = events_inserted(conn)
        lsn = one_value(conn, "SELECT pg_current_wal_lsn()")
        before = backend_cpu(pid)
        for i in range(50, 50 + cycles):
            cycle(first_conversation + i)
        spent = backend_cpu(pid) - before
        wal = float(one_value(conn, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,)))
        events = events_inserted(conn) - events
    return spent * 1000 / cycles, wal / cycles, events / cycles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--cycles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from wagate.storage import migrate

    with (
        fresh_database(args.database_url, "_history") as history_url,
        fresh_database(args.database_url, "_lean") as lean_url,
    ):
        migrate.upgrade(history_url, "0022_lean_identity")
        migrate.upgrade(lean_url)
        with psycopg.connect(lean_url, autocommit=True) as owner:
            local = Path(f"/proc/{one_value(owner, 'SELECT pg_backend_pid()')}").exists()
        if not local:
            print("the PostgreSQL server is not on this machine: its CPU cannot be read")
            return 1
        variants = {"with history (0022)": history_url, "lean (0023)": lean_url}
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
        print(f"job cycle (queue, fetch, finish) · {args.cycles} cycles × {args.rounds} rounds")
        for round_ in range(args.rounds):
            for name, url in variants.items():
                first = 1 + round_ * (args.cycles + 50)
                cpu, wal, events = measure(url, first, args.cycles)
                results[name].append((cpu, wal, events))
                print(
                    f"  round {round_ + 1}  {name:<20} {cpu:6.3f} ms CPU  {wal:6.0f} B WAL"
                    f"  {events:4.2f} events rows"
                )
    print("medians per cycle (PostgreSQL backend CPU, WAL, procrastinate_events rows):")
    for name, runs in results.items():
        cpu, wal, events = (statistics.median(r[k] for r in runs) for k in range(3))
        print(f"  {name:<20} {cpu:6.3f} ms  {wal:6.0f} B  {events:4.2f} rows")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (the figures move with it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
