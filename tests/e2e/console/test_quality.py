"""The console's quality bar (issue 15, item 4), page by page: no serious or critical axe
finding, under 100 KB, readable and usable with JavaScript off, and a sign-in form whose
keyboard order is the order it reads in.

Pages still being built elsewhere answer 404 today and are left out until they exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.console.conftest import PASSWORD, add_user, sign_in
from tests.e2e.console.quality import MAX_PAGE_BYTES, blocking_violations
from tests.e2e.harness import Gateway

ADMIN_PAGES = (
    "/console/home",
    "/console/conversations",
    "/console/reviews",
    "/console/intakes",
    "/console/knowledge",
    "/console/dead-letters",
    "/console/audit",
    "/console/accounts",
    "/console/channels",
    "/console/users",
    "/console/settings",
    "/console/sandbox",
)


@pytest.fixture
async def no_script(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="id-ID", java_script_enabled=False)
    opened = await context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    await context.close()


async def test_sign_in_page_has_no_serious_violations(console_gateway: Gateway, page: Page) -> None:
    response = await page.goto(f"{console_gateway.url}/console/sign-in")
    assert response is not None and len(await response.body()) < MAX_PAGE_BYTES
    assert await blocking_violations(page) == []
    # A refused sign-in (the alert) is checked too: it is the page people see most after this.
    await page.fill("#name", "nobody-here")
    await page.fill("#password", "not-the-password")
    await page.click("form[action='/console/sign-in'] button[type=submit]")
    await expect(page.locator("[role=alert]")).to_be_visible()
    assert await blocking_violations(page) == []


async def test_admin_pages_pass_axe_and_stay_small(console_gateway: Gateway, page: Page) -> None:
    await sign_in(page, console_gateway, add_user(console_gateway, "admin"))
    findings: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    checked = []
    for path in ADMIN_PAGES:
        response = await page.goto(f"{console_gateway.url}{path}")
        assert response is not None
        if response.status == 404:
            continue
        assert response.status == 200, (path, response.status)
        checked.append(path)
        sizes[path] = len(await response.body())
        found = await blocking_violations(page)
        if found:
            findings[path] = found
    assert "/console/home" in checked
    assert findings == {}
    assert {p: n for p, n in sizes.items() if n >= MAX_PAGE_BYTES} == {}


async def test_pages_work_without_javascript(console_gateway: Gateway, no_script: Page) -> None:
    name = add_user(console_gateway, "admin")
    await sign_in(no_script, console_gateway, name, PASSWORD)
    await expect(no_script.locator("header .me")).to_contain_text(name)
    opened = []
    for path in ADMIN_PAGES:
        response = await no_script.goto(f"{console_gateway.url}{path}")
        assert response is not None
        if response.status == 404:
            continue
        assert response.status == 200, (path, response.status)
        opened.append(path)
        # Server-rendered: the heading and the menu are there without a script running.
        await expect(no_script.locator("main h1").first).not_to_be_empty()
        await expect(no_script.locator("header nav a").first).to_be_visible()
    assert opened[:1] == ["/console/home"]
    # Signing out is a plain form too.
    await no_script.goto(f"{console_gateway.url}/console/home")
    await no_script.click("header .me button")
    await expect(no_script.locator("#name")).to_be_visible()


async def test_sign_in_focus_order(console_gateway: Gateway, page: Page) -> None:
    await page.goto(f"{console_gateway.url}/console/sign-in")
    await page.focus("#name")
    order = [await page.evaluate("document.activeElement.id || document.activeElement.type")]
    for _ in range(3):
        await page.keyboard.press("Tab")
        order.append(
            await page.evaluate("document.activeElement.id || document.activeElement.type")
        )
    assert order == ["name", "password", "tenant", "submit"]
