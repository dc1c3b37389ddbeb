"""PostgreSQL's CPU per intake statement, and per part of it (issue 18).

The webhook path writes one statement per message (`storage/intake.py`). This runs that
statement, and the prefixes it is built from, as the gateway does — autocommit, prepared, as
the non-owner app role under row-level security, one connection holding the tenant — against
a fresh database on a PostgreSQL of this machine, and reads the CPU the server's backend
process spent (its /proc counters, user + system) and the WAL the statements wrote:

* `reference` — the minimal durable handler's `INSERT … ON CONFLICT DO NOTHING` (one table,
  one index; `reference_ingest.py`);
* `conversation` — the conversation upsert alone;
* `+message` — and the message insert (four indexes, the foreign key check);
* `text statement` — and the job-queue insert: the statement a text message runs.

Fifty senders in turn, every message one second newer than the one before (as real traffic:
`last_inbound_at` changes); the sealed columns are random bytes of the sizes the gateway
writes. `synchronous_commit` is off for the measuring session so the flush of each commit
(which the reference pays too) does not dominate; the variants run in turn, `--rounds` times.

    python benchmarks/intake_statement.py [--database-url postgresql://postgres@127.0.0.1:5432/]
        [--executions 4000] [--rounds 3]

Needs the server on this machine (its backend's /proc entry). Exit 1 if it is not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import fresh_database

TENANT = "default"
SENDERS = 50
_REFERENCE_TABLE = """
CREATE TABLE reference_inbound (message_id text PRIMARY KEY, body bytea NOT NULL,
                                received_at timestamptz NOT NULL DEFAULT now())
"""
_REFERENCE_SQL = """
INSERT INTO reference_inbound (message_id, body) VALUES (%(message_id)s, %(raw)s)
ON CONFLICT (message_id) DO NOTHING
"""


def variants() -> dict[str, str]:
    from wagate.storage import intake

    with_message = intake._CONVERSATION_AND_MESSAGE
    conversation_only = with_message.split("), stored AS (", 1)[0]
    return {
        "reference": _REFERENCE_SQL,
        # (the code's own SQL, no input in it)
        "conversation": conversation_only + ") SELECT count(*) FROM conversation",  # noqa: S608
        "+message": with_message + " SELECT count(*) FROM stored",  # noqa: S608
        "text statement": intake._STORE_MESSAGE_SQL,
    }


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def params_for(run: str, start: datetime) -> Callable[[int], dict[str, Any]]:
    def params(i: int) -> dict[str, Any]:
        sender = i % SENDERS
        return {
            "tenant": TENANT,
            "provider": "meta",
            "channel_id": "300000000000001",
            "contact_key": f"contact-{sender}",
            "phone": f"phone-{sender}",
            "user_id": None,
            "profile": os.urandom(260),
            "message_id": f"wamid.{run}.{i}",
            "kind": "text",
            "sent_at": start + timedelta(seconds=i),
            "content": os.urandom(700),
            "raw": os.urandom(1100),
            "run_at": start + timedelta(days=365),  # never due: no worker runs
            "attempt": 0,
            "media_type": None,
        }

    return params


def measure(app_url: str, sql: str, run: str, executions: int) -> tuple[float, float]:
    """(backend CPU ms, WAL bytes) per execution."""
    # Later runs start later, so each one's messages are newer than every earlier one's.
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=len(run) + time.time() % 10_000)
    params = params_for(run, start)
    with psycopg.connect(app_url, autocommit=True, options="-c synchronous_commit=off") as conn:
        conn.execute("SELECT set_config('wagate.tenant', %s, false)", (TENANT,))
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        pid = int(row[0])
        for i in range(SENDERS):  # the conversations exist; the statement is prepared
            conn.execute(sql, params(i))
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
        assert lsn is not None
        before = backend_cpu(pid)
        for i in range(SENDERS, SENDERS + executions):
            conn.execute(sql, params(i))
        spent = backend_cpu(pid) - before
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", lsn).fetchone()
        assert wal is not None
    return spent * 1000 / executions, float(wal[0]) / executions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--executions", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from wagate.storage import migrate
    from wagate.storage.roles import ensure_app_role

    with fresh_database(args.database_url, "_statement") as owner_url:
        migrate.upgrade(owner_url)
        with psycopg.connect(owner_url, autocommit=True) as owner:
            owner.execute(_REFERENCE_TABLE)  # before the grants: the app role may write it
            backend = owner.execute("SELECT pg_backend_pid()").fetchone()
            local = backend is not None and Path(f"/proc/{backend[0]}").exists()
        if not local:
            print("the PostgreSQL server is not on this machine: its CPU cannot be read")
            return 1
        app_url = ensure_app_role(owner_url, password="bench-intake-statement")
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants()}
        print(f"intake statement · {args.executions} executions × {args.rounds} rounds")
        for round_ in range(1, args.rounds + 1):
            for name, sql in variants().items():
                cpu, wal = measure(app_url, sql, f"{round_}.{name}", args.executions)
                results[name].append((cpu, wal))
                print(f"  round {round_}  {name:<15} {cpu:6.3f} ms CPU  {wal:6.0f} B WAL")
    print("medians (PostgreSQL backend CPU per statement, WAL per statement):")
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        wal = statistics.median(r[1] for r in runs)
        print(f"  {name:<15} {cpu:6.3f} ms  {wal:6.0f} B")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (the figures move with it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
