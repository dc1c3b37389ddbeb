"""CP3 audit trail against a real PostgreSQL: concurrent appends form one chain, `wagate audit
verify` names an edited or deleted row, the database refuses edits, exports carry every row,
retention's redaction keeps the chain verifiable, and `GET /api/audit` pages behind the token."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest

from tests.e2e.harness import (
    API_TOKEN,
    Process,
    base_env,
    free_port,
    fresh_database,
    python_code,
    wait_until,
)
from tests.e2e.harness import wagate as wagate_cli
from wagate.domain.audit import AuditEvent, BreakReason
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.database import Database

T = TypeVar("T")
NOW = datetime.now(UTC).replace(microsecond=0)

# `wagate …` with the audit group registered even before cli.py registers it itself.
_CLI = (
    "from wagate.cli import app, main\n"
    "from wagate.cli.audit import audit_app\n"
    "if not any(group.name == 'audit' for group in app.registered_groups):\n"
    "    app.add_typer(audit_app, name='audit')\n"
    "main()\n"
)

# The audit API on its own, until app.py includes the router.
_SERVER = """
import contextlib, sys
from types import SimpleNamespace
import uvicorn
from fastapi import FastAPI, HTTPException, Security
from datetime import UTC, datetime
from wagate.pipeline.operator import Actor
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.trail import Trail
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.database import Database
from wagate.web.audit_api import audit_router
from wagate.web.scope import BEARER

url, tenant, port, token = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
database = Database(url, pool_size=2)
log = PostgresAuditLog(database, tenant)
trail = Trail(log=log, recorder=Recorder(audit=log, clock=lambda: datetime.now(UTC)))

async def scope(credentials=Security(BEARER)):
    # The gateway's scope, cut down to one tenant's chain and one token.
    if credentials is None or credentials.credentials != token:
        raise HTTPException(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return SimpleNamespace(
        services=SimpleNamespace(operator=SimpleNamespace(trail=trail)), actor=Actor(via="api")
    )

@contextlib.asynccontextmanager
async def lifespan(app):
    await database.open()
    yield
    await database.close()

app = FastAPI(lifespan=lifespan)
app.include_router(audit_router(scope=scope))
uvicorn.run(app, host="127.0.0.1", port=port, log_config=None)
"""


@pytest.fixture(scope="module")
def audit_url(workdir: Path) -> Iterator[str]:
    """One database migrated by `wagate migrate`; each test writes its own tenant's chain."""
    with fresh_database() as url:
        env = base_env(DATABASE_URL=url, WAGATE_DATA_DIR=str(workdir / "audit-migrate"))
        done = wagate_cli("migrate", env=env, check=True)
        assert "0005_audit" in done.stdout or "database at revision" in done.stdout
        yield url


@pytest.fixture
def tenant() -> str:
    return f"firm-{uuid.uuid4().hex[:8]}"


def cli_env(url: str, tenant: str, workdir: Path) -> dict[str, str]:
    return base_env(
        DATABASE_URL=url,
        WAGATE_TENANT=tenant,
        WAGATE_DATA_DIR=str(workdir / "audit-cli"),
        WAGATE_API_TOKEN=API_TOKEN,
    )


def wagate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return python_code(_CLI, *args, env=env)


def with_log(url: str, tenant: str, action: Callable[[PostgresAuditLog], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(url, pool_size=4)
        await database.open()
        try:
            return await action(PostgresAuditLog(database, tenant))
        finally:
            await database.close()

    return asyncio.run(run())


def event(n: int, **details: Any) -> AuditEvent:
    return AuditEvent(
        action="message.received",
        actor=f"contact:{n % 5}",
        subject=f"conversation:{n % 3}",
        details={"n": n, "kind": "text", **details},
    )


def append(url: str, tenant: str, count: int, *, at: datetime = NOW) -> list[int]:
    async def run(log: PostgresAuditLog) -> list[int]:
        return [await log.record(event(n), at=at + timedelta(seconds=n)) for n in range(count)]

    return with_log(url, tenant, run)


def execute(url: str, sql: str, params: tuple[Any, ...] = (), *, maintenance: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if maintenance:
            conn.execute("SET wagate.audit_maintenance = 'on'")
        conn.execute(sql, params)


# ------------------------------------------------------------------------------------------


def test_concurrent_appends_from_several_connections_form_one_chain(
    audit_url: str, tenant: str, workdir: Path
) -> None:
    """200 events from 8 tasks over two pools (as two processes would): seqs 1..200, no fork,
    and every task's own events keep their order."""

    async def run() -> list[list[int]]:
        pools = [Database(audit_url, pool_size=4), Database(audit_url, pool_size=4)]
        for pool in pools:
            await pool.open()
        try:
            logs = [PostgresAuditLog(pool, tenant) for pool in pools]

            async def task(k: int) -> list[int]:
                log = logs[k % 2]
                return [await log.record(event(i, task=k), at=datetime.now(UTC)) for i in range(25)]

            return await asyncio.gather(*(task(k) for k in range(8)))
        finally:
            for pool in pools:
                await pool.close()

    per_task = asyncio.run(run())
    assert sorted(s for seqs in per_task for s in seqs) == list(range(1, 201))
    assert all(seqs == sorted(seqs) for seqs in per_task)

    verified = wagate(cli_env(audit_url, tenant, workdir), "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain intact: 200 entries" in verified.stdout


def test_an_append_after_this_process_s_last_head_skips_the_lock_and_a_stale_one_falls_back(
    audit_url: str, tenant: str
) -> None:
    """The second append of a log goes after the head it left (one statement, no lock); once
    another process (a second pool here) appended, that head is stale: nothing is written
    after it and the append takes the lock, so the chain stays one chain."""

    async def run() -> tuple[list[int], list[str], bool]:
        pools = [Database(audit_url, pool_size=2), Database(audit_url, pool_size=2)]
        for pool in pools:
            await pool.open()
        try:
            mine, other = (PostgresAuditLog(pool, tenant) for pool in pools)
            locked: list[str] = []
            take_lock = mine._append_locked

            async def counted(appends: Any) -> list[list[int]]:
                locked.append("mine")
                return await take_lock(appends)

            mine._append_locked = counted  # type: ignore[method-assign]
            at = datetime.now(UTC)
            no_subject = AuditEvent(action="tenant.note", actor="system", details={"n": 0})
            seqs = [await mine.record(no_subject, at=at)]  # the first: under the lock
            seqs += await mine.record_many([event(1), event(2)], at=at)  # after its own head
            seqs.append(await other.record(event(3), at=at))  # another process appends
            seqs.append(await mine.record(event(4), at=at))  # stale head: the lock again
            seqs.append(await mine.record(event(5), at=at))  # after its own head again
            report = await mine.verify()
            return seqs, locked, report.ok and report.entries == 6
        finally:
            for pool in pools:
                await pool.close()

    seqs, locked, intact = asyncio.run(run())
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert locked == ["mine", "mine"]  # the first append and the one after the other's
    assert intact


def test_appends_made_at_once_share_a_transaction_and_keep_their_order(
    audit_url: str, tenant: str, workdir: Path
) -> None:
    """Twenty runs recording at the same moment on one log: their events are committed in
    groups (fewer transactions than callers), each caller's three events consecutive and in
    its order, and the chain verifies."""

    async def run(log: PostgresAuditLog) -> list[list[int]]:
        async def one(k: int) -> list[int]:
            events = [event(3 * k + i, caller=k, i=i) for i in range(3)]
            return await log.record_many(events, at=datetime.now(UTC))

        return await asyncio.gather(*(one(k) for k in range(20)))

    results = with_log(audit_url, tenant, run)
    assert all(r == [r[0], r[0] + 1, r[0] + 2] for r in results)
    assert sorted(s for r in results for s in r) == list(range(1, 61))
    with psycopg.connect(audit_url) as conn:
        transactions = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM audit_log WHERE tenant = %s", (tenant,)
        ).fetchone()
        written = conn.execute(
            "SELECT seq, details->>'caller', details->>'i' FROM audit_log WHERE tenant = %s",
            (tenant,),
        ).fetchall()
    assert transactions is not None and transactions[0] < 20
    by_seq = {seq: (int(caller), int(i)) for seq, caller, i in written}
    for k, seqs in enumerate(results):
        assert [by_seq[s] for s in seqs] == [(k, 0), (k, 1), (k, 2)]

    verified = wagate(cli_env(audit_url, tenant, workdir), "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain intact: 60 entries" in verified.stdout


async def _carry(database: Database, tenant: str, ride: Any, *, fail: bool = False) -> bool:
    """Another transaction carrying a ride (as a run's finishing transaction does): a row of
    its own plus the ride's statement; `fail` makes its own row fail, so nothing commits."""
    from wagate.storage.database import tenant_pipeline

    row = None
    try:
        async with database.pool.connection() as conn, tenant_pipeline(conn, tenant):
            await conn.execute("SELECT 1/%(d)s AS own", {"d": 0 if fail else 1})
            carried = await conn.execute(*ride.statement)
        row = await carried.fetchone()
    finally:
        written: bool = ride.settle(row)
    return written


def test_rides_commit_with_their_transactions_and_hold_other_appends_until_they_settle(
    audit_url: str, tenant: str
) -> None:
    """A ride is offered once the head is known; a second one while the first is out goes
    after it; their events are in the chain exactly when the carrying transactions commit; an
    append made while rides are out waits and goes after them; a ride after one whose
    transaction failed writes nothing; the chain verifies."""

    async def run() -> tuple[list[Any], list[int], Any]:
        database = Database(audit_url, pool_size=4)
        await database.open()
        try:
            log = PostgresAuditLog(database, tenant)
            at = datetime.now(UTC)
            outcomes: list[Any] = [log.ride([event(0)], at=at)]  # head unknown: None
            await log.record(event(1), at=at)  # the head is known from here
            first = log.ride([event(2), event(3)], at=at)
            second = log.ride([event(4)], at=at)  # chained after the first
            assert first is not None and second is not None
            waiting = asyncio.ensure_future(log.record(event(5), at=at))
            await asyncio.sleep(0.05)
            outcomes.append(waiting.done())  # held while rides are out
            outcomes.append(log.ride([event(9)], at=at))  # an append waits: no ride
            # Carried in the other order: the second's statement waits for nothing it can
            # see, so it finds the head not yet moved and writes nothing.
            outcomes.append(await _carry(database, tenant, second))
            outcomes.append(await _carry(database, tenant, first))
            # Every ride settled, one wrote nothing: the head is unknown, so the waiting
            # append takes the lock and goes after the first ride's entries.
            seqs = [await waiting]
            failed = log.ride([event(6)], at=at)
            after_failed = log.ride([event(7)], at=at)
            assert failed is not None and after_failed is not None
            with pytest.raises(psycopg.errors.DivisionByZero):
                await _carry(database, tenant, failed, fail=True)
            outcomes.append(await _carry(database, tenant, after_failed))
            seqs.append(await log.record(event(8), at=at))  # the log is free again
            return outcomes, seqs, await log.verify()
        finally:
            await database.close()

    outcomes, seqs, report = asyncio.run(run())
    assert outcomes[:3] == [None, False, None]
    assert outcomes[3:5] == [False, True]
    assert outcomes[5] is False  # chained after a ride whose transaction failed
    assert seqs == [4, 5]  # 1, the first ride's 2 and 3, then 5; later 8
    assert report.ok and report.entries == 5
    with psycopg.connect(audit_url) as conn:
        ns = conn.execute(
            "SELECT (details->>'n')::int FROM audit_log WHERE tenant = %s ORDER BY seq",
            (tenant,),
        ).fetchall()
    assert [n for (n,) in ns] == [1, 2, 3, 5, 8]


def test_chained_rides_carried_in_order_both_write(audit_url: str, tenant: str) -> None:
    """Two rides out at once, their transactions concurrent: the second's statement waits for
    the first's row lock and then finds the head it was chained after."""

    async def run() -> tuple[list[bool], Any]:
        database = Database(audit_url, pool_size=4)
        await database.open()
        try:
            log = PostgresAuditLog(database, tenant)
            at = datetime.now(UTC)
            await log.record(event(1), at=at)
            rides = [log.ride([event(n)], at=at) for n in (2, 3, 4)]
            assert all(ride is not None for ride in rides)
            written = list(await asyncio.gather(*(_carry(database, tenant, r) for r in rides)))
            after = await log.record(event(5), at=at)
            assert after == 5 if all(written) else after > 1
            return written, await log.verify()
        finally:
            await database.close()

    written, report = asyncio.run(run())
    assert written[0] is True  # the first always finds its head
    assert report.ok


def test_a_ride_after_a_stale_head_writes_nothing_and_the_events_are_appended_after(
    audit_url: str, tenant: str
) -> None:
    """Another process appended after this log's head: the ride's statement writes nothing
    (its transaction still commits), `settle` says so, and the caller's append goes under the
    lock after the other's entry: one chain."""

    async def run() -> tuple[bool, list[int], Any]:
        pools = [Database(audit_url, pool_size=2), Database(audit_url, pool_size=2)]
        for pool in pools:
            await pool.open()
        try:
            mine, other = (PostgresAuditLog(pool, tenant) for pool in pools)
            at = datetime.now(UTC)
            await mine.record(event(1), at=at)
            await other.record(event(2), at=at)
            ride = mine.ride([event(3)], at=at)
            assert ride is not None
            written = await _carry(pools[0], tenant, ride)
            seqs = await mine.record_many([event(3)], at=at)
            return written, seqs, await mine.verify()
        finally:
            for pool in pools:
                await pool.close()

    written, seqs, report = asyncio.run(run())
    assert written is False
    assert seqs == [3]
    assert report.ok and report.entries == 3


def test_verify_names_an_edited_row(audit_url: str, tenant: str, workdir: Path) -> None:
    append(audit_url, tenant, 30)
    execute(
        audit_url,
        """UPDATE audit_log SET details = '{"n": 1, "kind": "image"}'
            WHERE tenant = %s AND seq = 17""",
        (tenant,),
        maintenance=True,
    )
    verified = wagate(cli_env(audit_url, tenant, workdir), "audit", "verify")
    assert verified.returncode == 1
    assert "broken at seq 17: edited" in verified.stdout


def test_verify_names_a_deleted_row_in_the_middle_or_at_the_end(
    audit_url: str, workdir: Path
) -> None:
    middle, end = f"firm-{uuid.uuid4().hex[:8]}", f"firm-{uuid.uuid4().hex[:8]}"
    for name in (middle, end):
        append(audit_url, name, 20)
    delete = "DELETE FROM audit_log WHERE tenant = %s AND seq = %s"
    execute(audit_url, delete, (middle, 9), maintenance=True)
    execute(audit_url, delete, (end, 20), maintenance=True)

    verified = wagate(cli_env(audit_url, middle, workdir), "audit", "verify")
    assert verified.returncode == 1 and "broken at seq 9: deleted" in verified.stdout
    verified = wagate(cli_env(audit_url, end, workdir), "audit", "verify")
    assert verified.returncode == 1 and "broken at seq 20: deleted" in verified.stdout


def test_the_database_refuses_to_change_the_log_outside_maintenance(
    audit_url: str, tenant: str
) -> None:
    append(audit_url, tenant, 3)
    refused = [
        ("UPDATE audit_log SET details = '{}' WHERE tenant = %s", False, "append-only"),
        ("DELETE FROM audit_log WHERE tenant = %s", False, "append-only"),
        ("TRUNCATE audit_log", False, "append-only"),
        # Even in maintenance only details and redacted_at may change.
        ("UPDATE audit_log SET actor = 'system' WHERE tenant = %s", True, "only details"),
        ("UPDATE audit_log SET hash = md5(hash) WHERE tenant = %s", True, "only details"),
        ("UPDATE audit_head SET seq = 1 WHERE tenant = %s", False, "moves forward"),
        ("DELETE FROM audit_head WHERE tenant = %s", False, "moves forward"),
    ]
    for sql, maintenance, message in refused:
        params = (tenant,) if "%s" in sql else ()
        with pytest.raises(psycopg.errors.RaiseException, match=message):
            execute(audit_url, sql, params, maintenance=maintenance)

    async def check(log: PostgresAuditLog) -> None:
        report = await log.verify()
        assert report.ok and report.entries == 3

    with_log(audit_url, tenant, check)


def test_verify_checks_anchors_kept_elsewhere(audit_url: str, tenant: str, workdir: Path) -> None:
    append(audit_url, tenant, 5)
    first = wagate(cli_env(audit_url, tenant, workdir), "audit", "verify").stdout
    anchor = "5:" + first.split("hash ")[1].split(")")[0]
    append(audit_url, tenant, 5)
    env = cli_env(audit_url, tenant, workdir)
    assert wagate(env, "audit", "verify", "--anchor", anchor).returncode == 0
    wrong = wagate(env, "audit", "verify", "--anchor", "5:" + "0" * 64)
    assert wrong.returncode == 1 and "broken at seq 5: rewritten" in wrong.stdout


def test_export_writes_every_row_as_jsonl_or_csv(
    audit_url: str, tenant: str, workdir: Path
) -> None:
    async def run(log: PostgresAuditLog) -> None:
        await log.record_many(
            [event(n, text="Klien ingin bercerai", model="m-1") for n in range(10)], at=NOW
        )
        await log.record(event(10), at=NOW + timedelta(days=1))

    with_log(audit_url, tenant, run)
    env = cli_env(audit_url, tenant, workdir)

    exported = wagate(env, "audit", "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["seq"] for r in rows] == list(range(1, 12))
    assert rows[0]["details"] == {"n": 0, "kind": "text", "model": "m-1"}
    assert rows[0]["prevHash"] == "0" * 64 and rows[1]["prevHash"] == rows[0]["hash"]
    assert "bercerai" not in exported.stdout  # message text never reaches the log

    target = workdir / f"audit-{tenant}.csv"
    since = (NOW + timedelta(hours=1)).isoformat()
    exported = wagate(
        env, "audit", "export", "--format", "csv", "--since", since, "--output", str(target)
    )
    assert exported.returncode == 0, exported.stderr
    table = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["seq"] for r in table] == ["11"]
    assert json.loads(table[0]["details"]) == {"n": 10, "kind": "text"}
    assert set(table[0]) >= {"at", "action", "actor", "hash", "prevHash", "contentHash"}

    until = wagate(env, "audit", "export", "--until", (NOW + timedelta(hours=1)).isoformat())
    actions = [json.loads(line)["action"] for line in until.stdout.splitlines()]
    assert actions[:10] == ["message.received"] * 10  # then the exports above, made just now
    assert "message.received" not in actions[10:]

    # Each export is itself an operator action on the record, and the chain still holds.
    last = json.loads(wagate(env, "audit", "export").stdout.splitlines()[-1])
    assert (last["action"], last["actor"]) == ("audit.exported", "operator:cli")
    assert wagate(env, "audit", "verify").returncode == 0
    bad = wagate(env, "audit", "export", "--since", "yesterday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_redaction_drops_details_and_keeps_the_chain_verifiable(
    audit_url: str, tenant: str, workdir: Path
) -> None:
    old = NOW - timedelta(days=400)
    append(audit_url, tenant, 20, at=old)
    append(audit_url, tenant, 5)

    async def redact(log: PostgresAuditLog) -> int:
        return await log.redact_before(NOW - timedelta(days=365), at=NOW, batch=7)

    assert with_log(audit_url, tenant, redact) == 20
    env = cli_env(audit_url, tenant, workdir)
    verified = wagate(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "audit chain intact: 26 entries" in verified.stdout

    rows = [json.loads(line) for line in wagate(env, "audit", "export").stdout.splitlines()]
    assert all(r["details"] == {"redacted": True} and r["redactedAt"] for r in rows[:20])
    assert all(r["redactedAt"] is None for r in rows[20:25])
    assert (rows[25]["action"], rows[25]["details"]["entries"]) == ("audit.redacted", 20)
    assert with_log(audit_url, tenant, redact) == 0  # nothing left to redact

    # With the triggers out of the way (a database owner can do that), a redacted row's
    # envelope is still tamper-evident.
    with psycopg.connect(audit_url) as conn:  # one transaction: the triggers are back after
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        update = "UPDATE audit_log SET actor = 'system' WHERE tenant = %s AND seq = 4"
        conn.execute(update, (tenant,))
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

    async def verify(log: PostgresAuditLog) -> tuple[int | None, BreakReason | None]:
        report = await log.verify()
        return report.broken_seq, report.reason

    assert with_log(audit_url, tenant, verify) == (4, BreakReason.EDITED)


def test_the_audit_api_pages_entries_and_verifies_behind_the_token(
    audit_url: str, tenant: str, workdir: Path
) -> None:
    append(audit_url, tenant, 25)
    port = free_port()
    server = Process(
        [sys.executable, "-c", _SERVER, audit_url, tenant, str(port), API_TOKEN],
        base_env(),
        workdir / f"audit-api-{port}.log",
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    auth = {"Authorization": f"Bearer {API_TOKEN}"}

    def up() -> bool:
        try:
            return http.get("/api/audit/verify").status_code == 401
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=30)
        assert http.get("/api/audit", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/api/audit", params={"limit": 1001}, headers=auth).status_code == 422

        seqs: list[int] = []
        after: int | None = 0
        while after is not None:
            page = http.get("/api/audit", params={"limit": 10, "after_seq": after}, headers=auth)
            assert page.status_code == 200
            body = page.json()
            seqs += [item["seq"] for item in body["items"]]
            after = body["nextAfterSeq"]
        assert seqs == list(range(1, 26))

        window = http.get(
            "/api/audit",
            params={"since": (NOW + timedelta(seconds=5)).isoformat(), "until": "2999-01-01"},
            headers=auth,
        ).json()
        assert [i["seq"] for i in window["items"]] == list(range(6, 26))

        assert http.get("/api/audit/verify", headers=auth).json()["ok"] is True
        execute(
            audit_url,
            "DELETE FROM audit_log WHERE tenant = %s AND seq = 12",
            (tenant,),
            maintenance=True,
        )
        report = http.get("/api/audit/verify", headers=auth).json()
        assert (report["ok"], report["brokenSeq"], report["reason"]) == (False, 12, "deleted")
    finally:
        http.close()
        server.stop()


def test_the_migration_goes_down_and_up_again(workdir: Path) -> None:
    with fresh_database() as url:
        env = base_env(DATABASE_URL=url, WAGATE_DATA_DIR=str(workdir / "audit-down"))

        def migrate(*args: str) -> None:
            wagate_cli("migrate", *args, env=env, check=True)

        def objects() -> set[str]:
            with psycopg.connect(url) as conn:
                rows = conn.execute(
                    "SELECT relname FROM pg_class WHERE relname LIKE 'audit_%%'"
                    " UNION SELECT proname FROM pg_proc WHERE proname LIKE 'audit_%%'"
                ).fetchall()
            return {r[0] for r in rows}

        migrate()
        assert {"audit_log", "audit_head", "audit_log_guard", "audit_head_guard"} <= objects()
        migrate("down", "0004_privacy")
        assert objects() == set()
        migrate()
        append(url, "firm-a", 3)
        assert with_log(url, "firm-a", lambda log: log.verify()).ok
