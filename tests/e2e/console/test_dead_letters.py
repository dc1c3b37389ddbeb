"""Dead letters in a real browser: a message the fake Graph API refused for good is listed,
shown with its text and error, replayed from the console and then delivered — once; a replay
to a number that opted out since is refused with the reason on the letter's page."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.console.drafts import eventually, say, texts_to
from tests.e2e.harness import FakePeer, Gateway, tag

UNDELIVERABLE = 131026  # a Graph error that is final: the message becomes a dead letter


async def dead_letter(gateway: Gateway, fake_meta: FakePeer, sender: str, text: str) -> str:
    """Open the window (a green question, answered), then a send the fake refuses for good."""
    say(gateway, sender, f"jam buka kantor {tag(sender)}?")
    await eventually(lambda: texts_to(fake_meta, sender))
    fake_meta.fail(kind="send", code=UNDELIVERABLE, times=1)
    sent = gateway.api_post("/api/whatsapp/send", {"target": sender, "message": text})
    assert sent.status_code == 202, sent.text
    conversation = gateway.conversation_for(sender)
    assert conversation is not None

    def letters() -> list[dict[str, Any]]:
        return [
            d
            for d in gateway.api("/api/dead-letters")["items"]
            if d.get("conversationId") == conversation["id"]
        ]

    [letter] = await eventually(letters)
    assert letter["errorCode"] == str(UNDELIVERABLE)
    return str(letter["id"])


async def test_a_dead_letter_is_replayed_from_the_console_and_delivered_once(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    text = f"Dokumen siap {tag(sender)}"
    ref = await dead_letter(console_gateway, fake_meta, sender, text)
    staff = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, staff)
    await page.goto(f"{console_gateway.url}/console/dead-letters")
    link = page.locator(f"table a[href='/console/dead-letters/{ref}']")
    await expect(link).to_be_visible()
    await link.click()
    await expect(page.locator("h1")).to_contain_text(ref)
    await expect(page.locator(".dead-letter-text")).to_have_text(text)
    await expect(page.locator("main")).to_contain_text(str(UNDELIVERABLE))
    await page.click("form[action$='/replay'] button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/console/dead-letters\?notice="))
    await expect(page.locator("main .notice").first).to_contain_text("Kembali ke antrean")

    await eventually(lambda: text in texts_to(fake_meta, sender))
    await page.goto(f"{console_gateway.url}/console/dead-letters")
    await expect(page.locator(f"table a[href='/console/dead-letters/{ref}']")).to_have_count(0)
    # Delivered now, so a second replay is refused: it can never go out twice.
    await page.goto(f"{console_gateway.url}/console/dead-letters/{ref}")
    await page.click("form[action$='/replay'] button[type=submit]")
    await expect(page.locator("[role=alert]")).to_contain_text("not a dead letter")
    assert texts_to(fake_meta, sender).count(text) == 1
    replays = [
        e
        for e in console_gateway.api("/api/audit", limit=1000)["items"]
        if e["action"] == "dead_letter.replayed" and e["subject"] == f"outbound:{ref}"
    ]
    assert [e["actor"] for e in replays] == [f"user:{staff}:console"]


async def test_a_replay_to_a_number_that_opted_out_is_refused_with_the_reason(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    text = f"Tagihan {tag(sender)}"
    ref = await dead_letter(console_gateway, fake_meta, sender, text)
    before = len(texts_to(fake_meta, sender))
    say(console_gateway, sender, "BERHENTI")
    await eventually(lambda: len(texts_to(fake_meta, sender)) > before)  # the confirmation
    admin = add_user(console_gateway, "admin")
    await sign_in(page, console_gateway, admin)
    await page.goto(f"{console_gateway.url}/console/dead-letters/{ref}")
    await page.click("form[action$='/replay'] button[type=submit]")
    await expect(page.locator("[role=alert]")).to_contain_text("opted out")
    await expect(page.locator("h1")).to_contain_text(ref)  # still the letter's page
    assert text not in texts_to(fake_meta, sender)
    listed = [str(d["id"]) for d in console_gateway.api("/api/dead-letters")["items"]]
    assert ref in listed  # still a dead letter


async def test_a_lawyer_may_read_dead_letters_but_not_replay_them(
    console_gateway: Gateway, page: Page
) -> None:
    lawyer = add_user(console_gateway, "lawyer")
    await sign_in(page, console_gateway, lawyer)
    await page.goto(f"{console_gateway.url}/console/dead-letters")
    await expect(page.locator("h1")).to_have_text("Pesan gagal")
    csrf = await page.locator("header .me input[name=csrf]").get_attribute("value")
    response = await page.request.post(
        f"{console_gateway.url}/console/dead-letters/1/replay", form={"csrf": csrf or ""}
    )
    assert response.status == 403
    bad = await page.request.get(f"{console_gateway.url}/console/dead-letters/x1")
    assert bad.status == 422
