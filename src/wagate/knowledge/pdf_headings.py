"""Headings a PDF shows only by its type: larger or bold lines ("Hukum Waris yang Dipakai").

A PDF's text layer has no heading marks. Numbered sections, "BAB"/"Pasal" and lines in
capitals the chunker recognises from the words alone (`domain.chunking`); a guide whose
headings are plain words set in a larger or bold type would otherwise be one long section,
cut by size, and cited by its title only. Word and LibreOffice exports, and most report
generators, set headings that way.

So while pypdf extracts a page, its text visitor reports each run's font and size; the
lines are rebuilt from the runs, the body size is the size most characters are set in, and a
short line set larger than the body — or in bold at the body's size, standing alone — is a
heading. Levels follow the sizes: the largest is the first level. The reader then writes
those lines as Markdown headings, as the DOCX and HTML readers do with theirs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

LARGER = 1.12  # a line this much above the body size is set as a heading
MAX_HEADING_CHARS = 100
MAX_BOLD_HEADING_WORDS = 12
_SENTENCE_PUNCTUATION = (".", ",", ";", ":")
_LINE_TOLERANCE = 1.0  # points: runs whose baselines differ by less are on one line


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    size: float  # the effective size in points (font size × text and page scaling)
    bold: bool
    y: float  # the baseline, in page space


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    size: float  # the smallest size among its runs
    bold: bool  # every run with letters is bold
    chars: Counter[tuple[float, bool]]


def run_of(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, size: float) -> Run:
    """One run as pypdf's `visitor_text` reports it."""
    # The text matrix times the page's transformation: its vertical scale sizes the glyphs.
    c = tm[2] * cm[0] + tm[3] * cm[2]
    d = tm[2] * cm[1] + tm[3] * cm[3]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    scale = math.hypot(c, d) or 1.0
    name = ""
    if isinstance(font, dict):
        name = str(font.get("/BaseFont", ""))
    bold = any(mark in name.lower() for mark in ("bold", "black", "heavy", "semibold"))
    return Run(text=text, size=round(abs(size) * scale, 1), bold=bold, y=y)


def lines_of(runs: Iterable[Run]) -> list[Line]:
    """The runs of one page put back into lines: a new line at a newline in a run's text or
    where the baseline moves."""
    lines: list[Line] = []
    parts: list[tuple[str, Run]] = []
    last_y: float | None = None

    def close() -> None:
        text = " ".join("".join(p for p, _ in parts).split())
        if text:
            lettered = [r for p, r in parts if any(ch.isalpha() for ch in p)]
            chars: Counter[tuple[float, bool]] = Counter()
            for p, r in parts:
                chars[(r.size, r.bold)] += sum(1 for ch in p if not ch.isspace())
            lines.append(
                Line(
                    text=text,
                    size=min((r.size for r in lettered), default=0.0),
                    bold=bool(lettered) and all(r.bold for r in lettered),
                    chars=chars,
                )
            )
        parts.clear()

    for run in runs:
        if last_y is not None and abs(run.y - last_y) > _LINE_TOLERANCE and parts:
            close()
        last_y = run.y
        pieces = run.text.split("\n")
        for i, piece in enumerate(pieces):
            if i > 0:
                close()
            if piece:
                parts.append((piece, run))
    close()
    return lines


def heading_levels(pages: Sequence[Sequence[Line]]) -> dict[str, int]:
    """The lines that are headings, by their text (whitespace collapsed), with a level from 1
    (the largest type) down. {} when the document shows no headings by type."""
    body_chars: Counter[float] = Counter()
    for page in pages:
        for line in page:
            for (size, _bold), n in line.chars.items():
                body_chars[size] += n
    if not body_chars:
        return {}
    body = body_chars.most_common(1)[0][0]
    found: dict[str, float] = {}  # text → its size rank key (larger first; bold-only last)
    for page in pages:
        for index, line in enumerate(page):
            if not _could_be_heading(line.text):
                continue
            if line.size >= body * LARGER:
                found.setdefault(line.text, line.size)
            elif line.bold and line.size >= body * 0.95 and _stands_alone(page, index, body):
                found.setdefault(line.text, body)  # below every larger heading
    sizes = sorted(set(found.values()), reverse=True)
    return {text: sizes.index(size) + 1 for text, size in found.items()}


def _could_be_heading(text: str) -> bool:
    return (
        len(text) <= MAX_HEADING_CHARS
        and any(ch.isalpha() for ch in text)
        and not text.endswith(_SENTENCE_PUNCTUATION)
        and not text.startswith(("|", "-", "•", "*"))
    )


def _stands_alone(page: Sequence[Line], index: int, body: float) -> bool:
    """A bold line at the body's size heads what follows when it is short, capitalised, and
    alone in bold: the line after it is set in regular type, and the line before it is not
    bold at the body's size (a run of bold lines is a table's header or a list)."""
    line = page[index]
    if len(line.text.split()) > MAX_BOLD_HEADING_WORDS or not line.text[0].isupper():
        return False
    following = page[index + 1] if index + 1 < len(page) else None
    previous = page[index - 1] if index > 0 else None
    return (
        following is not None
        and not following.bold
        and not (previous is not None and previous.bold and previous.size < body * LARGER)
    )


def mark_headings(
    text: str, levels: dict[str, int], *, leave: Callable[[str], bool] = lambda _: False
) -> str:
    """The extracted text with each heading line written "## Heading" (level + 1 hashes: the
    first level is the title's "#" only when the title is the only line of that size).
    Lines `leave` accepts stay as they are (the chunker knows them by their words)."""
    levels = {text: level for text, level in levels.items() if not leave(text)}
    if not levels:
        return text
    # A heading too long for one line is set on two: lines of one level in a row are one.
    parts: list[str | tuple[int, str]] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        level = levels.get(line)
        if level is None:
            parts.append(raw)
        elif parts and isinstance(last := parts[-1], tuple) and last[0] == level:
            parts[-1] = (level, f"{last[1]} {line}")
        else:
            parts.append((level, line))
    top_count = sum(1 for part in parts if isinstance(part, tuple) and part[0] == 1)
    shift = 0 if top_count == 1 else 1
    out: list[str] = []
    for part in parts:
        if isinstance(part, tuple):
            out.extend(["", "#" * min(part[0] + shift, 6) + " " + part[1], ""])
        else:
            out.append(part)
    return "\n".join(out)
