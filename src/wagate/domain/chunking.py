"""Chunks that keep their place in the document (AI3).

A reader turns a file into lines of text; headings it knows for sure (Markdown `#`, a DOCX
heading style, an HTML `<h2>`) arrive as Markdown headings. Everything else is recognised
here from how Indonesian documents are written:

* legal structure: "BAB II KETENTUAN UMUM", "Bagian Kesatu", "Paragraf 2", "Pasal 5"; the
  ayat "(1)", "(2)" of a Pasal are where a long Pasal is split, and name the part
  ("Pasal 5 ayat (2)");
* numbered sections: "3. Syarat Gugatan", "2.1 Dokumen" (a run of numbered lines is a list,
  not a heading: only a numbered line followed by a paragraph heads a section);
* short lines in capitals ("PERSYARATAN UMUM");
* plain-text headings underlined with "====" or "----" (the setext style of README files and
  information sheets typed in a text editor); the underline itself is not text;
* a question standing alone as a heading ("Apa itu hak asuh?"), followed by its answer.

Each chunk carries the path of the headings above it ("Bab II › Pasal 5"), which the answer
cites, and is at most `max_chars` long: a section too long is split at paragraphs, then ayat,
then sentences; sections too short to stand alone (a heading with one line) still get their
own chunk, because the section path is what makes them findable and citable.

Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATOR = " › "
DEFAULT_MAX_CHARS = 1400

_MARKDOWN = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BAB = re.compile(r"^BAB\s+([IVXLC]+|\d+)\b\.?\s*(.*)$", re.IGNORECASE)
# "Bagian Kesatu", "Bagian 2", and the lettered parts of a guide: "BAGIAN A. Sewa-Menyewa".
# The letter must be a capital (a sentence starting "bagian a…" is not a heading).
_BAGIAN = re.compile(
    r"^Bagian\s+(Ke(satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh)"
    r"|Pertama|\d+|(?-i:[A-Z])(?=[.:\s]|$))\b.*$",
    re.IGNORECASE,
)
_PARAGRAF = re.compile(r"^Paragraf\s+\d+\b.*$", re.IGNORECASE)
_PASAL = re.compile(r"^Pasal\s+(\d+[A-Z]?)\s*$", re.IGNORECASE)
# A guide's article with its name on the line: "Pasal 3. Cerai talak", "Pasal 4 - Biaya". Not
# a sentence that starts with an article ("Pasal 27 UU ITE melarang …"): a separator, then a
# short capitalised name that does not end like a sentence.
_NAMED_PASAL = re.compile(r"^Pasal\s+(\d+[A-Z]?)\s*[.:\u2013\u2014-]\s*(\S.{0,69})$", re.IGNORECASE)
_AYAT = re.compile(r"^\((\d+[a-z]?)\)\s+\S")
# A guide's article with its name after the number and nothing between: "Pasal 1 Perjanjian
# Kerja Waktu Tertentu". A sentence can start the same way ("Pasal 27 UU ITE melarang …"), so
# this one needs context (`_contextual_heading`): an ayat next, or a name in title case.
_SPACED_PASAL = re.compile(r"^Pasal\s+(\d+[A-Z]?)\s+(\S.{0,69})$", re.IGNORECASE)
# Words a title leaves in lower case ("Hak Asuh atas Anak", "Biaya dan Cara Membayar").
_TITLE_SMALL_WORDS = frozenset(
    {
        "dan",
        "atau",
        "yang",
        "untuk",
        "dengan",
        "serta",
        "bagi",
        "dari",
        "pada",
        "di",
        "ke",
        "oleh",
        "atas",
        "dalam",
        "tentang",
        "tanpa",
        "sebagai",
        "antara",
        "terhadap",
        "hingga",
        "sampai",
    }
)
# "1.", "2.3", "4)", "A." and a lettered part's items "A1.", "B12.", "C.1", "C.2.", and
# chapters numbered in Roman numerals "I." to "XX." (one-letter ones match as letters).
_ROMAN = r"(?:XX|X?(?:IX|IV|VIII|VII|VI|III|II)|XI{1,3}|XV|XVI{1,3}|X)\."
_NUMBERED = re.compile(
    r"^((?:\d{1,2}\.)+\d{0,2}|\d{1,2}\)|"
    + _ROMAN
    + r"|[A-Z]\.|[A-Z]\d{1,2}\.|[A-Z]\.\d{1,2}\.?)\s+(\S.*)$"
)
# A lettered list item in lower case ("a. Ajukan …", "b) Bila …"), the body of a heading.
_LOWER_ITEM = re.compile(r"^[a-z][.)]\s")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# A line drawn under a heading ("=====", "-----") or across the page as a rule: no words.
_RULE = re.compile(r"^([=\-_~*])\1{2,}$")
# A question heading is a short line ending in "?" that starts with a capital; a line that
# labels itself as the question of a question-and-answer pair ("T:", "Q:", "Tanya:") is one
# of many in a section and stays text.
_QUESTION_LABEL = re.compile(r"^(T|Q|Tanya|Pertanyaan|Question)\s*[:.)-]", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^(J|A|Jawab|Jawaban|Answer)\s*[:.)-]", re.IGNORECASE)

# Levels: a smaller number is higher in the path.
_LEVEL_BAB, _LEVEL_BAGIAN, _LEVEL_PARAGRAF, _LEVEL_PASAL, _LEVEL_CAPS = 1, 2, 3, 4, 5
# A heading underlined with "====" ranks as a line in capitals does (the part of a leaflet),
# one with "----" just below it; both sit above numbered sections ("1.1 Tolong korban"). A
# question heading sits below every other kind, as the last step of the path.
_LEVEL_UNDERLINED = {"=": _LEVEL_CAPS, "-": _LEVEL_CAPS + 1}
_LEVEL_QUESTION = 30
# A structural heading with no name on its line: its name is often the next line.
_BARE = re.compile(r"^(BAB\s+([IVXLC]+|\d+)|Bagian\s+\S+|Paragraf\s+\d+)\.?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int  # its place in the document, from 0
    section: str  # the heading path, "" before the first heading
    text: str


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str


def _clean(line: str) -> str:
    return " ".join(line.replace("\u00a0", " ").split())


def _is_caps_heading(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return (
        4 <= len(line) <= 80
        and len(letters) >= 4
        and all(c.isupper() for c in letters)
        and not line.endswith((",", ";"))
    )


def _numbered_heading(line: str) -> _Heading | None:
    match = _NUMBERED.match(line)
    if match is None:
        return None
    title = match.group(2)
    if len(line) > 80 or title.endswith((".", ",", ";", ":")) or not title[0].isupper():
        return None
    label = match.group(1).rstrip(".")
    # "A1." and "A.1" sit under their lettered part "A." the way "1.2" sits under "1."; a
    # Roman chapter ("IV.") is a top level, as "A." is.
    roman = set(label) <= set("IVX")
    depth = 2 if label[0].isalpha() and len(label) > 1 and not roman else label.count(".") + 1
    return _Heading(10 + depth, line)


def _heading(line: str) -> _Heading | None:
    """The heading this line is, judged on the line alone (numbered lines need context)."""
    if (match := _MARKDOWN.match(line)) is not None:
        return _Heading(20 + len(match.group(1)), _clean(match.group(2)))
    if _BAB.match(line) and len(line) <= 100:
        return _Heading(_LEVEL_BAB, line)
    if _BAGIAN.match(line) and len(line) <= 100:
        return _Heading(_LEVEL_BAGIAN, line)
    if _PARAGRAF.match(line) and len(line) <= 100:
        return _Heading(_LEVEL_PARAGRAF, line)
    if _PASAL.match(line):
        return _Heading(_LEVEL_PASAL, line)
    if (named := _NAMED_PASAL.match(line)) is not None and _is_a_name(named.group(2)):
        return _Heading(_LEVEL_PASAL, line)
    return None


def is_structural_heading(line: str) -> bool:
    """True when the words alone make `line` a heading this module recognises ("BAB II",
    "Pasal 5", "3. Syarat Gugatan", "PERSYARATAN UMUM"), whatever follows it. A reader that
    knows headings by their type (knowledge/pdf_headings) leaves these to the chunker, so
    their levels keep the legal order."""
    line = _clean(line)
    return bool(line) and (
        (_heading(line) is not None and not _MARKDOWN.match(line))
        or _numbered_heading(line) is not None
        or _is_caps_heading(line)
        or _BARE.match(line) is not None
        or ((spaced := _SPACED_PASAL.match(line)) is not None and _is_a_name(spaced.group(2)))
    )


def _is_a_name(text: str) -> bool:
    """A heading's name, not the start of a sentence: capitalised, no sentence end."""
    return text[0].isupper() and not text.endswith((".", ",", ";", ":"))


MAX_HEADING_CHARS = 100  # a question heading of an FAQ runs to 80 and more; 70 cut them


def _short_path(name: str) -> str:
    """ "BAB II KETENTUAN UMUM" stays; a long heading is cut so a citation stays readable.
    The cut words are lost to the search too (the section path is the heading it scores), so
    the limit is above the length of real headings: `MAX_HEADING_CHARS`."""
    if len(name) <= MAX_HEADING_CHARS:
        return name
    return name[: MAX_HEADING_CHARS - 3].rstrip() + "…"


class _Sections:
    """Collects (section path, paragraphs) as the lines go by."""

    def __init__(self, title: str) -> None:
        self._title = _clean(title).lower()
        self._stack: list[_Heading] = []
        self.sections: list[tuple[str, list[str]]] = [("", [])]

    def open(self, heading: _Heading) -> None:
        if not self._stack and heading.text.lower() == self._title:
            return  # the document's own title is not a section of it
        while self._stack and self._stack[-1].level >= heading.level:
            self._stack.pop()
        self._stack.append(heading)
        path = SEPARATOR.join(_short_path(h.text) for h in self._stack[-3:])
        self.sections.append((path, []))

    def add(self, paragraph: str) -> None:
        if not self._stack and not self.sections[-1][1] and paragraph.lower() == self._title:
            return  # the title printed at the top of the text
        self.sections[-1][1].append(paragraph)


# A list item under a bullet ("- fotokopi KTP", "• surat kuasa"): a line of its own, as in
# the document (an answer shows it as a list).
_BULLET = re.compile(r"^[-•*]\s+\S")
# A table row as the readers write one ("| Hari | Jam buka |", Markdown's own and DOCX's),
# and the rule under a Markdown table's header ("|---|:---:|").
_TABLE_ROW = re.compile(r"^\|.*\|$")
_TABLE_RULE = re.compile(r"^\|[\s:|-]*\|$")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def _table_cells(line: str) -> list[str]:
    """The cells of a "| a | b |" row; an escaped pipe ("\\|") stays text."""
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SEPARATOR.split(line[1:-1])]


def _table_line(cells: list[str], header: list[str] | None) -> str:
    """A table row as a line that reads on WhatsApp (which shows no tables): the header as
    its cells, each row as an item naming its cells by their columns ("- Jumat — Kantor
    pusat: 08.30 - 11.30; Pos: tutup"), a two-column row as "- label: value"."""
    if header is None or len(cells) < 2:
        return " | ".join(c for c in cells if c)
    first, rest = cells[0], cells[1:]
    # Named by column only when the row lines up with a header of three columns or more; a
    # two-column row is "label: value", and a row with merged or missing cells (a DOCX row
    # keeps a merged cell once) cannot say which column a value is in.
    by_column = len(cells) == len(header) and len(rest) > 1
    values = (
        [f"{n}: {v}" if n else v for n, v in zip(header[1:], rest, strict=True) if v]
        if by_column
        else [v for v in rest if v]
    )
    joined = "; ".join(values)
    if not first or not joined:
        return f"- {first or joined}"
    return f"- {first} — {joined}" if by_column else f"- {first}: {joined}"


def _paragraphs(lines: list[str]) -> list[str]:
    """Lines joined into paragraphs: a blank line, an ayat or a list item (numbered or under
    a bullet) starts a new one; a table row is a paragraph of its own (`_table_line`)."""
    paragraphs: list[str] = []
    current: list[str] = []
    header: list[str] | None = None  # the current table's first row
    for line in lines:
        if _TABLE_ROW.match(line):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            if _TABLE_RULE.match(line):
                continue
            cells = _table_cells(line)
            paragraphs.append(_table_line(cells, header))
            if header is None and len([c for c in cells if c]) > 1:
                header = cells  # a one-cell first row is the table's title, not its header
            continue
        header = None
        if not line or _AYAT.match(line) or _NUMBERED.match(line) or _BULLET.match(line):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            if not line:
                continue
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:  # one endless "sentence": cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _pack(section: str, paragraphs: list[str], max_chars: int) -> list[tuple[str, str]]:
    """Paragraphs packed into chunks of at most `max_chars`; a part that starts at an ayat of
    a Pasal names it ("Pasal 5 ayat (2)")."""
    pieces = [piece for p in paragraphs for piece in _split_long(p, max_chars)]
    packed: list[tuple[str, str]] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and size + 1 + len(piece) > max_chars:
            packed.append(_named_part(section, current, split=True))
            current, size = [], 0
        current.append(piece)
        size += len(piece) + 1
    if current:
        packed.append(_named_part(section, current, split=bool(packed)))
    return packed


def _named_part(section: str, pieces: list[str], *, split: bool) -> tuple[str, str]:
    ayat = _AYAT.match(pieces[0])
    if split and ayat is not None and section:
        section = f"{section} ayat ({ayat.group(1)})"
    return section, "\n".join(pieces)


def chunk_document(
    text: str, *, title: str = "", max_chars: int = DEFAULT_MAX_CHARS
) -> list[Chunk]:
    """The document's text cut into chunks along its own structure, in reading order."""
    if max_chars < 200:
        raise ValueError("max_chars must be at least 200")
    lines = [_clean(line) for line in text.splitlines()]
    sections = _Sections(title)
    body: list[str] = []

    def flush() -> None:
        for paragraph in _paragraphs(body):
            sections.add(paragraph)
        body.clear()

    named: set[int] = set()  # lines consumed as the name of the heading above them
    for index, line in enumerate(lines):
        if index in named:
            continue
        if _TABLE_ROW.match(line):
            # A table's row is never a heading, however it is written ("| NO | URAIAN |"):
            # `_paragraphs` reads the table as a whole.
            body.append(line)
            continue
        underlined = _underlined_heading(lines, index)
        if underlined is not None:
            named.add(index + 1)  # the underline
            flush()
            sections.open(underlined)
            continue
        if _RULE.match(line):
            continue  # a rule drawn across the page carries no words
        heading = _heading(line) if line else None
        if heading is None and line:
            heading = _contextual_heading(line, lines, index)
        if heading is None:
            body.append(line)
            continue
        if _BARE.match(heading.text):
            name_at = _name_line(lines, index)
            if name_at is not None:
                named.add(name_at)
                heading = _Heading(heading.level, f"{heading.text} {lines[name_at]}")
        flush()
        sections.open(heading)
    flush()

    chunks: list[Chunk] = []
    for path, paragraphs in sections.sections:
        for section, part in _pack(path, paragraphs, max_chars):
            chunks.append(Chunk(len(chunks), section, part))
    return chunks


def _underlined_heading(lines: list[str], index: int) -> _Heading | None:
    """ "Syarat calon anak angkat" over "-----------": a short line that is not a sentence,
    standing after a blank line (or first), with an underline about as long as itself."""
    line = lines[index]
    if not line or index + 1 >= len(lines) or (index > 0 and lines[index - 1]):
        return None
    rule = _RULE.match(lines[index + 1])
    if rule is None or rule.group(1) not in _LEVEL_UNDERLINED:
        return None
    if len(line) > 100 or line.endswith((",", ";")) or _RULE.match(line) or not line.strip(":"):
        return None
    if len(lines[index + 1]) < max(3, len(line) // 2):
        return None
    return _Heading(_LEVEL_UNDERLINED[rule.group(1)], line.rstrip(":"))


def _question_heading(line: str, following: str, previous: str) -> _Heading | None:
    """ "Apa itu pengangkatan anak?" alone on its line, after a blank line, with its answer
    as the next paragraph (not another question, not a labelled Q&A pair)."""
    if not (line.endswith("?") and 10 <= len(line) <= 120 and line[0].isupper()):
        return None
    if previous and not previous.endswith((".", "?", "!", ":")) and _heading(previous) is None:
        return None  # the middle of a paragraph (PDF text has no blank lines to go by)
    if _QUESTION_LABEL.match(line) or _ANSWER_LABEL.match(following):
        return None
    if not following[0].isupper():
        return None
    if following.endswith("?") or _heading(following) is not None:
        return None
    return _Heading(_LEVEL_QUESTION, line)


def _name_line(lines: list[str], index: int) -> int | None:
    """ "Bagian Kesatu" / "Besaran": the short line after a bare heading is its name."""
    for at in range(index + 1, min(index + 3, len(lines))):
        line = lines[at]
        if not line:
            continue
        if len(line) > 70 or line.endswith((".", ",", ";", ":")) or _heading(line) is not None:
            return None
        if _NUMBERED.match(line) or _AYAT.match(line):
            return None
        return at
    return None


def _next_text(lines: list[str], index: int) -> str:
    for line in lines[index + 1 :]:
        if line:
            return line
    return ""


def _previous_text(lines: list[str], index: int) -> str:
    for line in reversed(lines[:index]):
        if line:
            return line
    return ""


def _previous_item(lines: list[str], index: int) -> str:
    """The text line before, or the list item it continues: in "3) Menghadiri sidang … (bila" /
    "ada), dan surat-surat asli." / "4) Setelah …", item 4 follows item 3."""
    for back, line in enumerate(reversed(lines[:index])):
        if not line:
            continue
        if line[0].islower() and back < 4:
            continue  # a wrapped line of the item above
        return line
    return ""


def _item_number(line: str) -> int | None:
    """The last number of a numbered line's label ("2.3" → 3, "4)" → 4); None if unnumbered."""
    match = _NUMBERED.match(line)
    if match is None:
        return None
    digits = re.findall(r"\d+", match.group(1))
    return int(digits[-1]) if digits else None


def _contextual_heading(line: str, lines: list[str], index: int) -> _Heading | None:
    """Numbered and capitalised headings: only when what follows is a paragraph, not more of
    the same list (a run of numbered lines is a list of requirements, not of sections)."""
    following = _next_text(lines, index)
    if not following:
        return None
    numbered = _numbered_heading(line)
    if numbered is not None:
        if following[0].islower() and not _LOWER_ITEM.match(following):
            return None  # "1) Mengurus surat … (rekomendasi" / "dinas sosial …": a wrapped item
        number = _item_number(line)
        previous = _item_number(_previous_item(lines, index))
        after = _item_number(following)
        in_a_list = (number is not None and previous is not None and previous + 1 == number) or (
            number is not None and after is not None and after == number + 1
        )
        return None if in_a_list else numbered
    if _is_caps_heading(line) and not _is_caps_heading(following):
        return _Heading(_LEVEL_CAPS, line)
    question = _question_heading(line, following, lines[index - 1] if index > 0 else "")
    if question is not None:
        return question
    spaced = _SPACED_PASAL.match(line)
    if (
        spaced is not None
        and _is_a_name(spaced.group(2))
        and (_AYAT.match(following) or _in_title_case(spaced.group(2)))
    ):
        return _Heading(_LEVEL_PASAL, line)
    return None


def _in_title_case(name: str) -> bool:
    """ "Masa Percobaan", "Hak Asuh atas Anak": every word but the small ones capitalised."""
    words = [w for w in name.split() if w[0].isalpha()]
    return bool(words) and all(w[0].isupper() or w.lower() in _TITLE_SMALL_WORDS for w in words)
