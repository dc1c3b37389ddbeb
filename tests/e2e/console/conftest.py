"""The console in a real browser (issue 15): Playwright drives Debian's Chromium against one
real gateway process on its own real PostgreSQL database, with the fake Graph API and AI of
the e2e session.

`console_gateway` is shared by every console test (starting one costs seconds): tests make
their own users and senders, so they do not see each other's data by accident. `page` is a
new browser context per test (no cookies carried over).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.harness import FakePeer, Gateway, fresh_database

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "kata-sandi-uji-123"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CONSOLE_SETTINGS = {
    "WAGATE_ZONE_TRIAGE": "tests.plugins.zones:triage",
    "REVIEW_MODE": "yellow",
    "PYTHONPATH": str(ROOT),
    "AI_DISCLAIMER_TEXT": "[bukan nasihat hukum]",
    # Tests share this gateway: a document another test uploaded must not make the knowledge
    # base decline the questions of the review and conversation tests.
    "KB_STRICT": "false",
}


def chromium_path() -> str | None:
    found = os.environ.get("WAGATE_TEST_CHROMIUM")
    if found:
        return found
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def console_gateway(workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer) -> Iterator[Gateway]:
    knowledge = workdir / "console-kb"
    knowledge.mkdir(exist_ok=True)
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            KB_DIR=str(knowledge),
            **CONSOLE_SETTINGS,
        ).start()
        try:
            yield gateway
        finally:
            gateway.stop()


def add_user(gateway: Gateway, role: str, *, name: str | None = None) -> str:
    """A new user of the default tenant with `PASSWORD`; their name."""
    name = name or f"{role}-{secrets.token_hex(3)}"
    response = gateway.api_post("/api/users", {"name": name, "role": role, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return name


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium here: `apt-get install chromium` (.ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="id-ID")
    opened = await context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    await context.close()


async def sign_in(page: Page, gateway: Gateway, name: str, password: str = PASSWORD) -> Any:
    await page.goto(f"{gateway.url}/console/sign-in")
    await page.fill("#name", name)
    await page.fill("#password", password)
    await page.click("form[action='/console/sign-in'] button[type=submit]")
    return await page.wait_for_load_state()
