"""Renders the evaluation corpus's PDF and DOCX documents from their text in sources/.

The text is the source of truth (reviewable in a diff); the rendered files are committed so the
evaluation needs neither library. Re-run after editing a source:

    .venv/bin/pip install fpdf2 python-docx      # generator only, not a wagate dependency
    .venv/bin/python benchmarks/kb_data/make_documents.py

Source markup, one block per paragraph (blank line between):
    # Title            the document title
    ## Heading         a chapter or numbered section ("BAB I ...", "1. ...")
    ### Heading        a sub-heading ("Pasal 3 ...")
    - item             a bullet
    anything else      a paragraph; a line starting "(n)" inside a Pasal block is an ayat.

PDFs use a core font (Latin-1), so the sources stay within Latin-1: the script refuses other
characters rather than printing blanks. Rendering is deterministic (fixed creation date), so a
re-run without a source change gives byte-identical files.
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
# Which source becomes which kind of file.
TARGETS = {
    "waris_dan_surat_keterangan_waris.txt": "pdf",
    "sertifikat_tanah.txt": "pdf",
    "pesangon_dan_phk.txt": "docx",
    "prosedur_pidana.txt": "docx",
}
FIXED_DATE = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)


def blocks(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) per block: title, h2, h3, bullet or para; an ayat line is its own para."""
    for chunk in text.split("\n\n"):
        for line in chunk.strip().splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("### "):
                yield "h3", line[4:]
            elif line.startswith("## "):
                yield "h2", line[3:]
            elif line.startswith("# "):
                yield "title", line[2:]
            elif line.startswith("- "):
                yield "bullet", line[2:]
            else:
                yield "para", line


def render_pdf(source: Path, target: Path) -> None:
    from fpdf import FPDF

    text = source.read_text(encoding="utf-8")
    text.encode("latin-1")  # a UnicodeEncodeError here names the offending character
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for kind, content in blocks(text):
        if kind == "title":
            pdf.set_title(content)
            pdf.set_font("Helvetica", "B", 15)
            pdf.multi_cell(width, 8, content, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        elif kind in ("h2", "h3"):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12 if kind == "h2" else 11)
            pdf.multi_cell(width, 6, content, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "bullet":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(width, 5.5, "-  " + content, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(width, 5.5, content, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    pdf.output(str(target))


def render_docx(source: Path, target: Path) -> None:
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.created = properties.modified = FIXED_DATE.replace(tzinfo=None)
    properties.author = "LBH Sekar Keadilan"
    for kind, content in blocks(source.read_text(encoding="utf-8")):
        if kind == "title":
            properties.title = content
            document.add_heading(content, level=0)
        elif kind == "h2":
            document.add_heading(content, level=1)
        elif kind == "h3":
            document.add_heading(content, level=2)
        elif kind == "bullet":
            document.add_paragraph(content, style="List Bullet")
        else:
            document.add_paragraph(content)
    buffer = io.BytesIO()
    document.save(buffer)
    target.write_bytes(with_fixed_timestamps(buffer.getvalue()))


def with_fixed_timestamps(package: bytes) -> bytes:
    """The DOCX zip again, every member dated FIXED_DATE: python-docx stamps the current time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            fixed = zipfile.ZipInfo(member.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(member))
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    for name, kind in TARGETS.items():
        source = SOURCES / name
        target = DOCUMENTS / (source.stem + "." + kind)
        (render_pdf if kind == "pdf" else render_docx)(source, target)
        print(f"{source.relative_to(HERE)} -> {target.relative_to(HERE)}")


if __name__ == "__main__":
    main()
