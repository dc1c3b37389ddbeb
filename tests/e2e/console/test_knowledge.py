"""The knowledge base page in a real browser (issue 15): an admin uploads a PDF, refreshes the
folder and follows the queued job on the page until it ends, finds the PDF with the search
box, and removes it; an out-of-scope question is shown as declined; a file that is not what
its name says gets a clear error (never a 500); a staff user's upload is refused (403)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from fpdf import FPDF
from playwright.async_api import Page, expect

from tests.e2e.console.conftest import add_user, sign_in
from tests.e2e.harness import Gateway


def make_pdf(text: str, *, title: str) -> bytes:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


async def open_knowledge(page: Page, gateway: Gateway, role: str) -> str:
    name = add_user(gateway, role)
    await sign_in(page, gateway, name)
    await page.goto(f"{gateway.url}/console/knowledge")
    await expect(page.locator("h1")).to_have_text("Basis pengetahuan")
    return name


async def search(page: Page, question: str) -> None:
    await page.fill("#kb-q", question)
    await page.click("form[role=search] button[type=submit]")
    await page.wait_for_load_state()


async def test_upload_refresh_search_and_remove(console_gateway: Gateway, page: Page) -> None:
    word = f"zorblet{secrets.token_hex(3)}"
    folder_word = f"quendrix{secrets.token_hex(3)}"
    folder_file = Path(console_gateway.env["KB_DIR"]) / f"{folder_word}.md"
    await open_knowledge(page, console_gateway, "admin")
    pdf = make_pdf(
        f"Permohonan banding {word} diajukan paling lambat empat belas hari setelah putusan "
        f"dibacakan. Biaya banding {word} dibayar di kepaniteraan pengadilan negeri.",
        title=f"Panduan {word}",
    )
    await page.set_input_files(
        "#kb-file",
        files=[{"name": f"{word}.pdf", "mimeType": "application/pdf", "buffer": pdf}],
    )
    await page.click("form.kb-upload button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/console/knowledge\?notice="))
    await expect(page.locator("p.notice")).to_contain_text("Dokumen ditambahkan")
    row = page.locator("#kb-live tr", has_text=f"Panduan {word}")
    await expect(row).to_contain_text("ready")

    # A new file in the folder, then a refresh on the job queue, followed on the page (htmx
    # asks every 2 s) until it ends: the folder's file shows up in the list without a reload.
    folder_file.write_text(f"# Jadwal {folder_word}\n\nSidang {folder_word} dimulai pukul 09.00.\n")
    try:
        await page.click("form.kb-refresh-form button[type=submit]")
        await expect(page).to_have_url(re.compile(r"/console/knowledge\?job=\d+"))
        await expect(page.locator(".kb-job")).to_be_visible()
        await expect(page.locator(".kb-job")).to_have_attribute(
            "data-state", "succeeded", timeout=20_000
        )
        await expect(page.locator("#kb-live")).to_contain_text(f"{folder_word}.md")

        await search(page, f"berapa lama batas waktu banding {word}?")
        results = page.locator("#kb-results")
        await expect(results).to_contain_text("Dijawab dari basis pengetahuan")
        first = results.locator("tbody tr").first
        await expect(first).to_contain_text(f"Panduan {word}")
        await expect(first).to_contain_text(f"{word}.pdf")
        assert re.fullmatch(r"\d\.\d{3}", (await first.locator("td").nth(2).inner_text()).strip())

        # Remove it: gone from the list, and the same question is now out of scope.
        await row.locator("button", has_text="Hapus").click()
        await expect(page.locator("p.notice")).to_contain_text("Dokumen dihapus")
        await expect(page.locator("#kb-live")).not_to_contain_text(f"Panduan {word}")
        await search(page, f"berapa lama batas waktu banding {word}?")
        await expect(page.locator("#kb-results")).to_contain_text("Di luar cakupan")
    finally:
        folder_file.unlink(missing_ok=True)
    actions = [r["action"] for r in console_gateway.api("/api/audit", limit=200)["items"]]
    assert {"kb.document_added", "kb.refresh_requested", "kb.document_removed"} <= set(actions)


async def test_a_broken_upload_gets_a_clear_error(console_gateway: Gateway, page: Page) -> None:
    await open_knowledge(page, console_gateway, "admin")
    before = await page.locator("#kb-live tbody tr").count()
    await page.set_input_files(
        "#kb-file",
        files=[{"name": "rusak.pdf", "mimeType": "application/pdf", "buffer": b"bukan PDF"}],
    )
    async with page.expect_response(re.compile(r"/console/knowledge/upload$")) as answer:
        await page.click("form.kb-upload button[type=submit]")
    assert (await answer.value).status == 422
    alert = page.locator("[role=alert]")
    await expect(alert).to_contain_text("Berkas tidak ditambahkan")
    await expect(alert).to_contain_text("rusak.pdf")
    # Still the knowledge page, nothing stored.
    await expect(page.locator("h1")).to_have_text("Basis pengetahuan")
    assert await page.locator("#kb-live tbody tr").count() == before


async def test_staff_may_search_but_not_upload(console_gateway: Gateway, page: Page) -> None:
    await open_knowledge(page, console_gateway, "staff")
    await expect(page.locator("form.kb-upload")).to_have_count(0)
    await expect(page.locator("form.kb-refresh-form")).to_have_count(0)
    await search(page, "pertanyaan tentang hal yang sama sekali tidak ada xyzzyq")
    await expect(page.locator("#kb-results")).to_contain_text("Di luar cakupan")
    # The form is not offered; posting it anyway (with a valid CSRF token) is refused.
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    response = await page.request.post(
        f"{console_gateway.url}/console/knowledge/upload",
        multipart={
            "csrf": csrf,
            "file": {"name": "a.md", "mimeType": "text/markdown", "buffer": b"# A\n\nteks\n"},
        },
    )
    assert response.status == 403
    assert "administer" in await response.text()
