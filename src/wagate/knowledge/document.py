"""What a reader returns: the text of one source, with the headings it knows as Markdown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReadDocument:
    kind: str  # pdf, ocr, docx, markdown, text, html, image
    text: str  # lines; headings the format marks are written "# Heading" (Markdown)
    title: str | None = None  # the title the document declares, if any
