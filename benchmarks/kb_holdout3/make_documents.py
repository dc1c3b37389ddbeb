"""Renders the hold-out corpus's PDF and DOCX documents from their text in sources/.

Same conventions as benchmarks/kb_data/make_documents.py, so both corpora look alike to the
ingest code: the text in sources/ is the source of truth, the rendered files are committed.

    .venv/bin/pip install fpdf2 python-docx      # generator only, not a wagate dependency
    .venv/bin/python benchmarks/kb_holdout3/make_documents.py

Source markup, one line per block: "# " title, "## " chapter, "### " article or sub-heading,
"- " bullet, anything else a paragraph. PDF sources must stay within Latin-1 (core font); the
script fails on any other character instead of printing a blank. Output is deterministic (fixed
dates), so re-running without a source change gives byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
DOCUMENTS = HERE / "documents"
TARGETS = {
    "cerai_muslim_dan_non_muslim.txt": "pdf",
    "rumah_sewa_penggusuran_dan_girik.txt": "pdf",
    "hak_pekerja_upah_pkwt_bpjs.txt": "docx",
    "dipanggil_polisi_penahanan_dan_bantuan_hukum.txt": "docx",
}
AUTHOR = "Posbakum Cahaya Adil"
FIXED_DATE = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
PREFIXES = (("### ", "h3"), ("## ", "h2"), ("# ", "title"), ("- ", "bullet"))


def blocks(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for every non-empty line of a source."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        for prefix, kind in PREFIXES:
            if line.startswith(prefix):
                yield kind, line[len(prefix) :]
                break
        else:
            yield "para", line


def render_pdf(source: Path, target: Path) -> None:
    from fpdf import FPDF

    text = source.read_text(encoding="utf-8")
    text.encode("latin-1")  # names the offending character rather than rendering a blank
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_author(AUTHOR)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    # (font style, size, line height, space after) per block kind
    looks = {
        "title": ("B", 14, 7.5, 4),
        "h2": ("B", 12, 6.5, 1),
        "h3": ("B", 11, 6, 1),
        "bullet": ("", 10.5, 5.5, 0),
        "para": ("", 10.5, 5.5, 2),
    }
    for kind, content in blocks(text):
        style, size, height, after = looks[kind]
        if kind == "title":
            pdf.set_title(content)
        if kind in ("h2", "h3"):
            pdf.ln(2)
        pdf.set_font("Helvetica", style, size)
        shown = "-  " + content if kind == "bullet" else content
        pdf.multi_cell(width, height, shown, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(after)
    pdf.output(str(target))


def render_docx(source: Path, target: Path) -> None:
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.created = properties.modified = FIXED_DATE.replace(tzinfo=None)
    properties.author = AUTHOR
    for kind, content in blocks(source.read_text(encoding="utf-8")):
        if kind == "title":
            properties.title = content
            document.add_heading(content, level=0)
        elif kind in ("h2", "h3"):
            document.add_heading(content, level=1 if kind == "h2" else 2)
        elif kind == "bullet":
            document.add_paragraph(content, style="List Bullet")
        else:
            document.add_paragraph(content)
    buffer = io.BytesIO()
    document.save(buffer)
    target.write_bytes(restamped(buffer.getvalue()))


def restamped(package: bytes) -> bytes:
    """The DOCX zip with every member dated FIXED_DATE (python-docx stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            entry = zipfile.ZipInfo(member.filename, date_time=FIXED_DATE.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(member))
    return out.getvalue()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    for name, kind in TARGETS.items():
        source = SOURCES / name
        target = DOCUMENTS / f"{source.stem}.{kind}"
        (render_pdf if kind == "pdf" else render_docx)(source, target)
        print(f"{source.relative_to(HERE)} -> {target.relative_to(HERE)}")


if __name__ == "__main__":
    main()
