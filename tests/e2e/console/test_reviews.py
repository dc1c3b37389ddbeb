"""The lawyer's review queue in a real browser: a yellow question's draft appears in the open
page without a reload, is edited and approved (the edit goes out once), or rejected with a
reason (the rejection text goes out, also without JavaScript); a viewer reads the queue but
is refused any decision."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.console.drafts import eventually, pending_draft, say, texts_to, yellow_draft
from tests.e2e.harness import FakePeer, Gateway, tag
from wagate.domain.review import DEFAULT_ACK_TEXT, DEFAULT_REJECT_TEXT


async def test_a_new_draft_appears_live_and_the_edited_answer_goes_out_once(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    lawyer = add_user(console_gateway, "lawyer")
    await sign_in(page, console_gateway, lawyer)
    await page.goto(f"{console_gateway.url}/console/reviews")
    await expect(page.locator("h1")).to_have_text("Antrean tinjauan")
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))

    say(console_gateway, sender, f"kasus cerai saya {tag(sender)}, bagaimana?")
    draft = page.locator("article.review", has_text=tag(sender))
    await expect(draft).to_be_visible(timeout=30_000)  # the list's 5 s refresh brought it
    assert loads == []  # no reload, no navigation
    await expect(draft.locator(".review-question")).to_contain_text(tag(sender))
    await expect(draft.locator(".review-draft")).to_contain_text("ECHO")
    await expect(draft.locator(".badge.yellow").first).to_be_visible()
    await expect(draft).to_contain_text("UTC")  # the deadline

    edited = f"Jawaban yang sudah ditinjau {tag(sender)}."
    await draft.locator("textarea[name=text]").fill(edited)
    await draft.locator("button[name=mode][value=edited]").click()
    await expect(page).to_have_url(re.compile(r"/console/reviews\?notice="))
    await expect(page.locator("main .notice").first).to_contain_text("Disetujui")
    await expect(page.locator("article.review", has_text=tag(sender))).to_have_count(0)

    final = f"{edited}\n\n[bukan nasihat hukum]"
    await eventually(lambda: final in texts_to(fake_meta, sender))
    conversation = console_gateway.conversation_for(sender)
    assert conversation is not None
    [sent] = await eventually(
        lambda: [
            d
            for d in console_gateway.api("/api/reviews", status="sent")["items"]
            if d["conversation"] == conversation["id"]
        ]
    )
    assert sent["decidedBy"] == f"user:{lawyer}:console" and sent["edited"] is True
    assert texts_to(fake_meta, sender) == [DEFAULT_ACK_TEXT, final]  # the edit, exactly once


async def test_a_rejection_with_a_reason_works_without_javascript(
    console_gateway: Gateway, fake_meta: FakePeer, browser: Browser, sender: str
) -> None:
    lawyer = add_user(console_gateway, "lawyer")
    made = await yellow_draft(console_gateway, sender)
    context = await browser.new_context(locale="id-ID", java_script_enabled=False)
    try:
        page = await context.new_page()
        page.set_default_timeout(15_000)
        await sign_in(page, console_gateway, lawyer)
        await page.goto(f"{console_gateway.url}/console/reviews")
        draft = page.locator(f"#draft-{made['id']}")
        await expect(draft).to_contain_text(tag(sender))
        await draft.locator("input[name=reason]").fill("perlu konsultasi tatap muka")
        await draft.locator("form[action$='/reject'] button[type=submit]").click()
        await expect(page.locator("main .notice").first).to_contain_text("Ditolak")
    finally:
        await context.close()
    await eventually(lambda: DEFAULT_REJECT_TEXT in texts_to(fake_meta, sender))
    shown = console_gateway.api(f"/api/reviews/{made['id']}")
    assert shown["status"] == "rejected" and shown["rejectReason"] == "perlu konsultasi tatap muka"
    assert shown["decidedBy"] == f"user:{lawyer}:console"
    assert not any("ECHO" in t for t in texts_to(fake_meta, sender))


async def test_a_viewer_sees_the_queue_but_may_not_decide(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    viewer = add_user(console_gateway, "viewer")
    made = await yellow_draft(console_gateway, sender)
    await sign_in(page, console_gateway, viewer)
    await page.goto(f"{console_gateway.url}/console/reviews")
    draft = page.locator(f"#draft-{made['id']}")
    await expect(draft).to_contain_text(tag(sender))
    await expect(draft.locator("textarea, form")).to_have_count(0)  # no controls at all
    csrf = await page.locator("header .me input[name=csrf]").get_attribute("value")
    assert csrf
    for action, fields in (
        ("approve", {"mode": "edited", "text": "jawaban pengamat"}),
        ("reject", {"reason": "bukan wewenang"}),
        ("take", {}),
    ):
        response = await page.request.post(
            f"{console_gateway.url}/console/reviews/{made['id']}/{action}",
            form={"csrf": csrf, **fields},
        )
        assert response.status == 403, action
    # Still waiting, and nothing but the acknowledgement went to the person.
    assert pending_draft(console_gateway, sender) is not None
    await eventually(lambda: texts_to(fake_meta, sender))
    assert texts_to(fake_meta, sender) == [DEFAULT_ACK_TEXT]
