"""One reader per format, chosen by the file's name (or, failing that, its first bytes).

`read(name, data)` returns a `ReadDocument` or raises `SourceError` with the reason: an
unsupported type, a broken or encrypted PDF, a file with no text, a scan without OCR. Size is
checked by the caller before the bytes are read (`read_file`) or fetched (`fetch.py`).
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from wagate.domain.chunking import is_structural_heading
from wagate.knowledge import ocr, pdf_headings
from wagate.knowledge.document import ReadDocument
from wagate.knowledge.errors import SourceError
from wagate.knowledge.html import main_text

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A PDF page with less text than this is taken for a scan (a page number, a stamp).
_TEXT_LAYER_CHARS_PER_PAGE = 40

KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".bmp": "image",
    ".webp": "image",
}
SUPPORTED = ", ".join(sorted(KINDS))


def kind_of(name: str, data: bytes = b"") -> str:
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in KINDS:
        return KINDS[suffix]
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK") and b"word/" in data[:4096]:
        return "docx"
    raise SourceError(
        f"unsupported file type {suffix or '(no extension)'!r}; supported: {SUPPORTED}"
    )


def read_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadDocument:
    """The file at `path`, refused before reading when it is larger than `max_bytes`."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(too_large(size, max_bytes))
        kind_of(path.name)  # refuse an unsupported type before reading it
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read {path.name}: {error.strerror or error}") from error
    return read(path.name, data)


def too_large(size: int, max_bytes: int) -> str:
    return f"the file is {size / 1_048_576:.1f} MB, over the {max_bytes / 1_048_576:.1f} MB limit"


def read(name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadDocument:
    if len(data) > max_bytes:
        raise SourceError(too_large(len(data), max_bytes))
    if not data:
        raise SourceError("the file is empty")
    kind = kind_of(name, data)
    document = _READERS[kind](data)
    if not document.text.strip():
        raise SourceError(f"no text found in this {kind} file")
    return document


def _read_pdf(data: bytes) -> ReadDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError("the PDF is encrypted (password-protected); save an unprotected copy")
        pages: list[str] = []
        layout: list[list[pdf_headings.Line]] = []
        for page in reader.pages:
            runs: list[pdf_headings.Run] = []

            def visit(text: Any, cm: Any, tm: Any, font: Any, size: Any) -> None:
                # The layout only adds headings: a run it cannot measure is left out, never
                # a reason to refuse a PDF whose text reads.
                with contextlib.suppress(TypeError, ValueError, IndexError, AttributeError):
                    runs.append(pdf_headings.run_of(text, cm, tm, font, size))  # noqa: B023

            pages.append(page.extract_text(visitor_text=visit) or "")
            layout.append(pdf_headings.lines_of(runs))
        metadata_title = reader.metadata.title if reader.metadata else None
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise SourceError(f"the PDF is damaged or not a PDF: {error}") from error
    except Exception as error:  # pypdf raises many kinds on hostile files; all mean "broken"
        raise SourceError(f"the PDF cannot be read: {type(error).__name__}") from error
    if not pages:
        raise SourceError("the PDF has no pages")
    title = metadata_title.strip() if isinstance(metadata_title, str) else None
    text = "\n\n".join(pages)
    if len(text.strip()) < _TEXT_LAYER_CHARS_PER_PAGE * len(pages):
        return ReadDocument(kind="ocr", text=ocr.read_scanned_pdf(data), title=title or None)
    # Headings set only in a larger or bold type become Markdown headings, as a DOCX's do.
    levels = pdf_headings.heading_levels(layout, leave=is_structural_heading)
    marked = pdf_headings.mark_headings(_join_hyphenated(text), levels)
    # Without a title property, the one line set in the largest type names the document.
    title = title or next(
        (
            ln[2:]
            for ln in marked.splitlines()
            if ln.startswith("# ") and ln[2:].lower() not in _CONTENTS_HEADINGS
        ),
        None,
    )
    return ReadDocument(kind="pdf", text=marked, title=title or None)


_CONTENTS_HEADINGS = frozenset({"daftar isi", "contents", "table of contents"})


def _join_hyphenated(text: str) -> str:
    """ "perkawin-\\nan" → "perkawinan": words a PDF broke at the end of a line."""
    return re.sub(r"(\w)-\n(\w)", r"\1\2", text)


def _read_docx(data: bytes) -> ReadDocument:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise SourceError(f"the DOCX is damaged or not a Word document: {error}") from error
    except Exception as error:  # lxml and zip errors of every kind mean the same here
        raise SourceError(f"the DOCX cannot be read: {type(error).__name__}") from error
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                # Merged cells repeat their text in each cell they span: once is enough.
                # Written as a Markdown row, so the chunker reads every table alike.
                lines.append("| " + " | ".join(dict.fromkeys(c for c in cells if c)) + " |")
            lines.append("")
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        level = _heading_level(style)
        if text and level:
            lines.extend(["", "#" * level + " " + text, ""])
        else:
            lines.append(text)
    # Word files rarely carry a title property; the paragraph styled "Title" (written as the
    # one level-1 heading above) names the document as the reader sees it.
    title = (document.core_properties.title or "").strip() or next(
        (line[2:].strip() for line in lines if line.startswith("# ")), None
    )
    return ReadDocument(kind="docx", text="\n".join(lines), title=title)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"(Heading|Judul)\s*(\d)", style)
    return min(int(match.group(2)) + 1, 6) if match else 0


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise SourceError("the file is binary, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def _read_markdown(data: bytes) -> ReadDocument:
    text = _FRONT_MATTER.sub("", _decode(data).replace("\r\n", "\n"))
    text = _MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", text))
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), None)
    return ReadDocument(kind="markdown", text=text, title=title)


def _read_text(data: bytes) -> ReadDocument:
    return ReadDocument(kind="text", text=_decode(data).replace("\r\n", "\n"))


def _read_html(data: bytes) -> ReadDocument:
    return main_text(_decode(data))


def _read_image(data: bytes) -> ReadDocument:
    return ReadDocument(kind="image", text=ocr.read_image(data))


_READERS = {
    "pdf": _read_pdf,
    "docx": _read_docx,
    "markdown": _read_markdown,
    "text": _read_text,
    "html": _read_html,
    "image": _read_image,
}
