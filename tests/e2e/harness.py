"""Real processes for end-to-end tests: gateways, fake peers, databases. Nothing in-process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from tests.e2e import prewarmed
from wagate.providers.meta.signature import sign

ADMIN_URL = os.environ.get("WAGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
APP_SECRET = "e2e-app-secret"
VERIFY_TOKEN = "e2e-verify-token"
ACCESS_TOKEN = "e2e-access-token"
PHONE_NUMBER_ID = "200000000000001"
API_TOKEN = "e2e-api-token"
FONNTE_SECRET = "fonnte-secret-0123456789abcdef"
FONNTE_TOKEN = "e2e-fonnte-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], Any], *, timeout: float = 20.0, every: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; returns its value or fails with the last one."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database on the machine's PostgreSQL; dropped afterwards."""
    name = f"wagate_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


STARTED_LOGS: list[Path] = []
"""The log file of every process started in this session (the log scan checks it read them)."""


class Process:
    """A child process whose output goes to a log file that failing tests can show.

    `python -m wagate …` and `python -c CODE …` are forked from the pre-warmed server
    (`prewarmed.py`: a process of their own, started without importing wagate again); any
    other command is started as it is."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("ab")
        STARTED_LOGS.append(log_path)
        self.popen: subprocess.Popen[bytes] | prewarmed.Popen
        if args[:3] == [sys.executable, "-m", "wagate"]:
            self.popen = prewarmed.Popen(args[3:], env=env, log=log_path, start_new_session=True)
        elif args[:2] == [sys.executable, "-c"]:
            self.popen = prewarmed.Popen(
                args[3:], env=env, log=log_path, code=args[2], start_new_session=True
            )
        else:
            self.popen = subprocess.Popen(
                args,
                env=dict(env),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL, no cleanup: what a crash looks like."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        self._log.close()


def base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("META_", "FONNTE_", "WAGATE_", "DATABASE_URL", "DEBOUNCE_"))
    }
    env.update({"WAGATE_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


class FakePeer:
    """`wagate fake meta|fonnte` as its own process."""

    def __init__(self, kind: str, workdir: Path, *extra_args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = Process(
            [sys.executable, "-m", "wagate", "fake", kind, "--port", str(self.port), *extra_args],
            base_env(),
            workdir / f"fake-{kind}-{self.port}.log",
        )
        wait_until(self._up, timeout=20)

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/_fake/requests", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def requests(self, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        result: list[dict[str, Any]] = httpx.get(f"{self.url}/_fake/requests", params=params).json()
        return result

    def texts_to(self, number: str) -> list[str]:
        """The text messages a fake Graph API was asked to send to `number`, in order."""
        return [
            r["body"]["text"]["body"]
            for r in self.requests("send")
            if r["body"].get("to") == number and r["body"].get("type") == "text"
        ]

    def fail(self, **spec: Any) -> None:
        httpx.post(f"{self.url}/_fake/fail", json=spec).raise_for_status()

    def clear(self) -> None:
        httpx.delete(f"{self.url}/_fake/requests").raise_for_status()

    def stop(self) -> None:
        self.process.stop()


class Gateway:
    """`wagate serve` as its own process, configured for Meta and Fonnte against fakes."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None,
        graph_url: str,
        fonnte_url: str = "http://127.0.0.1:9/send",
        ai_url: str | None = None,
        data_dir: Path | None = None,
        worker: bool = True,
        port: int | None = None,
        **settings: str,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir or workdir / f"data-{self.port}"
        defaults = {
            "DEBOUNCE_SECONDS": "0",
            "SWEEP_INTERVAL_SECONDS": "2",
            "JOB_POLL_SECONDS": "0.2",
        }
        self.env = base_env(
            META_APP_SECRET=APP_SECRET,
            META_ACCESS_TOKEN=ACCESS_TOKEN,
            META_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            META_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN,
            META_GRAPH_URL=graph_url,
            FONNTE_TOKEN=FONNTE_TOKEN,
            FONNTE_WEBHOOK_SECRET=FONNTE_SECRET,
            FONNTE_API_URL=fonnte_url,
            WAGATE_API_TOKEN=API_TOKEN,
            WAGATE_DATA_DIR=str(self.data_dir),
            **(defaults | settings),
        )
        if database_url:
            self.env["DATABASE_URL"] = database_url
        # Zones in these tests come from the rules and the fake AI (tests/plugins/zones.py); the
        # learned detector would raise some of their plain questions ("sidang keliling di balai
        # desa kapan") to red, which benchmarks/README.md reports. A test may set it on.
        self.env.setdefault("TRIAGE_MODEL", "off")
        if ai_url:
            self.env.setdefault("AI_BASE_URL", ai_url)
            self.env.setdefault("AI_MODEL", "model-a")
            self.env.setdefault("AI_API_KEY", "e2e-ai-key")
            self.env.setdefault("AI_TIMEOUT_SECONDS", "2")
        self.args = [sys.executable, "-m", "wagate", "serve", "--port", str(self.port)]
        if not worker:
            self.args.append("--no-worker")
        self.process: Process | None = None
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def start(self, timeout: float = 60.0) -> Gateway:
        self.process = Process(self.args, self.env, self.workdir / f"gateway-{self.port}.log")
        try:
            wait_until(self._healthy, timeout=timeout, every=0.2)
        except AssertionError as exc:
            raise AssertionError(f"gateway did not start:\n{self.process.log_tail()}") from exc
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if not self.process.alive():
            raise AssertionError(f"gateway exited:\n{self.process.log_tail()}")
        try:
            return self.http.get("/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> int:
        assert self.process is not None
        return self.process.stop()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace") if self.process else ""

    # ---------------------------------------------------------------- driving it

    def post_meta(
        self, payload: Any, *, secret: str = APP_SECRET, signature: str | None = None
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature or sign(body, secret),
        }
        return self.http.post("/webhook/whatsapp", content=body, headers=headers)

    def api_post(self, path: str, body: Any, **headers: str) -> httpx.Response:
        return self.http.post(
            path, json=body, headers={"Authorization": f"Bearer {API_TOKEN}", **headers}
        )

    def post_fonnte(
        self, fields: Mapping[str, Any], *, encoding: str = "json", secret: str = FONNTE_SECRET
    ) -> httpx.Response:
        path = f"/webhook/fonnte/{secret}"
        if encoding == "form":
            return self.http.post(path, data={k: str(v) for k, v in fields.items()})
        return self.http.post(
            path, content=orjson.dumps(fields), headers={"Content-Type": "application/json"}
        )

    def api(self, path: str, **params: Any) -> Any:
        response = self.http.get(
            path, params=params, headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        response.raise_for_status()
        return response.json()

    def conversations(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api("/api/conversations", limit=1000)["items"]
        return items

    def conversation_for(self, contact_key: str) -> dict[str, Any] | None:
        for conversation in self.conversations():
            if conversation["contact"]["key"] == contact_key:
                return conversation
        return None

    def messages_of(self, contact_key: str) -> list[dict[str, Any]]:
        conversation = self.conversation_for(contact_key)
        if conversation is None:
            return []
        page = self.api(f"/api/conversations/{conversation['id']}/messages", limit=5000)
        messages: list[dict[str, Any]] = page["items"]
        return messages


def tag(number: str) -> str:
    """A marker derived from a test's phone number that is not itself personal data (PII
    masking would, rightly, hide the number from the AI): its digits spelt as letters."""
    return "k" + number[-8:].translate(str.maketrans("0123456789", "abcdefghij"))


@contextmanager
def gateway_on_fresh_database(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer | None = None, **settings: str
) -> Iterator[tuple[Gateway, str]]:
    """A gateway of its own on a database of its own, against the session's fakes."""
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1" if fake_ai else None,
            **settings,
        ).start()
        try:
            yield gateway, url
        finally:
            gateway.stop()


def wagate(
    *args: str,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """A one-shot `python -m wagate ARGS` with `env` (and `stdin` as its standard input): exit
    code, standard output and error, as `subprocess.run(..., capture_output=True, text=True)`
    returns them. Each command is its own process, forked from a server that has imported
    wagate already (`prewarmed.py`), so the suite does not pay the import hundreds of times."""
    done = prewarmed.run(args, env=env, stdin=stdin, timeout=timeout)
    if check:
        done.check_returncode()
    return done


def python_code(
    code: str, *args: str, env: Mapping[str, str], timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """`python -c CODE ARGS` for a one-shot script that drives wagate, as `wagate` above."""
    done = prewarmed.run(args, env=env, code=code, timeout=timeout)
    if check:
        done.check_returncode()
    return done


def start_worker(web: Gateway, label: str) -> Process:
    """`wagate worker` with the same settings (and data dir, so the same keys) as `web`."""
    worker = Process(
        [sys.executable, "-m", "wagate", "worker"],
        web.env,
        web.workdir / f"worker-{label}-{web.port}.log",
    )
    wait_until(lambda: "worker.started" in worker.log_tail(200) or not worker.alive(), timeout=60)
    if not worker.alive():
        raise AssertionError(f"worker {label} exited:\n{worker.log_tail()}")
    return worker
