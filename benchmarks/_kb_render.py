"""Renders a knowledge-base corpus's PDF and DOCX documents from their text in sources/: the one
renderer of the hold-out corpora 3 to 7 (each corpus's make_documents.py names its files, its
author and its date; the corpora were written from copies of this code, so they look alike to
the ingest code).

    .venv/bin/pip install fpdf2 python-docx      # generator only, not a wagate dependency

Source markup, one line per block: "# " title, "## " chapter, "### " article or sub-heading,
"- " bullet, "|"-delimited rows a table (first row the header, "|---|" rows ignored),
anything else a paragraph. PDF sources must stay within Latin-1 (core font); the
script fails on any other character instead of printing a blank. Output is deterministic (fixed
dates), so re-running without a source change gives byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Stamp:
    """What every rendered file of a corpus carries: its author and a fixed date."""

    author: str
    date: dt.datetime


PREFIXES = (("### ", "h3"), ("## ", "h2"), ("# ", "title"), ("- ", "bullet"))


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def blocks(text: str) -> Iterator[tuple[str, str | list[list[str]]]]:
    """(kind, text) for every non-empty line of a source; ("table", rows) for a run of rows."""
    rows: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            if not set(line) <= set("|-: "):
                rows.append(cells(line))
            continue
        if rows:
            yield "table", rows
            rows = []
        if not line:
            continue
        for prefix, kind in PREFIXES:
            if line.startswith(prefix):
                yield kind, line[len(prefix) :]
                break
        else:
            yield "para", line
    if rows:
        yield "table", rows


def render_pdf(source: Path, target: Path, stamp: Stamp) -> None:
    from fpdf import FPDF

    text = source.read_text(encoding="utf-8")
    text.encode("latin-1")  # names the offending character rather than rendering a blank
    pdf = FPDF(format="A4")
    pdf.set_creation_date(stamp.date)
    pdf.set_author(stamp.author)
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
        if kind == "table":
            pdf.ln(1)
            pdf.set_font("Helvetica", "", 10)
            with pdf.table(line_height=5.5, text_align="LEFT", first_row_as_headings=True) as table:
                for row in content:
                    table.row(row)
            pdf.ln(3)
            continue
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


def render_docx(source: Path, target: Path, stamp: Stamp) -> None:
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.created = properties.modified = stamp.date.replace(tzinfo=None)
    properties.author = stamp.author
    for kind, content in blocks(source.read_text(encoding="utf-8")):
        if kind == "title":
            properties.title = content
            document.add_heading(content, level=0)
        elif kind in ("h2", "h3"):
            document.add_heading(content, level=1 if kind == "h2" else 2)
        elif kind == "bullet":
            document.add_paragraph(content, style="List Bullet")
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]), style="Table Grid")
            for cells_out, row in zip(table.rows, content, strict=True):
                for cell, value in zip(cells_out.cells, row, strict=True):
                    cell.text = value
            for cell in table.rows[0].cells:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
        else:
            document.add_paragraph(content)
    buffer = io.BytesIO()
    document.save(buffer)
    target.write_bytes(restamped(buffer.getvalue(), stamp.date))


def restamped(package: bytes, date: dt.datetime) -> bytes:
    """The DOCX zip with every member dated `date` (python-docx stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            entry = zipfile.ZipInfo(member.filename, date_time=date.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(member))
    return out.getvalue()


def render_corpus(
    here: Path, targets: dict[str, str], stamp: Stamp, description: str | None
) -> None:
    """Renders `targets` (source file name → "pdf" or "docx") from here/sources/ into
    here/documents/."""
    argparse.ArgumentParser(description=(description or "").splitlines()[0]).parse_args()
    for name, kind in targets.items():
        source = here / "sources" / name
        target = here / "documents" / f"{source.stem}.{kind}"
        (render_pdf if kind == "pdf" else render_docx)(source, target, stamp)
        print(f"{source.relative_to(here)} -> {target.relative_to(here)}")
