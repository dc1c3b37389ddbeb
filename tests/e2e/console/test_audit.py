"""The audit trail in a real browser: a console action is listed under the user's name,
filters narrow the list, and "Verify the chain" says the chain is intact."""

from __future__ import annotations

import secrets

from playwright.async_api import Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.console.drafts import yellow_draft
from tests.e2e.harness import Gateway


async def test_console_actions_are_listed_by_name_and_the_chain_verifies(
    console_gateway: Gateway, page: Page, sender: str
) -> None:
    lawyer = add_user(console_gateway, "lawyer")
    made = await yellow_draft(console_gateway, sender)
    await sign_in(page, console_gateway, lawyer)
    await page.goto(f"{console_gateway.url}/console/reviews")
    draft = page.locator(f"#draft-{made['id']}")
    await draft.locator("input[name=reason]").fill("di luar layanan kantor")
    await draft.locator("form[action$='/reject'] button[type=submit]").click()
    await expect(page.locator("main .notice").first).to_contain_text("Ditolak")

    await page.goto(f"{console_gateway.url}/console/audit")
    await page.fill("#audit-actor", lawyer)
    await page.click("form.filters button[type=submit]")
    rows = page.locator("table.audit tbody tr")
    await expect(rows.first).to_contain_text("review.rejected")  # newest first
    await expect(rows.first).to_contain_text(f"user:{lawyer}:console")
    await expect(rows.first).to_contain_text(f"review:{made['id']}")
    await expect(page.locator("table.audit")).to_contain_text("user.signed_in")
    await expect(rows.filter(has_not_text=lawyer)).to_have_count(0)

    await page.fill("#audit-action", "review.")
    await page.click("form.filters button[type=submit]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("review.rejected")

    await page.click("form[action='/console/audit/verify'] button[type=submit]")
    result = page.locator(".audit-result")
    await expect(result).to_have_attribute("role", "status")
    await expect(result).to_contain_text("Rantai utuh")


async def test_the_trail_pages_fifty_at_a_time(console_gateway: Gateway, page: Page) -> None:
    viewer = add_user(console_gateway, "viewer")
    prefix = f"paged-{secrets.token_hex(3)}"
    for n in range(55):  # enough entries for two pages, whatever ran before
        created = console_gateway.api_post("/api/accounts", {"username": f"{prefix}-{n}"})
        assert created.status_code == 201, created.text
    await sign_in(page, console_gateway, viewer)
    await page.goto(f"{console_gateway.url}/console/audit")
    rows = page.locator("table.audit tbody tr")
    await expect(rows).to_have_count(50)
    first_page = await rows.first.locator("td").first.inner_text()
    last_on_page = int(await rows.last.locator("td").first.inner_text())
    html = await page.content()
    assert len(html.encode()) < 100_000 and " style=" not in html and "<script>" not in html
    await page.click("nav.pages a:has-text('Lebih lama')")
    assert int(await rows.first.locator("td").first.inner_text()) == last_on_page - 1
    assert int(first_page) > last_on_page
