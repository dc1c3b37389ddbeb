"""Count the statements a `wagate serve` / `wagate worker` process sends (issue 18).

Put this directory first on PYTHONPATH (absolute paths: the gateway runs elsewhere) and set
STMT_COUNT_DIR; every gateway process started with that environment (the benchmarks pass it
on) counts each psycopg `AsyncCursor.execute` by its statement's first 110 characters,
whether it ran inside a pipeline, and the transactions it began (an autocommit statement
outside a pipeline, or a pipeline block begun outside a transaction), and writes them every
second to STMT_COUNT_DIR/<pid>.json. `executemany` is not counted. Other processes are left
alone. Each transaction is also labelled by where it began (the innermost `wagate` frame
outside `storage/database.py`: file and function) and by its first statement other than
BEGIN and the tenant's `set_config`; `summary.py` prints transactions per reply by label.

    STMT_COUNT_DIR=/tmp/counts PYTHONPATH=$PWD/benchmarks/statement_counter:$PWD/src \\
        python benchmarks/answer_cpu.py --messages 300 --paced-seconds 0
    python benchmarks/statement_counter/summary.py /tmp/counts 301
"""

from __future__ import annotations

import os
import sys

_OUT = os.environ.get("STMT_COUNT_DIR")


def _install(out: str) -> None:
    import atexit
    import collections
    import contextlib
    import json
    import re
    import threading
    import time
    from typing import Any

    import psycopg
    from psycopg.pq import TransactionStatus

    counts: collections.Counter[str] = collections.Counter()
    piped: collections.Counter[str] = collections.Counter()
    labels: collections.Counter[str] = collections.Counter()
    pending: dict[int, str] = {}  # id(connection) -> call site of a transaction not yet named
    execute = psycopg.AsyncCursor.execute
    pipeline = psycopg.AsyncConnection.pipeline

    def key(query: Any) -> str:
        text = query.decode() if isinstance(query, bytes) else str(query)
        return re.sub(r"\s+", " ", text).strip()[:110]

    def call_site() -> str:
        # The innermost frame of wagate's own code that is not the connection helpers: the
        # step that asked for the transaction (SQLAlchemy and psycopg frames are skipped).
        # With it, the first step of `pipeline/` further out, when that is another frame.
        frame: Any = sys._getframe(2)
        sites: list[str] = []
        while frame is not None and len(sites) < 2:
            path = frame.f_code.co_filename
            if "/wagate/" in path and not path.endswith("storage/database.py"):
                short = f"{path.rsplit('/wagate/', 1)[1]}:{frame.f_code.co_name}"
                if not sites or short.startswith("pipeline/"):
                    sites.append(short)
                if short.startswith("pipeline/"):
                    break
            frame = frame.f_back
        return " < ".join(sites) or "?"

    def name_transaction(conn: Any, name: str) -> None:
        site = pending.get(id(conn))
        if site is None or name.upper() in ("BEGIN", "COMMIT"):
            return
        if "set_config('wagate.tenant'" in name:
            return
        del pending[id(conn)]
        labels[f"{site} | {name[:70]}"] += 1

    async def counted_execute(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        name = key(query)
        counts[name] += 1
        conn = self._conn
        if conn._pipeline is not None:
            piped[name] += 1
        elif conn.info.transaction_status == TransactionStatus.IDLE and name.upper() != "BEGIN":
            counts["#transactions"] += 1  # an autocommit statement is a transaction
            pending[id(conn)] = call_site()
        name_transaction(conn, name)
        return await execute(self, query, params, **kw)

    def counted_pipeline(self: Any) -> Any:
        if self._pipeline is None and self.info.transaction_status == TransactionStatus.IDLE:
            counts["#transactions"] += 1  # its statements commit together at its Sync
            pending[id(self)] = call_site()
        return pipeline(self)

    psycopg.AsyncCursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.AsyncConnection.pipeline = counted_pipeline  # type: ignore[method-assign]

    def dump() -> None:
        path = os.path.join(out, f"{os.getpid()}.json")
        with open(path + ".tmp", "w") as file:
            json.dump({"argv": sys.argv, "counts": counts, "piped": piped, "labels": labels}, file)
        os.replace(path + ".tmp", path)

    def every_second() -> None:
        while True:
            time.sleep(1.0)
            with contextlib.suppress(OSError):
                dump()

    threading.Thread(target=every_second, daemon=True).start()
    atexit.register(dump)


if _OUT and any(arg in ("serve", "worker") for arg in sys.argv[1:3]):
    _install(_OUT)
