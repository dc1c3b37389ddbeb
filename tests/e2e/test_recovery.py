"""Nothing acknowledged is lost: crashes, lost jobs, dead workers, separate processes."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    Process,
    base_env,
    fresh_database,
    wait_until,
)
from tests.e2e.harness import wagate as wagate_cli
from wagate.fakes.payloads import meta_text, new_wamid
from wagate.storage import migrate


def _text(sender: str, body: str, wamid: str | None = None) -> dict[str, object]:
    return meta_text(
        phone_number_id=PHONE_NUMBER_ID, sender=sender, text=body, message_id=wamid or new_wamid()
    )


def _all_processed(gateway: Gateway, senders: list[str], expected: int) -> bool:
    messages = [m for s in senders for m in gateway.messages_of(s)]
    return len(messages) == expected and all(m["processedAt"] for m in messages)


def test_a_gateway_killed_mid_burst_loses_nothing_and_stores_nothing_twice(
    workdir: Path, fake_meta: FakePeer
) -> None:
    """Webhooks keep arriving (and are retried like Meta retries) while the gateway is
    SIGKILLed and restarted; every acknowledged message is stored exactly once and processed."""
    senders = [f"62813{index:08d}" for index in range(5)]
    payloads = [_text(senders[i % 5], f"pesan {i}") for i in range(120)]
    with fresh_database() as url:
        gateway = Gateway(
            workdir, database_url=url, graph_url=f"{fake_meta.url}/v22.0", DEBOUNCE_SECONDS="1"
        )
        gateway.start()
        acked: set[str] = set()
        attempts = 0
        stop = threading.Event()

        def deliver() -> None:
            nonlocal attempts
            for payload in payloads:
                wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]  # type: ignore[index]
                while not stop.is_set():  # like Meta: retry until a 200
                    attempts += 1
                    try:
                        if gateway.post_meta(payload).status_code == 200:
                            acked.add(wamid)
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.05)
                time.sleep(0.01)

        sender_thread = threading.Thread(target=deliver)
        sender_thread.start()
        try:
            wait_until(lambda: len(acked) >= 30, timeout=30)
            gateway.kill()
            time.sleep(0.5)
            gateway.start()
            wait_until(lambda: len(acked) >= 80, timeout=30)
            gateway.kill()
            gateway.start()
            sender_thread.join(timeout=60)
            assert len(acked) == 120
            assert attempts > 120  # some deliveries really did fail and get retried
            wait_until(lambda: _all_processed(gateway, senders, 120), timeout=60)
            stored = [m["providerMessageId"] for s in senders for m in gateway.messages_of(s)]
            assert sorted(stored) == sorted(acked)
        finally:
            stop.set()
            sender_thread.join(timeout=5)
            gateway.stop()


def test_separate_web_and_worker_processes_share_the_work(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with fresh_database() as url:
        web = Gateway(
            workdir, database_url=url, graph_url=f"{fake_meta.url}/v22.0", worker=False
        ).start()
        worker: Process | None = None
        try:
            wamids = [new_wamid() for _ in range(3)]
            for wamid in wamids:
                assert web.post_meta(_text(sender, "x", wamid)).status_code == 200
            time.sleep(1.0)
            assert not any(m["processedAt"] for m in web.messages_of(sender))  # no worker yet
            worker = Process(
                [sys.executable, "-m", "wagate", "worker"],
                web.env,
                workdir / f"worker-{web.port}.log",
            )
            wait_until(lambda: _all_processed(web, [sender], 3), timeout=30)
            reads = [r["body"]["message_id"] for r in fake_meta.requests("read")]
            assert wamids[-1] in reads  # the burst is marked read up to its latest message
        finally:
            if worker is not None:
                worker.stop()
            web.stop()


def test_the_sweep_requeues_messages_whose_job_was_lost(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with fresh_database() as url:
        web = Gateway(
            workdir, database_url=url, graph_url=f"{fake_meta.url}/v22.0", worker=False
        ).start()
        worker: Process | None = None
        try:
            assert web.post_meta(_text(sender, "hilang")).status_code == 200
            with psycopg.connect(url, autocommit=True) as conn:
                deleted = conn.execute("DELETE FROM procrastinate_jobs").rowcount
            assert deleted == 1
            worker = Process(
                [sys.executable, "-m", "wagate", "worker"],
                web.env,
                workdir / f"worker-sweep-{web.port}.log",
            )
            wait_until(lambda: _all_processed(web, [sender], 1), timeout=30)
        finally:
            if worker is not None:
                worker.stop()
            web.stop()


def test_a_job_held_by_a_dead_worker_is_recovered(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with fresh_database() as url:
        web = Gateway(
            workdir, database_url=url, graph_url=f"{fake_meta.url}/v22.0", worker=False
        ).start()
        worker: Process | None = None
        try:
            assert web.post_meta(_text(sender, "macet")).status_code == 200
            with psycopg.connect(url, autocommit=True) as conn:
                dead = conn.execute(
                    "INSERT INTO procrastinate_workers (last_heartbeat) "
                    "VALUES (now() - interval '10 minutes') RETURNING id"
                ).fetchone()
                assert dead is not None
                conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", (dead[0],)
                )
            worker = Process(
                [sys.executable, "-m", "wagate", "worker"],
                web.env,
                workdir / f"worker-stalled-{web.port}.log",
            )
            wait_until(lambda: _all_processed(web, [sender], 1), timeout=30)
        finally:
            if worker is not None:
                worker.stop()
            web.stop()


def test_transient_send_failures_are_retried_and_permanent_ones_recorded(
    gateway: Gateway, fake_meta: FakePeer, database_url: str, sender: str
) -> None:
    fake_meta.fail(kind="send", http_status=500, times=2)
    assert gateway.post_meta(_text(sender, "coba lagi")).status_code == 200

    def attempts() -> list[dict[str, object]]:
        return [r for r in fake_meta.requests("send") if r["body"].get("to") == sender]

    wait_until(lambda: any("wamid" in r for r in attempts()), timeout=40)
    assert [("wamid" in r) for r in attempts()] == [False, False, True]  # delivered once

    other = sender[:-1] + ("1" if sender[-1] == "0" else "0")
    fake_meta.fail(kind="send", code=131026, times=1)
    assert gateway.post_meta(_text(other, "tidak bisa")).status_code == 200

    def outbound(contact: str) -> list[tuple[str, str | None, int]]:
        conversation = gateway.conversation_for(contact)
        if conversation is None:
            return []
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT status, error_code, attempts FROM outbound_messages "
                "WHERE conversation_id = %s",
                (conversation["id"],),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    assert wait_until(lambda: outbound(other) == [("failed", "131026", 1)], timeout=30)
    assert outbound(sender)[0][0] == "accepted"
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    with psycopg.connect(database_url) as conn:
        runs = conn.execute(
            "SELECT outcome, marked_read FROM conversation_runs WHERE conversation_id = %s",
            (conversation["id"],),
        ).fetchall()
    assert ("answered", True) in runs  # the run records that the burst was marked read


def test_the_embedded_database_keeps_data_across_restarts_and_stops_with_the_gateway(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    data_dir = workdir / "embedded-data"
    gateway = Gateway(
        workdir, database_url=None, graph_url=f"{fake_meta.url}/v22.0", data_dir=data_dir
    ).start()
    try:
        assert gateway.http.get("/api/whatsapp/status").json()["database"]["embedded"] is True
        assert gateway.post_meta(_text(sender, "tersimpan")).status_code == 200
    finally:
        assert gateway.stop() == 0
    pid_file = data_dir / "pg" / "postmaster.pid"
    wait_until(lambda: not pid_file.exists(), timeout=15)  # the server stopped with us
    again = Gateway(
        workdir, database_url=None, graph_url=f"{fake_meta.url}/v22.0", data_dir=data_dir
    ).start()
    try:
        assert again.messages_of(sender)[0]["content"]["body"] == "tersimpan"
    finally:
        again.stop()


def test_migrations_go_down_and_up_again() -> None:
    with fresh_database() as url:
        env = base_env(DATABASE_URL=url)

        def wagate(*args: str) -> str:
            done = wagate_cli(*args, env=env, check=True)
            return done.stdout

        def tables() -> set[str]:
            with psycopg.connect(url) as conn:
                rows = conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            return {r[0] for r in rows}

        head = migrate.head_revision()
        assert head in wagate("migrate")
        assert {"inbound_messages", "procrastinate_jobs", "accounts", "turns"} <= tables()
        assert {"knowledge_documents", "knowledge_chunks", "operator_users"} <= tables()
        assert {"metric_counters", "case_intakes", "media", "media_trash"} <= tables()
        assert "outbound_files" in tables()
        assert "0016_run_insights" in wagate("migrate", "down", "0016_run_insights")
        assert not {"metric_counters", "case_intakes", "media", "outbound_files"} & tables()
        assert "operator_users" in tables()
        assert "0002_intake" in wagate("migrate", "down", "0002_intake")
        assert "accounts" not in tables() and "inbound_messages" in tables()
        assert "operator_users" not in tables()
        assert not any(t.startswith("knowledge_") for t in tables())
        assert "0001_procrastinate" in wagate("migrate", "down", "0001_procrastinate")
        assert "inbound_messages" not in tables()
        assert "procrastinate_jobs" in tables()
        assert "base" in wagate("migrate", "down", "base")
        assert not any(t.startswith(("procrastinate", "inbound")) for t in tables())
        assert head in wagate("migrate", "up")
        assert {"inbound_messages", "procrastinate_jobs", "accounts", "turns"} <= tables()
        assert {"knowledge_documents", "knowledge_chunks", "knowledge_words"} <= tables()
        assert {"operator_users", "metric_counters", "case_intakes", "media"} <= tables()
        assert "outbound_files" in tables()


def test_a_half_configured_provider_stops_the_start_with_a_clear_message(
    workdir: Path,
) -> None:
    import subprocess

    env = base_env(META_APP_SECRET="only-this", WAGATE_DATA_DIR=str(workdir / "half"))
    done = subprocess.run(
        [sys.executable, "-m", "wagate", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    # The app needs its verify token; a number would need its token too.
    assert "META_WEBHOOK_VERIFY_TOKEN" in done.stderr
    assert "only-this" not in done.stderr + done.stdout
