"""`wagate serve` never outlives a start that cannot succeed: a port held by another process
ends it with uvicorn's start-failure status (3) and a log line that names the address, and a
stop signal before the server listens ends the start (it used to be ignored, once the failed
bind had left the process idle with its worker still loading the knowledge base)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Process, base_env, free_port, fresh_database


@pytest.fixture
def database_url() -> Iterator[str]:
    # One database per test: each start creates its own keyring in its own data folder, and a
    # database whose data key another keyring wrapped refuses to start (which once let the
    # stop test pass without ever starting a gateway).
    with fresh_database() as url:
        yield url


def serve(workdir: Path, database_url: str, port: int, label: str) -> Process:
    env = base_env(DATABASE_URL=database_url, WAGATE_DATA_DIR=str(workdir / f"serve-{label}"))
    env.pop("AI_BASE_URL", None)
    return Process(
        [sys.executable, "-m", "wagate", "serve", "--port", str(port)],
        env,
        workdir / f"serve-{label}-{port}.log",
    )


def exit_status(process: Process, timeout: float) -> int | None:
    try:
        return process.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def test_a_taken_port_ends_the_process_with_a_clear_message(
    workdir: Path, database_url: str
) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    process = serve(workdir, database_url, port, "taken")
    try:
        status = exit_status(process, 90)
        assert status == 3, process.log_tail(60)
        log = process.log_path.read_text(errors="replace")
        assert "gateway.listen_failed" in log and f"127.0.0.1:{port}" in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
    finally:
        process.kill()
        holder.close()


def test_a_stop_signal_during_the_start_ends_it(workdir: Path, database_url: str) -> None:
    port = free_port()
    process = serve(workdir, database_url, port, "early-stop")
    try:
        deadline = time.monotonic() + 60
        # Wait until the gateway is up (it logs `gateway.started` once it listens), then stop
        # it: it must end cleanly. The stop before it listens is tests/unit/test_stop_signals.
        while (
            time.monotonic() < deadline
            and process.alive()
            and "gateway" not in process.log_tail(200)
        ):
            time.sleep(0.05)
        assert process.alive(), process.log_tail(60)  # the start itself must not have failed
        process.popen.send_signal(signal.SIGTERM)
        status = exit_status(process, 40)
        assert status in (0, 130), process.log_tail(60)
        assert "Traceback" not in process.log_path.read_text(errors="replace")
    finally:
        process.kill()
