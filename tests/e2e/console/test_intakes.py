"""Case intakes in a real browser (FL1, issue 16): a registration sent through the WhatsApp
Flow is listed, opened with its answers and documents, and marked reviewed by a lawyer; a
viewer may read but not review; a reply that could not be read shows as it came; the pages
pass axe and work without JavaScript."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.console.drafts import eventually
from tests.e2e.console.quality import MAX_PAGE_BYTES, blocking_violations
from tests.e2e.harness import PHONE_NUMBER_ID, Gateway
from wagate.fakes.payloads import meta_flow_completion

NIK = "3171011203850001"


def registration(name: str) -> str:
    return json.dumps(
        {
            "flow_token": "wagate-intake-console",
            "full_name": name,
            "nik": NIK,
            "phone": "081200000001",
            "case_type": "ketenagakerjaan",
            "story": "Saya di-PHK tanpa pesangon.\nSudah bekerja 7 tahun.",
            "documents": [
                {"id": "5501", "file_name": "surat-phk.pdf", "mime_type": "application/pdf"}
            ],
            "privacy_consent": True,
        }
    )


async def submitted(gateway: Gateway, sender: str, response_json: str) -> dict[str, Any]:
    payload = meta_flow_completion(
        phone_number_id=PHONE_NUMBER_ID, sender=sender, response_json=response_json
    )
    assert gateway.post_meta(payload).status_code == 200

    def mine() -> dict[str, Any] | None:
        conversation = gateway.conversation_for(sender)
        if conversation is None:
            return None
        items = gateway.api("/api/intakes", limit=1000)["items"]
        return next((i for i in items if i["conversation"] == conversation["id"]), None)

    found: dict[str, Any] = await eventually(mine)
    return found


async def test_a_lawyer_opens_an_intake_and_marks_it_reviewed(
    console_gateway: Gateway, page: Page, sender: str
) -> None:
    intake = await submitted(console_gateway, sender, registration("Rina Wulandari"))
    ref = intake["id"]
    lawyer = add_user(console_gateway, "lawyer")
    await sign_in(page, console_gateway, lawyer)
    await expect(page.locator("header nav a[href='/console/intakes']")).to_have_text(
        "Pendaftaran perkara"
    )
    await page.goto(f"{console_gateway.url}/console/intakes")
    row = page.locator("table.intakes tr", has=page.locator(f"a[href='/console/intakes/{ref}']"))
    await expect(row).to_contain_text("Rina Wulandari")
    await expect(row).to_contain_text("Ketenagakerjaan")
    await expect(row).to_contain_text("Menunggu advokat")
    assert await blocking_violations(page) == []

    await row.locator("a").click()
    await expect(page.locator("h1")).to_have_text(f"Pendaftaran perkara #{ref}")
    answers = page.locator("table.intake-answers")
    await expect(answers.locator("tr", has_text="NIK")).to_contain_text(NIK)
    await expect(answers.locator("tr", has_text="Nama lengkap")).to_contain_text("Rina Wulandari")
    await expect(answers.locator("tr", has_text="Cerita singkat")).to_contain_text("7 tahun")
    await expect(answers.locator("tr", has_text="Menyetujui")).to_contain_text("ya")
    await expect(page.locator(".intake-documents")).to_contain_text("surat-phk.pdf")
    await expect(page.locator("a[href^='/console/conversations/']")).to_be_visible()
    assert await blocking_violations(page) == []

    await page.click(f"form[action='/console/intakes/{ref}/review'] button[type=submit]")
    await expect(page).to_have_url(re.compile(rf"/console/intakes/{ref}\?notice="))
    await expect(page.locator("main .notice").first).to_contain_text("Ditandai sudah ditinjau")
    await expect(page.locator("table.intake-facts")).to_contain_text(f"user:{lawyer}:console")
    await expect(page.locator(f"form[action='/console/intakes/{ref}/review']")).to_have_count(0)

    await page.goto(f"{console_gateway.url}/console/intakes")
    await expect(page.locator(f"a[href='/console/intakes/{ref}']")).to_have_count(0)
    await page.goto(f"{console_gateway.url}/console/intakes?status=reviewed")
    await expect(page.locator(f"a[href='/console/intakes/{ref}']")).to_have_count(1)

    actions = {
        (e["action"], e["actor"])
        for e in console_gateway.api("/api/audit", limit=1000)["items"]
        if e["subject"] == f"case_intake:{ref}"
    }
    assert {
        ("case_intake.viewed", f"user:{lawyer}:console"),
        ("case_intake.reviewed", f"user:{lawyer}:console"),
        ("case_intake.created", "worker"),
    } <= actions


async def test_a_viewer_reads_an_intake_but_may_not_review_or_send(
    console_gateway: Gateway, page: Page, sender: str
) -> None:
    intake = await submitted(console_gateway, sender, registration("Agus Salim"))
    await sign_in(page, console_gateway, add_user(console_gateway, "viewer"))
    await page.goto(f"{console_gateway.url}/console/intakes")
    await expect(page.locator("details.intake-send")).to_have_count(0)
    await page.goto(f"{console_gateway.url}/console/intakes/{intake['id']}")
    await expect(page.locator("table.intake-answers")).to_contain_text("Agus Salim")
    await expect(page.locator("form[action$='/review']")).to_have_count(0)
    await expect(page.locator("main")).to_contain_text("hanya untuk advokat dan administrator")


async def test_staff_are_told_when_no_flow_is_configured(
    console_gateway: Gateway, page: Page
) -> None:
    await sign_in(page, console_gateway, add_user(console_gateway, "staff"))
    await page.goto(f"{console_gateway.url}/console/intakes")
    await page.click("details.intake-send summary")
    await expect(page.locator("details.intake-send")).to_contain_text("INTAKE_FLOW_ID")
    await expect(page.locator("form[action='/console/intakes/send']")).to_have_count(0)


async def test_a_reply_that_could_not_be_read_is_shown_as_it_came(
    console_gateway: Gateway, page: Page, sender: str
) -> None:
    intake = await submitted(console_gateway, sender, '{"full_name": "Dewi", oops')
    await sign_in(page, console_gateway, add_user(console_gateway, "lawyer"))
    await page.goto(f"{console_gateway.url}/console/intakes")
    row = page.locator(
        "table.intakes tr", has=page.locator(f"a[href='/console/intakes/{intake['id']}']")
    )
    await expect(row).to_contain_text("Belum lengkap")
    await row.locator("a").click()
    await expect(page.locator("table.intake-facts")).to_contain_text("not_json")
    await expect(page.locator("pre.intake-response")).to_have_text('{"full_name": "Dewi", oops')
    assert await blocking_violations(page) == []


async def test_the_intake_pages_work_without_javascript_and_stay_small(
    console_gateway: Gateway, browser: Browser, sender: str
) -> None:
    intake = await submitted(console_gateway, sender, registration("Tanpa Skrip"))
    context = await browser.new_context(locale="id-ID", java_script_enabled=False)
    try:
        page = await context.new_page()
        page.set_default_timeout(15_000)
        await sign_in(page, console_gateway, add_user(console_gateway, "lawyer"))
        for path in ("/console/intakes", f"/console/intakes/{intake['id']}"):
            response = await page.goto(f"{console_gateway.url}{path}")
            assert response is not None and response.status == 200
            assert len(await response.body()) < MAX_PAGE_BYTES
            html = await response.text()
            assert "<script>" not in html and " style=" not in html  # no inline script/style
        await page.click(f"form[action='/console/intakes/{intake['id']}/review'] button")
        await expect(page.locator("main .notice").first).to_contain_text("Ditandai")
    finally:
        await context.close()
