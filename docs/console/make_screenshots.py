"""Screenshots of the operator console for docs/console/ (issue 15).

Starts a gateway in sandbox mode exactly as a newcomer would (`wagate serve` with no provider
credentials, its own data dir, a fresh database), signs in with the admin it prints, writes a
few messages as a WhatsApp user on the "Try it" page and saves a PNG of each console page that
exists. Needs Playwright's Python package and a Chromium (Debian's /usr/bin/chromium).

    .venv/bin/python docs/console/make_screenshots.py            # PostgreSQL at 127.0.0.1:5432
    .venv/bin/python docs/console/make_screenshots.py --embedded # the embedded PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from playwright.async_api import Page, async_playwright

HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("WAGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
FIRST_MINUTE = re.compile(r"^  Console +(\S+) — sign in as (\S+) / (\S+) ", re.M)
VIEWPORT = {"width": 1280, "height": 860}
MESSAGES = ("jam buka kantor?", "biaya konsultasi berapa?", "cara cerai gimana?")
# (file, path, what it shows) — pages that answer 404 today are skipped.
PAGES = (
    ("conversations.png", "/console/conversations", "Conversations"),
    ("reviews.png", "/console/reviews", "Review queue"),
    ("knowledge.png", "/console/knowledge", "Knowledge base"),
    ("dead-letters.png", "/console/dead-letters", "Dead letters"),
    ("audit.png", "/console/audit", "Audit trail"),
    ("accounts.png", "/console/accounts", "Accounts"),
    ("channels.png", "/console/channels", "Channels"),
    ("users.png", "/console/users", "Users"),
    ("settings.png", "/console/settings", "Settings"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def fresh_database(embedded: bool) -> Iterator[str | None]:
    if embedded:
        yield None
        return
    name = f"wagate_shots_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sandbox_gateway(workdir: Path, database_url: str | None) -> Iterator[tuple[str, str, str]]:
    """`wagate serve` in sandbox mode; (console URL, user, password) from the line it prints."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("META_", "FONNTE_", "WAGATE_", "DATABASE_URL", "AI_", "DEBOUNCE_"))
    }
    env |= {"WAGATE_DATA_DIR": str(workdir / "data"), "KB_DIR": str(workdir / "kb")}
    env |= {"DEBOUNCE_SECONDS": "0", "JOB_POLL_SECONDS": "0.2", "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    port = free_port()
    log_path = workdir / "gateway.log"
    with log_path.open("wb") as log:
        wagate = [sys.executable, "-m", "wagate", "serve", "--port", str(port)]
        process = subprocess.Popen(wagate, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                text = log_path.read_text(errors="replace")
                found = FIRST_MINUTE.search(text)
                if found and "kb.loaded" in text and healthy(port):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the sandbox gateway did not start:\n{text[-3000:]}")
                time.sleep(0.3)
            yield found.group(1), found.group(2), found.group(3)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def shoot(page: Page, name: str, written: list[str], *, whole: bool = False) -> None:
    await page.screenshot(path=HERE / name, full_page=whole)
    written.append(name)
    print(f"  {name}: {(HERE / name).stat().st_size // 1024} KB")


async def take(console_url: str, user: str, password: str, chromium: str) -> list[str]:
    written: list[str] = []
    base = console_url.removesuffix("/console")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = await browser.new_context(locale="id-ID", viewport=VIEWPORT)
        page = await context.new_page()
        page.set_default_timeout(20_000)
        await page.goto(console_url)
        await shoot(page, "sign-in.png", written)
        await page.fill("#name", user)
        await page.fill("#password", password)
        await page.click("form[action='/console/sign-in'] button[type=submit]")
        await page.wait_for_url(re.compile(r"/console/sandbox$"))
        numbers = ("6281200000001", "6281200000002", "6281200000001")
        for number, text in zip(numbers, MESSAGES, strict=True):
            await page.goto(f"{base}/console/sandbox?number={number}")
            await page.fill("#sandbox-text", text)
            await page.click("form.sandbox-form button[type=submit]")
            bubbles = page.locator(".sandbox-thread [data-from=gateway]")
            before = await bubbles.count()
            await page.wait_for_function(
                "n => document.querySelectorAll('.sandbox-thread [data-from=gateway]').length > n",
                arg=before,
            )
        await page.goto(f"{base}/console/sandbox?number=6281200000001")
        await page.locator(".sandbox-insight .sandbox-masked").wait_for()
        await shoot(page, "sandbox.png", written, whole=True)
        await page.goto(f"{base}/console/home")
        await shoot(page, "home.png", written)
        for name, path, _ in PAGES:
            response = await page.goto(base + path)
            if response is None or response.status == 404:
                print(f"  {path}: not built yet, skipped")
                continue
            await shoot(page, name, written)
        await browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedded", action="store_true", help="use the embedded PostgreSQL")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wagate-shots-") as folder:
        workdir = Path(folder)
        with (
            fresh_database(options.embedded) as database_url,
            sandbox_gateway(workdir, database_url) as (url, user, password),
        ):
            print(f"sandbox gateway at {url}; taking screenshots into {HERE}")
            written = asyncio.run(take(url, user, password, options.chromium))
    print("written:", ", ".join(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
