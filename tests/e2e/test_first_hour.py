"""The first hour with wagate (issue 17, items 1 and 2), as a newcomer meets it: `wagate serve`
with no credentials at all and nothing set but its database. One banner says where it is and
what to do; the log is JSON lines (its output is a file here, not a terminal) without uvicorn's
"running on" lines; the first message is answered within 3 s (the sandbox's short debounce);
`/api/whatsapp/status` says what is configured; a command line tool prints no warning of the
gateway's; and `wagate chat` rides out the gateway stopping and starting again."""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.e2e.harness import Process, base_env, free_port, fresh_database, wait_until
from wagate.fakes.meta import deliver_webhook
from wagate.fakes.payloads import meta_text

BANNER_ROW = re.compile(
    r"^  (URL|Channels|AI|Debounce|Console|Data|Database|API token|Next) +(.+)$"
)


class SandboxServer:
    """`wagate serve` in sandbox mode, stopped and started again on the same port and data."""

    def __init__(self, workdir: Path, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / f"first-hour-{self.port}"
        self.env = base_env(DATABASE_URL=database_url, WAGATE_DATA_DIR=str(self.data_dir))
        self.env.pop("AI_BASE_URL", None)
        self.log_path = workdir / f"first-hour-{self.port}.log"
        self.process: Process | None = None
        self.started_in = 0.0

    def start(self) -> SandboxServer:
        began = time.monotonic()
        before = len(self.log())  # a restart appends to the same log
        self.process = Process(
            [sys.executable, "-m", "wagate", "serve", "--port", str(self.port)],
            self.env,
            self.log_path,
        )
        wait_until(lambda: self._ready(self.log()[before:]), timeout=90, every=0.1)
        self.started_in = time.monotonic() - began
        return self

    def _ready(self, text: str) -> bool:
        assert self.process is not None and self.process.alive(), text[-3000:]
        # The banner's last line, and the sample knowledge base read by the worker.
        return "\n  Next " in text and "kb.loaded" in text

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = json.loads((self.data_dir / "sandbox.json").read_text())
        return details


@pytest.fixture(scope="module")
def sandbox(workdir: Path) -> Iterator[SandboxServer]:
    with fresh_database() as database_url:
        server = SandboxServer(workdir, database_url).start()
        try:
            yield server
        finally:
            server.stop()


def banner_rows(log: str) -> dict[str, str]:
    return {m[1]: m[2] for m in map(BANNER_ROW.match, log.splitlines()) if m}


def new_number() -> str:
    return "62813" + "".join(random.choices("0123456789", k=8))


def test_one_banner_says_where_it_is_and_what_to_do(sandbox: SandboxServer) -> None:
    log = sandbox.log()
    titles = [line for line in log.splitlines() if line.startswith("wagate ")]
    assert len(titles) == 1 and "SANDBOX" in titles[0], titles
    rows = banner_rows(log)
    assert rows["URL"] == sandbox.url
    assert rows["Channels"].startswith("sandbox")
    assert rows["Console"].startswith(f"{sandbox.url}/console — sign in as admin / ")
    assert rows["Data"] == str(sandbox.data_dir.resolve())
    assert rows["API token"] == str(sandbox.data_dir.resolve() / "api-token")
    assert (sandbox.data_dir / "api-token").exists()
    assert "wagate chat" in rows["Next"]
    assert "1 s" in rows["Debounce"]
    print(f"banner {sandbox.started_in:.1f} s after `wagate serve` started")


def test_the_log_is_json_lines_without_uvicorn_start_lines(sandbox: SandboxServer) -> None:
    log = sandbox.log()
    assert "Uvicorn running" not in log and "Started server process" not in log
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    banner = [line for line in log.splitlines() if line and not line.startswith("{")]
    assert len(banner) == 1 + len(banner_rows(log)), banner  # nothing else is plain text
    [started] = [e for e in events if e["event"] == "gateway.started"]
    assert started["mode"] == "sandbox" and started["channels"] == ["sandbox"]
    assert "meta" not in started and started["url"] == sandbox.url
    password = banner_rows(log)["Console"].split(" / ")[1].split()[0]
    assert password not in json.dumps(events)  # only the banner shows it
    [offline] = [e for e in events if e["event"] == "sandbox.started"]
    assert "banner" not in offline and offline["debounce_seconds"] == 1.0


async def test_the_first_message_is_answered_within_three_seconds(
    sandbox: SandboxServer,
) -> None:
    details = sandbox.details()
    number = new_number()
    payload = meta_text(
        phone_number_id=details["phone_number_id"], sender=number, text="jam buka kantor?"
    )
    async with httpx.AsyncClient(timeout=10) as http:
        began = time.monotonic()
        status, _ = await deliver_webhook(
            f"{sandbox.url}/webhook/whatsapp", payload, details["app_secret"], client=http
        )
        assert status == 200
        while time.monotonic() - began < 10:
            sent = (
                await http.get(f"{details['fake_url']}/_fake/requests", params={"kind": "send"})
            ).json()
            if any(r["body"].get("to") == number for r in sent):
                break
            await asyncio.sleep(0.05)
        took = time.monotonic() - began
    print(f"first answer {took:.2f} s after the message")
    assert took < 3.0


def test_the_status_says_what_is_configured(sandbox: SandboxServer) -> None:
    status = httpx.get(f"{sandbox.url}/api/whatsapp/status").json()
    assert status["sandbox"] is True
    assert status["apiToken"] is True and status["apiTokenSource"] == "dataDir"
    # The Meta settings in sandbox mode are the built-in fake's, not the operator's.
    assert status["meta"]["configured"] is False and status["meta"]["accessToken"] is False


def test_a_command_line_tool_prints_its_answer_and_nothing_else(sandbox: SandboxServer) -> None:
    def users_list(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wagate", "users", "list", "--json"],
            env={k: v for k, v in sandbox.env.items() if k != "WAGATE_LOG_LEVEL"} | env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = users_list()
    assert done.returncode == 0, done.stderr
    assert [u["name"] for u in json.loads(done.stdout)] == ["admin"]
    assert done.stderr == ""  # no gateway notices, no database start-up lines
    # Asked for, the log is there; still without the gateway's own notices.
    verbose = users_list(WAGATE_LOG_LEVEL="INFO")
    assert "tenant.loaded" in verbose.stderr
    assert "assistant.offline" not in verbose.stderr and "api.token" not in verbose.stderr


def test_operator_commands_send_through_the_sandbox(sandbox: SandboxServer) -> None:
    """`wagate send` and `wagate smoke-test` beside a sandbox gateway use its fake number (they
    were refused with "no WhatsApp provider is configured"), and the fake reports delivery."""
    details = sandbox.details()
    number = new_number()
    payload = meta_text(phone_number_id=details["phone_number_id"], sender=number, text="halo")

    async def write_first() -> int:  # opens the 24-hour window free-form messages need
        async with httpx.AsyncClient(timeout=10) as http:
            status, _ = await deliver_webhook(
                f"{sandbox.url}/webhook/whatsapp", payload, details["app_secret"], client=http
            )
        return status

    assert asyncio.run(write_first()) == 200

    def wagate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wagate", *args],
            env=sandbox.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    sent = wagate("send", number, "Halo dari kantor", "--button", "Ya", "--button", "Tidak")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["provider"] == "meta"
    smoke = wagate("smoke-test", number, "--wait", "30", "--json")
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert json.loads(smoke.stdout)["status"] in ("delivered", "read")
    requests = httpx.get(f"{details['fake_url']}/_fake/requests", params={"kind": "send"}).json()
    buttons = [
        r["body"] for r in requests if r["body"].get("to") == number and r["body"]["type"] != "text"
    ]
    assert [b["interactive"]["body"]["text"] for b in buttons] == ["Halo dari kantor"]


def test_wagate_chat_rides_out_a_restart_of_the_gateway(
    sandbox: SandboxServer, workdir: Path
) -> None:
    transcript = workdir / f"chat-{sandbox.port}.txt"  # not *.log: it holds message texts
    with transcript.open("wb") as out:
        chat = subprocess.Popen(
            [sys.executable, "-m", "wagate", "chat", "--as", new_number()],
            env=sandbox.env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        assert chat.stdin is not None
        try:
            said = _said(transcript)
            wait_until(lambda: "Chatting as" in said(), timeout=30)
            _type(chat.stdin, "jam buka kantor?")
            wait_until(lambda: said().count("[bot]") >= 1, timeout=20)

            sandbox.stop()
            _type(chat.stdin, "biaya konsultasi berapa?")
            wait_until(lambda: "does not answer" in said(), timeout=20)
            sandbox.start()
            wait_until(lambda: "connected again" in said(), timeout=30)
            wait_until(lambda: said().count("[bot]") >= 2, timeout=20)

            _type(chat.stdin, "/quit")
            assert chat.wait(20) == 0
        finally:
            if chat.poll() is None:
                chat.kill()
    text = transcript.read_text(errors="replace")
    assert "Traceback" not in text and '"event"' not in text
    assert text.count("does not answer") == 1  # one line for the outage, not one per retry
    answers = text.split("[bot]")[1:]
    assert "Senin" in answers[0] and "Rp100.000" in answers[1]
    # The disclaimer reads as WhatsApp shows it: no `_…_` marks (no colours to a file).
    assert "Jawaban ini dibuat oleh AI" in text and "_Jawaban" not in text


def _said(path: Path) -> Any:
    return lambda: path.read_text(errors="replace")


def _type(stdin: IO[bytes], line: str) -> None:
    stdin.write(line.encode() + b"\n")
    stdin.flush()
