"""The Conversations pages in a real browser (issue 15): a WhatsApp message sent to the real
gateway shows in the list and its thread, the search finds it, the thread refreshes itself,
a staff member takes over, replies (delivered once at the fake Graph API) and releases, a
viewer has no controls and is refused, and only an admin may reveal the placeholders."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, tag, wait_until
from wagate.fakes.payloads import meta_text


def _say(gateway: Gateway, sender: str, text: str, *, name: str = "Pengguna Uji") -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text, name=name)
    assert gateway.post_meta(payload).status_code == 200


def _conversation_id(gateway: Gateway, sender: str) -> int:
    found: dict[str, Any] = wait_until(lambda: gateway.conversation_for(sender))
    return int(found["id"])


def _audit(gateway: Gateway, action: str, subject: str) -> list[dict[str, Any]]:
    items = gateway.api("/api/audit", limit=500)["items"]
    return [e for e in items if e["action"] == action and e["subject"] == subject]


async def _csrf(page: Page) -> str:
    token = await page.locator("header .me input[name=csrf]").get_attribute("value")
    assert token
    return token


async def test_a_message_shows_in_the_list_and_thread_and_the_search_finds_it(
    console_gateway: Gateway, page: Page, sender: str
) -> None:
    marker = tag(sender)
    _say(console_gateway, sender, f"jam buka kantor {marker}?", name=f"Sari {marker}")
    conversation = _conversation_id(console_gateway, sender)
    await sign_in(page, console_gateway, add_user(console_gateway, "staff"))
    await page.goto(f"{console_gateway.url}/console/conversations")
    row = page.locator("table.conv-list tbody tr", has_text=marker)
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(sender)

    # A name fragment: the recent profiles are opened and matched.
    await page.fill("#conversation-search", marker.upper())
    await page.click("form[role=search] button[type=submit]")
    await expect(page.locator("table.conv-list tbody tr")).to_have_count(1)
    await expect(page.locator("table.conv-list tbody tr")).to_contain_text(marker)
    # The whole number in its local form: found by the blind index, among all conversations.
    await page.fill("#conversation-search", "0" + sender[2:])
    await page.click("form[role=search] button[type=submit]")
    await expect(page.locator("table.conv-list tbody tr")).to_have_count(1)
    await expect(page.locator("main")).to_contain_text("nomor telepon lengkap")
    # A fragment of digits matches too; nothing matches a word nobody wrote.
    await page.fill("#conversation-search", sender[-7:])
    await page.click("form[role=search] button[type=submit]")
    await expect(page.locator("table.conv-list tbody tr", has_text=marker)).to_have_count(1)
    await page.goto(f"{console_gateway.url}/console/conversations?q=tidak-ada-{marker}")
    await expect(page.locator("main")).to_contain_text("Tidak ada percakapan yang cocok")

    await page.goto(f"{console_gateway.url}/console/conversations?q={marker}")
    await page.click(f"table.conv-list a[href='/console/conversations/{conversation}']")
    await expect(page).to_have_url(re.compile(rf"/console/conversations/{conversation}$"))
    await expect(page.locator("h1")).to_contain_text(f"Sari {marker}")
    await expect(page.locator(".bubble.in")).to_contain_text(f"jam buka kantor {marker}?")
    # The AI's answer, with its delivery status, arrives in the open page without a reload.
    await expect(page.locator(".bubble.out", has_text="ECHO")).to_have_count(1, timeout=20_000)
    # Beside the answer: what the AI received for that run, its zone and sources.
    await page.reload()
    # The marker is a word of the contact's name, so the AI got it masked.
    run = page.locator(".conv-run", has_text="jam buka kantor [NAMA_1]?")
    await expect(run).to_have_count(1)
    await expect(run).to_contain_text("hijau")
    await expect(run).not_to_contain_text(marker)
    answer = page.locator(".bubble.out", has_text="ECHO")
    await answer.locator("a", has_text="Yang diterima AI").click()
    await expect(page).to_have_url(re.compile(r"#run-run:"))
    # A second message appears by the 5-second refresh (htmx), still without a reload.
    page_url = page.url
    _say(console_gateway, sender, f"satu lagi {marker}", name=f"Sari {marker}")
    await expect(page.locator(".bubble.in", has_text="satu lagi")).to_have_count(1, timeout=15_000)
    assert page.url == page_url
    html = await page.content()
    assert len(html.encode()) < 100_000 and "<script>" not in html and " style=" not in html
    await expect(page.locator("#messages")).to_have_attribute("hx-trigger", "every 5s")
    # Nothing of the thread is kept in the browser's storage for the back button: htmx's
    # history cache is off (a shared office computer keeps no copy of a client's messages).
    await page.go_back()
    stored = await page.evaluate(
        "() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])"
    )
    assert "htmx-history-cache" not in stored and marker not in stored, stored[:500]


async def test_take_over_reply_once_and_release(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    marker = tag(sender)
    _say(console_gateway, sender, f"halo {marker}")
    conversation = _conversation_id(console_gateway, sender)
    name = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, name)
    await page.goto(f"{console_gateway.url}/console/conversations/{conversation}")
    await page.click("form[action$='/take'] button")
    await expect(page.locator("[role=status]")).to_contain_text("Anda pegang")
    await expect(page.locator(".conv-state")).to_contain_text(f"user:{name}:console")

    reply = f"Ini balasan manusia {marker}."
    await page.fill("#reply-text", reply)
    await page.click("form[action$='/reply'] button")
    await expect(page.locator("[role=status]")).to_contain_text("antrean")
    assert wait_until(lambda: reply in fake_meta.texts_to(sender), timeout=20)
    await expect(page.locator(".bubble.out", has_text=reply)).to_have_count(1)
    # The same form sent again (a double click, a resubmit) queues nothing new.
    token = await _csrf(page)
    key = "ulang-" + marker
    for _ in range(2):
        response = await page.request.post(
            f"{console_gateway.url}/console/conversations/{conversation}/reply",
            form={"csrf": token, "key": key, "text": f"sekali saja {marker}"},
        )
        assert response.status == 200  # the redirect to the thread, followed
    assert wait_until(lambda: f"sekali saja {marker}" in fake_meta.texts_to(sender))
    wait_until(
        lambda: (
            len(_audit(console_gateway, "conversation.replied", f"conversation:{conversation}"))
            == 3
        )
    )
    assert fake_meta.texts_to(sender).count(reply) == 1
    assert fake_meta.texts_to(sender).count(f"sekali saja {marker}") == 1

    await page.click("form[action$='/release'] button")
    await expect(page.locator("[role=status]")).to_contain_text("AI kembali menjawab")
    await expect(page.locator(".conv-state")).not_to_contain_text("Diambil alih")
    subject = f"conversation:{conversation}"
    for action in ("conversation.taken", "conversation.released"):
        [event] = _audit(console_gateway, action, subject)
        assert event["actor"] == f"user:{name}:console"


async def test_a_viewer_sees_no_controls_and_is_refused(
    console_gateway: Gateway, page: Page, sender: str
) -> None:
    _say(console_gateway, sender, f"halo {tag(sender)}")
    conversation = _conversation_id(console_gateway, sender)
    await sign_in(page, console_gateway, add_user(console_gateway, "viewer"))
    url = f"{console_gateway.url}/console/conversations/{conversation}"
    await page.goto(url)
    await expect(page.locator(".bubble.in")).to_contain_text(tag(sender))
    for form in ("take", "release", "reply", "reveal"):
        await expect(page.locator(f"form[action$='/{form}']")).to_have_count(0)
    token = await _csrf(page)
    for form in ("take", "reply", "reveal"):
        response = await page.request.post(
            f"{url}/{form}", form={"csrf": token, "text": "tidak boleh"}
        )
        assert response.status == 403, form
    assert _audit(console_gateway, "conversation.taken", f"conversation:{conversation}") == []


async def test_an_admin_reveals_the_placeholders_audited_and_staff_may_not(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    marker = tag(sender)
    _say(
        console_gateway,
        sender,
        f"jam buka kantor? saya Budi Santoso {marker}",
        name="Budi Santoso",
    )
    conversation = _conversation_id(console_gateway, sender)
    wait_until(lambda: fake_meta.texts_to(sender), timeout=30)  # the run masked it
    url = f"{console_gateway.url}/console/conversations/{conversation}"
    subject = f"conversation:{conversation}"

    await sign_in(page, console_gateway, add_user(console_gateway, "staff"))
    await page.goto(url)
    await expect(page.locator("form[action$='/reveal']")).to_have_count(0)
    response = await page.request.post(f"{url}/reveal", form={"csrf": await _csrf(page)})
    assert response.status == 403
    assert _audit(console_gateway, "conversation.revealed", subject) == []

    await page.context.clear_cookies()
    admin = add_user(console_gateway, "admin")
    await sign_in(page, console_gateway, admin)
    await page.goto(url)
    await page.click("form[action$='/reveal'] button")
    table = page.locator(".conv-revealed table")
    await expect(table).to_contain_text("[NAMA_1]")
    await expect(table).to_contain_text("Budi Santoso")
    # What the AI received stays masked: the name is a placeholder there.
    run = page.locator(".conv-run", has_text=marker)
    await expect(run.locator("pre").first).to_contain_text("[NAMA_1]")
    await expect(run.locator("pre").first).not_to_contain_text("Budi")
    [event] = _audit(console_gateway, "conversation.revealed", subject)
    assert event["actor"] == f"user:{admin}:console"
    assert "Budi" not in str(event) and event["details"]["placeholders"] >= 1


async def test_the_filters_find_reviews_holds_and_opt_outs_and_a_reply_to_an_opt_out_is_refused(
    console_gateway: Gateway, fake_meta: FakePeer, page: Page, sender: str
) -> None:
    marker = tag(sender)
    _say(console_gateway, sender, f"kasus cerai saya {marker}, bagaimana?")  # yellow: a draft
    conversation = _conversation_id(console_gateway, sender)
    wait_until(
        lambda: any(
            d["conversation"] == conversation
            for d in console_gateway.api("/api/reviews", status="pending")["items"]
        ),
        timeout=30,
    )
    name = add_user(console_gateway, "staff")
    await sign_in(page, console_gateway, name)
    base = f"{console_gateway.url}/console/conversations"
    row = page.locator(f"tr:has(a[href='/console/conversations/{conversation}'])")
    await page.goto(f"{base}?filter=review")
    await expect(row).to_contain_text("Menunggu tinjauan")
    await page.goto(f"{base}?filter=held")
    await expect(row).to_have_count(0)

    await page.goto(f"{base}/{conversation}")
    await page.click("form[action$='/take'] button")
    await page.goto(f"{base}?filter=held&filter=review")
    await expect(row).to_contain_text("Diambil alih")
    await page.goto(f"{base}?filter=opted_out")
    await expect(row).to_have_count(0)

    _say(console_gateway, sender, "BERHENTI")
    for _ in range(100):  # the run records the opt-out: the list shows it on a later load
        await page.goto(f"{base}?filter=opted_out")
        if await row.count():
            break
        await page.wait_for_timeout(200)
    await expect(row).to_contain_text("Berhenti berlangganan")
    await page.goto(f"{base}/{conversation}")
    await expect(page.locator(".conv-state")).to_contain_text("BERHENTI")
    await page.fill("#reply-text", f"masih di sini {marker}")
    await page.click("form[action$='/reply'] button")
    await expect(page.locator("[role=alert]")).to_contain_text("opted out")
    await expect(page.locator("h1")).to_contain_text("409")
    assert all(f"masih di sini {marker}" not in t for t in fake_meta.texts_to(sender))
    [refused] = _audit(
        console_gateway, "operator.refused_opted_out", f"conversation:{conversation}"
    )
    assert refused["actor"] == f"user:{name}:console" and sender not in str(refused)
