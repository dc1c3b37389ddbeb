"""The sandbox in the browser (issue 15, item 3): a newcomer runs `wagate serve` with no
credentials, signs in with the admin it printed, writes as a WhatsApp user and sees the
answer arrive, with what the AI received, the passages used and the triage zone beside it."""

from __future__ import annotations

import random
import re
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.console.quality import blocking_violations
from tests.e2e.console.sandbox_gateway import SandboxGateway, sandbox_gateway
from tests.e2e.harness import Gateway


@pytest.fixture(scope="module")
def sandbox(workdir: Path) -> Iterator[SandboxGateway]:
    # Its own gateway: sandbox mode is a different configuration (no provider credentials).
    with sandbox_gateway(workdir) as gateway:
        yield gateway


@pytest.fixture
async def no_script(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="id-ID", java_script_enabled=False)
    opened = await context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    await context.close()


def new_number() -> str:
    return "62813" + "".join(random.choices("0123456789", k=8))


async def sign_in_as_newcomer(page: Page, sandbox: SandboxGateway) -> None:
    await page.goto(sandbox.console_url)
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))
    await page.fill("#name", sandbox.user)
    await page.fill("#password", sandbox.password)
    await page.click("form[action='/console/sign-in'] button[type=submit]")
    # In sandbox mode the console opens on the chat page.
    await expect(page).to_have_url(re.compile(r"/console/sandbox$"))


async def test_the_first_minute_line_and_its_file(sandbox: SandboxGateway) -> None:
    lines = [line for line in sandbox.log().splitlines() if line.startswith("  Console ")]
    assert len(lines) == 1, lines  # the banner's console line, printed once
    assert sandbox.console_url.endswith("/console") and sandbox.user == "admin"
    details_file = sandbox.data_dir / "sandbox.json"
    assert stat.S_IMODE(details_file.stat().st_mode) == 0o600
    kept = orjson.loads(details_file.read_bytes())["console"]
    assert kept == {"url": sandbox.console_url, "user": "admin", "password": sandbox.password}


async def test_the_sandbox_chat_answers_with_its_insights(
    sandbox: SandboxGateway, page: Page
) -> None:
    number = new_number()
    await sign_in_as_newcomer(page, sandbox)
    await page.fill("#sandbox-number", number)
    await page.fill("#sandbox-text", "jam buka kantor?")
    await page.click("form.sandbox-form button[type=submit]")
    # The form posts with htmx and the answer arrives later: polling brings it in, no reload.
    thread = page.locator(".sandbox-thread")
    await expect(thread.locator("[data-from=user]")).to_contain_text("jam buka kantor?")
    await expect(thread.locator("[data-from=gateway]")).to_contain_text("Senin", timeout=20_000)
    await expect(page).to_have_url(re.compile(r"/console/sandbox$"))
    panel = page.locator(".sandbox-insight")
    await expect(panel.locator(".sandbox-masked")).to_contain_text("jam buka kantor?")
    await expect(panel.locator(".badge.green")).to_have_text("hijau")
    await expect(panel.locator(".sandbox-sources")).to_contain_text("Jam Layanan")
    assert await blocking_violations(page) == []
    html = await page.content()
    assert len(html.encode()) < 100_000


async def test_the_sandbox_masks_what_the_ai_receives(sandbox: SandboxGateway, page: Page) -> None:
    number = new_number()
    await sign_in_as_newcomer(page, sandbox)
    await page.fill("#sandbox-number", number)
    await page.fill("#sandbox-text", "jam buka kantor? hubungi saya di 081299998888")
    await page.click("form.sandbox-form button[type=submit]")
    # The thread shows what the person wrote; the panel what the AI got: the number masked.
    await expect(page.locator(".sandbox-thread [data-from=user]")).to_contain_text("081299998888")
    masked = page.locator(".sandbox-insight .sandbox-masked")
    await expect(masked).to_contain_text("jam buka kantor? hubungi saya di [", timeout=20_000)
    assert "081299998888" not in await masked.inner_text()


async def test_the_sandbox_works_without_javascript(
    sandbox: SandboxGateway, no_script: Page
) -> None:
    number = new_number()
    page = no_script
    await sign_in_as_newcomer(page, sandbox)
    await page.fill("#sandbox-number", number)
    await page.fill("#sandbox-text", "biaya konsultasi berapa?")
    await page.click("form.sandbox-form button[type=submit]")
    # Post/redirect/get: back on the page for this number, with a notice.
    await expect(page).to_have_url(re.compile(rf"/console/sandbox\?number={number}"))
    await expect(page.locator("[role=status]").first).to_contain_text("Terkirim")
    answer = page.locator(".sandbox-thread [data-from=gateway]")
    for _ in range(40):
        if await answer.count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(answer.first).not_to_be_empty()
    await expect(page.locator(".sandbox-insight")).to_contain_text("biaya konsultasi berapa?")


async def test_a_message_without_the_csrf_token_is_refused(
    sandbox: SandboxGateway, page: Page
) -> None:
    number = new_number()
    await sign_in_as_newcomer(page, sandbox)
    response = await page.request.post(
        f"{sandbox.url}/console/sandbox", form={"number": number, "text": "halo"}
    )
    assert response.status == 403
    await page.goto(f"{sandbox.url}/console/sandbox?number={number}")
    await expect(page.locator(".sandbox-thread")).to_have_count(0)


async def test_outside_sandbox_mode_there_is_no_chat_page(
    console_gateway: Gateway, page: Page
) -> None:
    name = add_user(console_gateway, "admin")
    await sign_in(page, console_gateway, name)
    await expect(page).to_have_url(re.compile(r"/console/home$"))
    await expect(page.locator("header nav")).not_to_contain_text("Coba")
    response = await page.goto(f"{console_gateway.url}/console/sandbox")
    assert response is not None and response.status == 404
    # Without a session there is nothing to learn either: sign in first.
    anonymous = httpx.get(f"{console_gateway.url}/console/sandbox", follow_redirects=False)
    assert anonymous.status_code in (303, 404)
