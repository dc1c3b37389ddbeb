"""PostgreSQL's own account per reply, by statement: `pg_statements.py SERVER_URL REPLIES [N]`.

For a server with `pg_stat_statements` loaded (`shared_preload_libraries`, `track = all`,
`track_planning = on`) whose statistics were reset before a benchmark run: the database with
the most calls other than `postgres` (the benchmark's, even after it was dropped) is read, and
each statement's calls, execution and planning time, plans, WAL and shared buffers are divided
by REPLIES. `T` marks a statement the client sent, `n` one run inside a function or trigger
(its time is also inside its caller's). The first line sums the client's statements.

    psql … -c "SELECT pg_stat_statements_reset()"
    python benchmarks/answer_cpu.py --messages 1000 --paced-seconds 0 --database-url …
    python benchmarks/statement_counter/pg_statements.py postgresql://…/postgres 1001 30
"""

from __future__ import annotations

import sys

import psycopg

_DATABASE_SQL = """
SELECT dbid FROM pg_stat_statements
 WHERE dbid NOT IN (SELECT oid FROM pg_database WHERE datname IN ('postgres', 'template1'))
 GROUP BY dbid ORDER BY sum(calls) DESC LIMIT 1
"""
_TOTAL_SQL = """
SELECT sum(total_exec_time + total_plan_time), sum(calls), sum(wal_bytes), sum(wal_records)
  FROM pg_stat_statements WHERE dbid = %s AND toplevel
"""
_STATEMENTS_SQL = r"""
SELECT toplevel, calls, plans, total_exec_time, total_plan_time, wal_bytes, shared_blks_hit,
       regexp_replace(query, '\s+', ' ', 'g')
  FROM pg_stat_statements WHERE dbid = %s
 ORDER BY total_exec_time + total_plan_time DESC LIMIT %s
"""


def main(url: str, replies: float, limit: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(_DATABASE_SQL).fetchone()
        if found is None:
            print("no statements recorded")
            return
        dbid = found[0]
        total = conn.execute(_TOTAL_SQL, (dbid,)).fetchone()
        assert total is not None
        time, calls, wal, records = (float(v or 0) for v in total)
        print(
            f"client statements per reply: {time / replies:.3f} ms exec + plan, "
            f"{calls / replies:.2f} calls, WAL {wal / replies:.0f} B in {records / replies:.1f} "
            "records"
        )
        print(
            f"{'':2}{'calls':>7}{'plans':>7}{'exec ms':>9}{'plan ms':>9}{'WAL B':>8}{'hits':>7}"
            "  statement (per reply)"
        )
        for top, n, plans, run, plan, wal_bytes, hits, text in conn.execute(
            _STATEMENTS_SQL, (dbid, limit)
        ):
            print(
                f"{'T' if top else 'n':2}{n / replies:7.2f}{plans / replies:7.2f}"
                f"{run / replies:9.3f}{plan / replies:9.3f}{float(wal_bytes) / replies:8.0f}"
                f"{hits / replies:7.1f}  {text[:110]}"
            )


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 30)
