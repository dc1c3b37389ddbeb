"""Headings a PDF shows only by its type: larger or bold lines ("Hukum Waris yang Dipakai").

A PDF's text layer has no heading marks. Numbered sections, "BAB"/"Pasal" and lines in
capitals the chunker recognises from the words alone (`domain.chunking`); a guide whose
headings are plain words set in a larger or bold type would otherwise be one long section,
cut by size, and cited by its title only. Word and LibreOffice exports, and most report
generators, set headings that way.

So while pypdf extracts a page, its text visitor reports each run's font and size; the
lines are rebuilt from the runs and cut into blocks of lines set alike. The body size is the
size most characters are set in; a block of one or two short lines set larger than the body
— or in bold at the body's size, standing alone — is a heading. Not a heading: a paragraph
set large (more lines, or a sentence's end), text repeated on several pages (a running
header, a watermark), rotated text. Levels follow the sizes: the largest is the first level.
The reader then writes those lines as Markdown headings, as the DOCX and HTML readers do.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

LARGER = 1.12  # a line this much above the body size is set as a heading
MAX_HEADING_CHARS = 100
MAX_BOLD_HEADING_WORDS = 12
MAX_HEADING_LINES = 2  # a heading too long for one line takes two; three are a paragraph
RUNNING_EDGE_LINES = 2  # a running header or footer sits in a page's first or last lines
# A bold line at the body's size is a heading only when clearly shorter than a full line: a
# paragraph whose first line is bold fills it.
BOLD_HEADING_WIDTH = 0.7
_SENTENCE_PUNCTUATION = (".", ",", ";", ":")
_LINE_TOLERANCE = 1.0  # points: runs whose baselines differ by less are on one line


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    size: float  # the effective size in points (font size × text and page scaling)
    bold: bool
    y: float  # the baseline, in page space
    upright: bool = True  # not rotated or slanted (a watermark across the page is)


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    size: float  # the smallest size among its runs
    bold: bool  # every run with letters is bold
    chars: Counter[float]  # characters set in each size (the body size is the commonest)
    upright: bool = True


def run_of(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, size: float) -> Run:
    """One run as pypdf's `visitor_text` reports it."""
    # The text matrix times the page's transformation: its vertical scale sizes the glyphs.
    a = tm[0] * cm[0] + tm[1] * cm[2]
    b = tm[0] * cm[1] + tm[1] * cm[3]
    c = tm[2] * cm[0] + tm[3] * cm[2]
    d = tm[2] * cm[1] + tm[3] * cm[3]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    scale = math.hypot(c, d) or 1.0
    name = ""
    if isinstance(font, dict):
        name = str(font.get("/BaseFont", ""))
    bold = any(mark in name.lower() for mark in ("bold", "black", "heavy", "semibold"))
    upright = abs(b) <= 0.01 * abs(a) and abs(c) <= 0.01 * abs(d)
    return Run(text=text, size=round(abs(size) * scale, 1), bold=bold, y=y, upright=upright)


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
            chars: Counter[float] = Counter()
            for p, r in parts:
                chars[r.size] += sum(1 for ch in p if not ch.isspace())
            lines.append(
                Line(
                    text=text,
                    size=min((r.size for r in lettered), default=0.0),
                    bold=bool(lettered) and all(r.bold for r in lettered),
                    chars=chars,
                    upright=all(r.upright for _, r in parts),
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


@dataclass(frozen=True, slots=True)
class HeadingLine:
    level: int  # 1 for the largest type
    block: int  # lines of one block are one heading (set on two lines)
    larger: bool  # set larger than the body (not only bold)


def heading_levels(
    pages: Sequence[Sequence[Line]], *, leave: Callable[[str], bool] = lambda _: False
) -> dict[str, HeadingLine]:
    """The lines that are headings, by their text (whitespace collapsed), with a level from 1
    (the largest type) down. {} when the document shows no headings by type. A block with a
    line `leave` accepts is left to the chunker (it knows "BAB II" or "3. Biaya" by words)."""
    body_chars: Counter[float] = Counter()
    for page in pages:
        for line in page:
            body_chars.update(line.chars)
    if not body_chars:
        return {}
    body = body_chars.most_common(1)[0][0]
    running = _running_lines(pages, body)
    width = _body_width([line for page in pages for line in page], body)
    found: dict[str, tuple[float, int]] = {}  # text → (size rank key, block number)
    number = 0
    for page in pages:
        for start, block in _blocks(page):
            number += 1
            if not _could_be_heading(block) or any(
                _is_running(ln, running, body) or not ln.upright or leave(ln.text) for ln in block
            ):
                continue
            size = block[0].size
            if size >= body * LARGER:
                key = size
            elif (
                block[0].bold
                and size >= body * 0.95
                and len(block[0].text) <= BOLD_HEADING_WIDTH * width
                and _stands_alone(page, start, block, body)
            ):
                key = 0.0  # below every larger heading
            else:
                continue
            for line in block:
                found.setdefault(line.text, (key, number))
    sizes = sorted({key for key, _ in found.values()}, reverse=True)
    return {
        text: HeadingLine(level=sizes.index(key) + 1, block=block, larger=key > 0)
        for text, (key, block) in found.items()
    }


def _running_keys(line: Line) -> tuple[tuple[str, float], tuple[str, float]]:
    """The line as it repeats exactly, and with its numbers aside ("Halaman 3")."""
    return (line.text, line.size), (re.sub(r"\d+", "#", line.text), line.size)


def _running_lines(pages: Sequence[Sequence[Line]], body: float) -> set[tuple[str, float]]:
    """Lines at the top or foot of two pages or more, in the same type: a running header or
    footer. A heading repeated in the body ("Syarat" under each topic) or listed in a table of
    contents is not at the page's edge. Page numbers aside only in type no larger than the
    body's ("LBH Gumi Paer · Halaman 3"): "Langkah 1", "Langkah 2" set large at the top of
    their pages are headings."""
    seen: Counter[tuple[str, float]] = Counter()
    for page in pages:
        edges = [*page[:RUNNING_EDGE_LINES], *page[-RUNNING_EDGE_LINES:]]
        keys: set[tuple[str, float]] = set()
        for line in edges:
            exact, numbered = _running_keys(line)
            keys.add(exact)
            if line.size <= body:
                keys.add(numbered)
        seen.update(keys)
    return {key for key, count in seen.items() if count > 1}


def _is_running(line: Line, running: set[tuple[str, float]], body: float) -> bool:
    exact, numbered = _running_keys(line)
    return exact in running or (line.size <= body and numbered in running)


def _body_width(lines: Sequence[Line], body: float) -> int:
    """The usual length of a full line of body text in the document (characters)."""
    lengths = sorted(len(ln.text) for ln in lines if ln.size == body and not ln.bold)
    return lengths[len(lengths) * 3 // 4] if lengths else 80


def _blocks(page: Sequence[Line]) -> list[tuple[int, list[Line]]]:
    """Runs of consecutive lines set in the same size and weight, with their first index."""
    blocks: list[tuple[int, list[Line]]] = []
    for index, line in enumerate(page):
        if blocks and (last := blocks[-1][1][-1]).size == line.size and last.bold == line.bold:
            blocks[-1][1].append(line)
        else:
            blocks.append((index, [line]))
    return blocks


def _could_be_heading(block: Sequence[Line]) -> bool:
    text = " ".join(line.text for line in block)
    return (
        len(block) <= MAX_HEADING_LINES
        and len(text) <= MAX_HEADING_CHARS
        and any(ch.isalpha() for ch in text)
        and not text.endswith(_SENTENCE_PUNCTUATION)
        and not any(line.text.startswith(("|", "-", "•", "*")) for line in block)
    )


def _stands_alone(page: Sequence[Line], start: int, block: Sequence[Line], body: float) -> bool:
    """A bold line at the body's size heads what follows when it is short, capitalised, and
    stands between paragraphs: the line after it is set in regular type, and the line before
    it ends a sentence or is a larger heading (or there is none). A bold phrase filling a
    line in the middle of a paragraph, a table's bold header, bold lines in a row: not
    headings."""
    text = " ".join(line.text for line in block)
    if len(block) > 1 or len(text.split()) > MAX_BOLD_HEADING_WORDS or not text[0].isupper():
        return False  # two bold lines in a row are rather a table's header or a list
    after = start + len(block)
    following = page[after] if after < len(page) else None
    previous = page[start - 1] if start > 0 else None
    return (
        following is not None
        and not following.bold
        and (
            previous is None
            or previous.text.endswith((".", ":", "?", "!", ";"))
            or previous.size >= body * LARGER  # right under a larger heading
        )
    )


def mark_headings(text: str, levels: dict[str, HeadingLine]) -> str:
    """The extracted text with each heading line written "## Heading" (level + 1 hashes: the
    first level is the title's "#" only when one heading alone is set in the largest type)."""
    if not levels:
        return text
    # A heading too long for one line is set on two: lines of one block are one heading.
    parts: list[str | tuple[HeadingLine, str]] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        heading = levels.get(line)
        if heading is None:
            parts.append(raw)
        elif parts and isinstance(last := parts[-1], tuple) and last[0].block == heading.block:
            parts[-1] = (heading, f"{last[1]} {line}")
        else:
            parts.append((heading, line))
    tops = [h for h, _ in (p for p in parts if isinstance(p, tuple)) if h.level == 1]
    shift = 0 if len(tops) == 1 and tops[0].larger else 1
    out: list[str] = []
    for part in parts:
        if isinstance(part, tuple):
            out.extend(["", "#" * min(part[0].level + shift, 6) + " " + part[1], ""])
        else:
            out.append(part)
    return "\n".join(out)
