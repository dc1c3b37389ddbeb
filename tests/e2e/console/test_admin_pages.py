"""Accounts, channels, users and settings pages in a real browser (issue 15): an admin adds a
lawyer who then signs in; a staff user is refused the users page; the settings page shows no
secret; the Meta channel shows healthy and only an admin is offered a new token; a staff user
links a number to an account and unlinks it."""

from __future__ import annotations

import re
import secrets

from playwright.async_api import Page, expect

from tests.e2e.console.conftest import PASSWORD, add_user, sign_in
from tests.e2e.harness import (
    ACCESS_TOKEN,
    API_TOKEN,
    APP_SECRET,
    FONNTE_SECRET,
    FONNTE_TOKEN,
    VERIFY_TOKEN,
    Gateway,
)

AI_KEY = "e2e-ai-key"  # the harness's AI_API_KEY for a gateway with a fake AI


async def test_admin_adds_a_lawyer_who_signs_in(console_gateway: Gateway, page: Page) -> None:
    admin = add_user(console_gateway, "admin")
    await sign_in(page, console_gateway, admin)
    await page.goto(f"{console_gateway.url}/console/users")
    await expect(page.locator("h1")).to_have_text("Pengguna")
    lawyer = f"advokat-{secrets.token_hex(3)}"
    await page.fill("#new-name", lawyer)
    await page.select_option("#new-role", "lawyer")
    await page.fill("#new-password", "sandi-advokat-baru-1")
    await page.click("form[action='/console/users'] button[type=submit]")
    await expect(page.locator("p.notice")).to_contain_text(lawyer)
    row = page.locator(f"tr[data-user='{lawyer}']")
    await expect(row).to_contain_text("advokat")
    await expect(row).to_contain_text("aktif")
    # The password never appears on the page.
    assert "sandi-advokat-baru-1" not in await page.content()

    await page.click("header .me button")
    await sign_in(page, console_gateway, lawyer, "sandi-advokat-baru-1")
    await expect(page).to_have_url(re.compile(r"/console/home$"))
    await expect(page.locator("header .me")).to_contain_text(lawyer)
    await expect(page.locator("header .me")).to_contain_text("advokat")
    # A lawyer does not administer: no Users section, and the page itself refuses.
    await expect(page.locator("header nav a[href='/console/users']")).to_have_count(0)
    response = await page.goto(f"{console_gateway.url}/console/users")
    assert response is not None and response.status == 403


async def test_admin_disables_and_enables_a_user(console_gateway: Gateway, page: Page) -> None:
    admin = add_user(console_gateway, "admin")
    staff = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, admin)
    await page.goto(f"{console_gateway.url}/console/users")
    row = page.locator(f"tr[data-user='{staff}']")
    await row.locator("button", has_text="Nonaktifkan").click()
    await expect(page.locator(f"tr[data-user='{staff}']")).to_contain_text("nonaktif")
    await page.locator(f"tr[data-user='{staff}'] select").select_option("viewer")
    await page.locator(f"tr[data-user='{staff}'] button", has_text="Ubah").click()
    await expect(page.locator(f"tr[data-user='{staff}']")).to_contain_text("pengamat")
    await page.locator(f"tr[data-user='{staff}'] button", has_text="Aktifkan").click()
    await expect(page.locator(f"tr[data-user='{staff}'] .badge")).to_have_text("aktif")
    actions = [r["action"] for r in console_gateway.api("/api/audit", limit=200)["items"]]
    assert {"user.disabled", "user.enabled", "user.role_changed"} <= set(actions)


async def test_settings_show_no_secret(console_gateway: Gateway, page: Page) -> None:
    admin = add_user(console_gateway, "admin")
    await sign_in(page, console_gateway, admin)
    response = await page.goto(f"{console_gateway.url}/console/settings")
    assert response is not None and response.status == 200
    html = await page.content()
    for secret in (AI_KEY, API_TOKEN, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, FONNTE_TOKEN):
        assert secret not in html
    assert FONNTE_SECRET not in html
    key_row = page.locator("tr", has=page.locator("code", has_text=re.compile(r"^AI_API_KEY$")))
    await expect(key_row).to_contain_text("••• (set)")
    review = page.locator("tr", has=page.locator("code", has_text=re.compile(r"^REVIEW_MODE$")))
    await expect(review).to_contain_text("yellow")
    assert len(html.encode()) < 100_000


async def test_settings_and_users_are_for_admins(console_gateway: Gateway, page: Page) -> None:
    staff = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, staff)
    for path in ("/console/settings", "/console/users"):
        response = await page.goto(f"{console_gateway.url}{path}")
        assert response is not None and response.status == 403
        assert AI_KEY not in await page.content()


async def test_channels_show_meta_healthy(console_gateway: Gateway, page: Page) -> None:
    viewer = add_user(console_gateway, "viewer")
    await sign_in(page, console_gateway, viewer)
    await page.goto(f"{console_gateway.url}/console/channels")
    meta = page.locator("tr[data-provider='meta']")
    await expect(meta.locator(".badge")).to_have_text("Sehat")
    await expect(meta.locator(".badge")).to_have_class(re.compile(r"\bgreen\b"))
    # Only an admin may replace a token.
    await expect(page.locator("form[action='/console/channels/token']")).to_have_count(0)
    await page.click("header .me button")
    admin = add_user(console_gateway, "admin")
    await sign_in(page, console_gateway, admin)
    await page.goto(f"{console_gateway.url}/console/channels")
    form = page.locator("form[action='/console/channels/token']")
    await expect(form).to_have_count(1)
    await expect(form.locator("#token-value")).to_have_attribute("type", "password")


async def test_staff_links_and_unlinks_a_number(console_gateway: Gateway, page: Page) -> None:
    username = f"klien-{secrets.token_hex(3)}"
    number = "62812" + str(secrets.randbelow(10**7)).zfill(7)
    created = console_gateway.api_post(
        "/api/accounts", {"username": username, "name": "Klien Uji", "approved": True}
    )
    assert created.status_code == 201, created.text
    staff = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, staff, PASSWORD)
    await page.goto(f"{console_gateway.url}/console/accounts")
    await page.fill("#link-account", username)
    await page.fill("#link-phone", number)
    await page.click("form[action='/console/accounts/link'] button[type=submit]")
    await expect(page.locator("p.notice")).to_contain_text("Nomor ditautkan")
    await page.goto(f"{console_gateway.url}/console/accounts?q={username}")
    row = page.locator("tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(number)
    await row.locator("button", has_text="Lepas tautan").click()
    await expect(page.locator("p.notice")).to_contain_text("dilepas")
    await expect(page.locator("tr", has_text=username)).not_to_contain_text(number)
