"""Signing in and out of the console in a real browser, and the guards around it: CSRF, CSP,
throttling, a viewer's limits, the idle timeout's cookie handling."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.e2e.console.conftest import PASSWORD, add_user, sign_in
from tests.e2e.harness import Gateway


async def test_sign_in_and_out(console_gateway: Gateway, page: Page) -> None:
    name = add_user(console_gateway, "staff")
    await page.goto(f"{console_gateway.url}/console/home")
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("form[action='/console/sign-in'] button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/console/home$"))
    await expect(page.locator("header .me")).to_contain_text(name)
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["wagate_console"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/console"
    await page.click("header .me button")
    await expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    # The ended session's cookie no longer opens anything, even if it were kept.
    response = httpx.get(
        f"{console_gateway.url}/console/home",
        cookies={"wagate_console": session["value"]},
    )
    assert response.status_code == 303 and "/console/sign-in" in response.headers["location"]
    actions = [r["action"] for r in console_gateway.api("/api/audit", limit=200)["items"]]
    assert "user.signed_in" in actions and "user.signed_out" in actions


async def test_wrong_password_is_throttled(console_gateway: Gateway, page: Page) -> None:
    name = add_user(console_gateway, "viewer")
    for _ in range(5):
        await sign_in(page, console_gateway, name, "salah-sekali-123")
        await expect(page.locator("[role=alert]")).to_contain_text("salah")
    # Locked now: even the right password is refused until the lock-out ends.
    await sign_in(page, console_gateway, name, PASSWORD)
    await expect(page.locator("[role=alert]")).to_contain_text("Terlalu banyak")
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))


async def test_form_without_csrf_token_is_refused(console_gateway: Gateway, page: Page) -> None:
    name = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, name)
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    # The browser's own session, a form post without the token: 403, still signed in.
    response = await page.request.post(f"{console_gateway.url}/console/sign-out", form={"x": "1"})
    assert response.status == 403
    assert "wagate_console" in cookies
    await page.goto(f"{console_gateway.url}/console/home")
    await expect(page.locator("header .me")).to_contain_text(name)


async def test_pages_forbid_inline_scripts(console_gateway: Gateway) -> None:
    response = httpx.get(f"{console_gateway.url}/console/sign-in")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in response.text and " on" + "click=" not in response.text
    assert len(response.content) < 100_000
    assert response.headers["cache-control"] == "no-store"


async def test_an_unknown_name_is_locked_out_like_a_real_one(
    console_gateway: Gateway, page: Page
) -> None:
    """The answers at the door never tell which names exist: five failures lock a name nobody
    has exactly as they lock a real user, and a real user's own lock-out still holds."""
    real = add_user(console_gateway, "viewer")
    nobody = f"tidak-ada-{real}"
    seen: dict[str, list[str]] = {}
    for name in (real, nobody):
        for _ in range(6):
            await sign_in(page, console_gateway, name, "salah-sekali-123")
            text = await page.locator("[role=alert]").inner_text()
            # The lock-out's end is shown to the minute; the two names' ends differ by the
            # seconds between their tries.
            seen.setdefault(name, []).append(re.sub(r"\d\d:\d\d", "HH:MM", text))
    assert seen[real] == seen[nobody], seen
    assert "Terlalu banyak" in seen[nobody][-1] and "salah" in seen[nobody][0]


async def test_signing_in_logs_no_error_in_the_browser(
    console_gateway: Gateway, page: Page
) -> None:
    """The browser asked for /favicon.ico, a 404 that showed in the console of every first
    page: the pages now name their (empty) icon."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    await sign_in(page, console_gateway, add_user(console_gateway, "viewer"))
    await page.goto(f"{console_gateway.url}/console/conversations")
    await page.wait_for_load_state("networkidle")
    assert errors == []
    assert not [url for url in asked if url.endswith("/favicon.ico")]
