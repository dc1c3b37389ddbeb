"""The knowledge base's readers and URL fetching (issue 13): each format read, each bad source
a clear error. Fixtures are made here (fpdf2, python-docx); web pages come from a real HTTP
server on loopback."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from wagate.domain.chunking import chunk_document
from wagate.knowledge import ocr
from wagate.knowledge.errors import SourceError
from wagate.knowledge.fetch import FetchLimits, fetch
from wagate.knowledge.readers import read, read_file


def make_pdf(*pages: str, title: str | None = None, password: str | None = None) -> bytes:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_docx(*, title_property: str | None = "Panduan Waris") -> bytes:
    document = docx.Document()
    if title_property is not None:
        document.core_properties.title = title_property
    document.add_heading("Panduan Waris", level=0)
    document.add_heading("Persyaratan", level=1)
    document.add_paragraph("Lampirkan akta kematian pewaris.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Dokumen"
    table.cell(0, 1).text = "Jumlah"
    table.cell(1, 0).text = "Kartu keluarga"
    table.cell(1, 1).text = "1 lembar"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_pdf_with_a_text_layer_is_read_with_its_title() -> None:
    data = make_pdf(
        "Pasal 1\nPerceraian hanya dapat dilakukan di depan sidang pengadilan.",
        "Pasal 2\nGugatan diajukan ke pengadilan agama.",
        title="Panduan Perceraian",
    )
    document = read("panduan.pdf", data)
    assert document.kind == "pdf"
    assert document.title == "Panduan Perceraian"
    assert "di depan sidang pengadilan" in document.text
    assert "Pasal 2" in document.text


def test_a_pdf_is_recognised_by_its_bytes_without_an_extension() -> None:
    data = make_pdf("Pasal 1\nIsi pasal yang cukup panjang untuk dianggap teks yang nyata.")
    assert read("download", data).kind == "pdf"


def test_broken_encrypted_and_empty_pdfs_give_clear_errors() -> None:
    with pytest.raises(SourceError, match=r"damaged|cannot be read"):
        read("rusak.pdf", b"%PDF-1.7\n this is not really a pdf \n%%EOF")
    with pytest.raises(SourceError, match="encrypted"):
        read("rahasia.pdf", make_pdf("Isi rahasia yang dilindungi kata sandi.", password="s3cret"))
    with pytest.raises(SourceError, match="empty"):
        read("kosong.pdf", b"")


def test_a_scan_without_ocr_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "_tesseract", lambda: None)  # as on a machine without it
    with pytest.raises(SourceError, match="tesseract-ocr-ind"):
        read("scan.pdf", make_pdf("", ""))
    with pytest.raises(SourceError, match="OCR is not available"):
        read("foto.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


@pytest.mark.skipif(not ocr.available(), reason="Tesseract with the Indonesian model is missing")
def test_a_scanned_pdf_is_read_by_ocr() -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1400, 300), 255)
    ImageDraw.Draw(image).text(
        (40, 100), "Perceraian di pengadilan agama", fill=0, font=ImageFont.load_default(size=60)
    )
    png = io.BytesIO()
    image.save(png, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png.getvalue()), x=10, y=10, w=190)
    document = read("scan.pdf", bytes(pdf.output()))
    assert document.kind == "ocr"
    assert "pengadilan" in document.text.lower()


def test_a_docx_keeps_its_headings_and_tables() -> None:
    document = read("waris.docx", make_docx())
    assert document.kind == "docx"
    assert document.title == "Panduan Waris"
    assert "## Persyaratan" in document.text
    assert "Lampirkan akta kematian pewaris." in document.text
    assert "| Kartu keluarga | 1 lembar |" in document.text.splitlines()  # a Markdown row
    with pytest.raises(SourceError, match="DOCX"):
        read("rusak.docx", b"PK\x03\x04 not a zip at all")


def test_markdown_text_and_html_are_read() -> None:
    markdown = read("a.md", b"---\nx: 1\n---\n# Judul\n\nLihat [tautan](http://x) **penting**.")
    assert markdown.title == "Judul"
    assert "Lihat tautan penting." in markdown.text
    assert "x: 1" not in markdown.text
    assert read("a.txt", "Biaya perkara Rp300.000".encode("cp1252")).kind == "text"
    with pytest.raises(SourceError, match="binary"):
        read("a.txt", b"\x00\x01\x02abc")


def test_html_main_text_leaves_out_menus_and_footers() -> None:
    page = b"""<html><head><title>Situs - Biaya</title><script>var x=1;</script></head><body>
    <header><a href="/">Beranda</a></header>
    <nav><ul><li><a href="/a">Tentang</a></li><li><a href="/b">Kontak</a></li></ul></nav>
    <div class="cookie-banner">Kami memakai cookie.</div>
    <main><h1>Biaya Layanan</h1><h2>Konsultasi</h2>
    <p>Konsultasi pertama tidak dipungut biaya. Konsultasi lanjutan Rp150.000 per jam.</p>
    <ul><li>Datang dengan janji temu lewat WhatsApp kantor kami.</li></ul></main>
    <aside>Berita terbaru</aside><footer>Hak cipta 2026</footer></body></html>"""
    document = read("biaya.html", page)
    assert document.kind == "html"
    assert document.title == "Biaya Layanan"
    assert "## Konsultasi" in document.text
    assert "Konsultasi pertama tidak dipungut biaya." in document.text
    for boilerplate in ("Beranda", "Tentang", "cookie", "Berita", "Hak cipta", "var x"):
        assert boilerplate not in document.text


def test_unsupported_and_oversized_files_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"unsupported file type '\.exe'"):
        read("setup.exe", b"MZ....")
    big = tmp_path / "besar.txt"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)  # sparse: 3 MB that costs nothing
    with pytest.raises(SourceError, match=r"over the 1\.0 MB limit"):
        read_file(big, max_bytes=1024 * 1024)
    with pytest.raises(SourceError, match="cannot read"):
        read_file(tmp_path / "missing.md")


# --- web pages, over loopback ---------------------------------------------------------


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/page":
            body = b"<html><body><main><h1>Waris</h1><p>" + b"Isi halaman. " * 30
            body += b"</p></main></body></html>"
            self._send(200, body, "text/html; charset=utf-8")
        elif self.path == "/moved":
            self._redirect("/page")
        elif self.path.startswith("/loop"):
            self._redirect("/loop" + str(len(self.path)))
        elif self.path == "/slow":
            threading.Event().wait(3)
            self._send(200, b"late", "text/plain")
        elif self.path == "/huge":
            self._send(200, b"x" * 300_000, "text/plain")
        else:
            self._send(404, b"no", "text/plain")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_page_is_fetched_after_a_redirect(site: str) -> None:
    fetched = await fetch(f"{site}/moved")
    assert fetched.url == f"{site}/page"
    assert fetched.name == "page.html"
    assert read(fetched.name, fetched.data).title == "Waris"


async def test_fetch_limits_end_in_clear_errors(site: str) -> None:
    with pytest.raises(SourceError, match="redirects more than 3 times"):
        await fetch(f"{site}/loop", limits=FetchLimits(max_redirects=3))
    with pytest.raises(SourceError, match=r"did not answer within 0\.5 s"):
        await fetch(f"{site}/slow", limits=FetchLimits(seconds=0.5))
    with pytest.raises(SourceError, match="over the"):
        await fetch(f"{site}/huge", limits=FetchLimits(max_bytes=100_000))
    with pytest.raises(SourceError, match="HTTP 404"):
        await fetch(f"{site}/nothing")
    with pytest.raises(SourceError, match="not a web address"):
        await fetch("file:///etc/passwd")
    with pytest.raises(SourceError, match="could not be fetched"):
        await fetch("http://127.0.0.1:9/")  # the discard port: nothing listens


def test_a_docx_without_a_title_property_is_named_by_its_title_paragraph() -> None:
    document = read("waris.docx", make_docx(title_property=None))
    assert document.title == "Panduan Waris"


def make_styled_pdf(blocks: list[tuple[str, str]], *, title: str | None = None) -> bytes:
    """A PDF whose headings are set only in type: ("h1" | "h2" | "bold" | "body", text)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.add_page()
    styles = {"h1": ("B", 16), "h2": ("B", 13), "bold": ("B", 11), "body": ("", 11)}
    for style, text in blocks:
        pdf.set_font("helvetica", style=styles[style][0], size=styles[style][1])
        pdf.multi_cell(0, 7, text)
        pdf.ln(2)
    return bytes(pdf.output())


def test_pdf_headings_set_only_in_larger_or_bold_type_become_sections() -> None:
    """Plain-worded headings ("Hukum Waris yang Dipakai") carry no number or "Pasal": the PDF
    shows them by type alone, and the chunks keep them as their sections."""
    body = "Keluarga Muslim memakai hukum waris Islam; sengketanya diadili Pengadilan Agama. " * 3
    data = make_styled_pdf(
        [
            ("h1", "Panduan Warisan dan Surat Keterangan Ahli Waris bagi Keluarga di Kota Mataram"),
            ("body", "Panduan ini menerangkan pembagian warisan. " * 2),
            ("h2", "Hukum Waris yang Dipakai"),
            ("body", body),
            ("h2", "Surat Keterangan Ahli Waris"),
            ("body", "Surat ini membuktikan siapa ahli waris."),
            ("bold", "Lewat Kelurahan atau Desa"),
            ("body", "Bawa akta kematian, kartu keluarga dan KTP para ahli waris."),
            ("h2", "Pasal 3"),
            ("body", "Hibah kepada anak dapat diperhitungkan sebagai warisan."),
        ],
        title="Panduan Warisan dan Surat Keterangan Ahli Waris bagi Keluarga di Kota Mataram",
    )
    document = read("waris.pdf", data)
    assert "## Hukum Waris yang Dipakai" in document.text.splitlines()
    assert "### Lewat Kelurahan atau Desa" in document.text.splitlines()
    # "Pasal 3" is the chunker's to place by its words (its level keeps the legal order).
    assert "Pasal 3" in document.text.splitlines()
    sections = [c.section for c in chunk_document(document.text, title=document.title or "")]
    assert sections == [
        "",
        "Hukum Waris yang Dipakai",
        "Surat Keterangan Ahli Waris",
        "Surat Keterangan Ahli Waris › Lewat Kelurahan atau Desa",
        "Pasal 3",
    ]


def test_bold_words_that_head_nothing_stay_text() -> None:
    """A bold table header, a bold line inside a list of bold lines, a bold sentence: not
    headings."""
    data = make_styled_pdf(
        [
            ("body", "Panduan biaya perkara bagi klien kantor kami di Lombok Tengah. " * 2),
            ("bold", "Catatan penting: biaya dapat berubah."),
            ("body", "Biaya dibayar di kasir pengadilan."),
            ("bold", "Jenis perkara"),
            ("bold", "Panjar biaya"),
            ("body", "Cerai gugat Rp500.000"),
        ]
    )
    text = read("biaya.pdf", data).text
    assert not [line for line in text.splitlines() if line.startswith("#")]


def test_large_paragraphs_running_headers_and_watermarks_are_no_headings() -> None:
    """Found in review: an introduction set larger than the body kept only its last line as
    text; a bold page header became a section on every page; a rotated watermark too."""
    pdf = FPDF()
    intro = (
        "Panduan ini disusun untuk pekerja yang diberhentikan oleh perusahaan tempat mereka "
        "bekerja bertahun-tahun dan ingin mengetahui hak pesangon menurut peraturan yang "
        "berlaku sekarang di Indonesia."
    )
    for number, (heading, body) in enumerate(
        [("Uang Pesangon", "Pesangon dihitung dari masa kerja. " * 12), ("Upah Lembur", "x")]
    ):
        pdf.add_page()
        pdf.set_font("helvetica", style="B", size=16)
        pdf.cell(0, 10, "LBH Gumi Paer - Panduan Hak Pekerja", new_x="LMARGIN", new_y="NEXT")
        with pdf.rotation(45, x=100, y=150):
            pdf.set_font("helvetica", size=48)
            pdf.text(40, 150, "SALINAN")
        if number == 0:
            pdf.set_font("helvetica", size=14)
            pdf.multi_cell(0, 7, intro, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", style="B", size=13)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        text = body if body != "x" else "Lembur dibayar 1,5 kali upah sejam."
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    text = read("phk.pdf", bytes(pdf.output())).text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["## Uang Pesangon", "## Upah Lembur"]
    assert "berlaku sekarang di Indonesia." in " ".join(text.split())
    assert "Panduan ini disusun untuk pekerja" in " ".join(text.split())


def test_a_bold_phrase_inside_a_paragraph_is_no_heading() -> None:
    data = make_styled_pdf(
        [
            ("body", "Menurut ketentuan yang diatur dalam undang-undang, pekerja berhak atas"),
            ("bold", "Undang-Undang Nomor 13 Tahun 2003 tentang Ketenagakerjaan"),
            ("body", "yang mengatur uang pesangon dan uang penghargaan masa kerja."),
        ]
    )
    assert not [ln for ln in read("a.pdf", data).text.splitlines() if ln.startswith("#")]


def test_repeated_subheadings_numbered_page_headers_and_bold_first_lines() -> None:
    """The second review: "Syarat" under each topic on its own page is a heading each time; a
    header with the page number is not; a paragraph whose first line is bold is text; the
    title set again small atop page 2 stays the title (no title property here)."""
    pdf = FPDF()
    body = "Permohonan diajukan ke pengadilan di tempat tinggal pemohon dengan berkas lengkap. "
    for page, topic in enumerate(["Isbat Nikah", "Hak Asuh Anak"], start=1):
        pdf.add_page()
        pdf.set_font("helvetica", size=8)
        header = "Panduan Keluarga LBH Gumi Paer" if page > 1 else ""
        pdf.cell(0, 5, f"{header} Halaman {page}", new_x="LMARGIN", new_y="NEXT")
        if page == 1:
            pdf.set_font("helvetica", style="B", size=18)
            pdf.multi_cell(0, 9, "Panduan Keluarga LBH Gumi Paer", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", style="B", size=14)
        pdf.multi_cell(0, 8, topic, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, body * 3, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", style="B", size=11)
        pdf.multi_cell(0, 6, "Syarat", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, body * 2, new_x="LMARGIN", new_y="NEXT")
        # A paragraph whose first line is bold: a full line, not a heading.
        pdf.set_font("helvetica", style="B", size=11)
        pdf.multi_cell(
            0,
            6,
            "Perlu diingat bahwa berkas yang tidak lengkap akan dikembalikan oleh petugas",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, "pengadilan tanpa diperiksa. " + body, new_x="LMARGIN", new_y="NEXT")
    document = read("keluarga.pdf", bytes(pdf.output()))
    headings = [line for line in document.text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Panduan Keluarga LBH Gumi Paer",
        "## Isbat Nikah",
        "### Syarat",
        "## Hak Asuh Anak",
        "### Syarat",
    ]
    assert document.title == "Panduan Keluarga LBH Gumi Paer"


def test_numbered_headings_atop_each_page_are_no_running_header() -> None:
    """The third review: "Langkah 1", "Langkah 2" set large atop their pages differ only by
    a number, as "Halaman 1", "Halaman 2" do; only the small one is a running line."""
    pdf = FPDF()
    for step in (1, 2, 3):
        pdf.add_page()
        pdf.set_font("helvetica", style="B", size=15)
        pdf.multi_cell(0, 8, f"Langkah {step}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(
            0, 6, "Datang ke kantor dengan membawa berkas. " * 4, new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("helvetica", size=8)
        pdf.multi_cell(0, 5, f"Halaman {step}", new_x="LMARGIN", new_y="NEXT")
    text = read("langkah.pdf", bytes(pdf.output())).text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["## Langkah 1", "## Langkah 2", "## Langkah 3"]
