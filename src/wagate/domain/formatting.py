"""WhatsApp-ready text: the Markdown a model writes, converted and split into sendable parts.

WhatsApp knows a small formatting language: `*bold*`, `_italic_`, `~strike~`, `` `code` ``,
```` ``` ```` monospace blocks and `> quote`. Models answer in Markdown, so an answer goes through
`to_whatsapp` exactly once and then through `split_message`, because one text message holds at
most 4096 characters. Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

WHATSAPP_TEXT_LIMIT = 4096  # characters (Python `len`) in one WhatsApp text message

# --- shared: fenced code blocks -------------------------------------------------------------

# A backtick fence's info string may not contain backticks (CommonMark); that keeps a one-line
# ```like this``` (a code span) from opening a block.
_FENCE_OPEN = re.compile(r"^[ \t]*(?:(?P<ticks>`{3,})[^`]*|(?P<tildes>~{3,}).*)$")
_FENCE_CLOSE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")


@dataclass(frozen=True, slots=True)
class _Fence:
    """A fenced code block, as line indices; `last` is the closing fence, or the last line of the
    text when the fence never closes (CommonMark: the block then runs to the end)."""

    first: int
    last: int
    closed: bool


def _fences(lines: Sequence[str]) -> list[_Fence]:
    """Every fenced code block in `lines`, in order, never overlapping."""
    found: list[_Fence] = []
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening is None:
            i += 1
            continue
        marker = opening["ticks"] or opening["tildes"]
        for j in range(i + 1, len(lines)):
            closing = _FENCE_CLOSE.match(lines[j])
            if (
                closing
                and closing["fence"][0] == marker[0]
                and len(closing["fence"]) >= len(marker)
            ):
                found.append(_Fence(i, j, closed=True))
                i = j + 1
                break
        else:
            found.append(_Fence(i, len(lines) - 1, closed=False))
            break
    return found


# --- to_whatsapp ----------------------------------------------------------------------------

_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+(?P<text>.*))?$")
# `=== ` or `---` under a paragraph line makes it a heading (CommonMark setext); three or more
# so a stray "-" under a line stays an empty list item.
_SETEXT_UNDERLINE = re.compile(r"^[ \t]{0,3}(?:={3,}|-{3,})[ \t]*$")
_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)[-*+][ \t]+(?P<text>.*)$")
_OTHER_BLOCK = re.compile(r"^[ \t]*(?:\d+[.)]|>|•)(?:[ \t]|$)")
_TABLE_RULE_CHARS = frozenset("|:- \t")  # the `|---|:--:|` row under a table's header
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~|<>])")
# One level of balanced parentheses, for addresses such as Wikipedia's `Foo_(bar)`.
_TARGET = r"(?P<url>[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:[ \t]+\"[^\"]*\")?"
# Link text holds no brackets: nested ones are rare, and excluding them keeps an unclosed "["
# from rescanning the rest of the line (quadratic time on a long line).
_IMAGE = re.compile(r"!\[(?P<text>[^\[\]]*)\]\(" + _TARGET + r"\)")
_LINK = re.compile(r"\[(?P<text>[^\[\]]+)\]\(" + _TARGET + r"\)")
_AUTOLINK = re.compile(r"<(?P<url>(?:https?://|mailto:)[^>\s]+)>")
# A bare address never ends in punctuation: "see https://x.org." ends the sentence, not the URL.
_BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?'\")\]}*_~]")
_SCHEME = re.compile(r"^(?:https?://|mailto:)")

# Emphasis needs a non-space just inside each marker, so `2 * 3 * 4` is arithmetic; single `*`
# and `__` also need a non-word character outside, so `2*3*4`, `snake_case` and `my__var__x` stay.
# The content never contains its own delimiter: an unpaired marker then fails at the next one
# instead of rescanning the line, which kept a long line of stray `*` quadratic.
_BOLD_ITALIC = re.compile(r"(?<![\w*])\*\*\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*\*\*(?![\w*])")
_BOLD_STARS = re.compile(r"\*\*(?=[^\s*])((?:[^*]|\*(?!\*))+?)(?<=[^\s*])\*\*")
_BOLD_UNDERSCORES = re.compile(r"(?<!\w)__(?=[^\s_])((?:[^_]|_(?!_))+?)(?<=[^\s_])__(?!\w)")
_ITALIC_STARS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=[^\s~])((?:[^~]|~(?!~))+?)(?<=[^\s~])~~")


class _Stash:
    """Literal snippets parked behind placeholder tokens, so later rules cannot rewrite them."""

    def __init__(self, text: str) -> None:
        # Sentinels are private-use characters absent from the input: a token can never be
        # mistaken for something the model wrote.
        used = set(text)
        free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in used)
        self._open, self._close = next(free), next(free)
        self._token = re.compile(re.escape(self._open) + r"(\d+)" + re.escape(self._close))
        self._items: list[str] = []

    def put(self, literal: str) -> str:
        self._items.append(literal)
        return f"{self._open}{len(self._items) - 1}{self._close}"

    def restore(self, text: str) -> str:
        # A stashed URL can swallow a neighbouring token, so unwrap until nothing is left.
        while True:
            restored = self._token.sub(lambda m: self._items[int(m.group(1))], text)
            if restored == text:
                return restored
            text = restored


def _same_address(text: str, url: str) -> bool:
    def bare(s: str) -> str:
        return _SCHEME.sub("", s.strip()).rstrip("/").lower()

    return bare(text) == bare(url)


def _inline(text: str, stash: _Stash, *, bold: bool = True) -> str:
    """Inline Markdown of one line → WhatsApp. With `bold=False` bold markers are dropped (the
    caller bolds the whole line, and WhatsApp does not nest `*` in `*`)."""
    # Code first: nothing inside a code span is Markdown (CommonMark precedence).
    text = _CODE_SPAN.sub(lambda m: stash.put(m.group(0)), text)
    text = _ESCAPE.sub(lambda m: stash.put(m.group(1)), text)

    def image(m: re.Match[str]) -> str:
        url = stash.put(m["url"])
        return f"{m['text']}: {url}" if m["text"].strip() else url

    def link(m: re.Match[str]) -> str:
        url = stash.put(m["url"])
        return url if _same_address(m["text"], m["url"]) else f"{m['text']} ({url})"

    text = _IMAGE.sub(image, text)
    text = _LINK.sub(link, text)
    text = _AUTOLINK.sub(lambda m: stash.put(m["url"]), text)
    text = _BARE_URL.sub(lambda m: stash.put(m.group(0)), text)

    # Bold becomes a stashed "*", so the italic rule below never sees (and re-reads) it.
    star = stash.put("*") if bold else ""
    text = _BOLD_ITALIC.sub(lambda m: f"{star}_{m.group(1)}_{star}", text)
    text = _BOLD_STARS.sub(lambda m: f"{star}{m.group(1)}{star}", text)
    text = _BOLD_UNDERSCORES.sub(lambda m: f"{star}{m.group(1)}{star}", text)
    # A single `*x*` is Markdown italic, and the input is Markdown: a model writing Markdown means
    # italic. WhatsApp would read it as bold, so running this twice turns bold into italic; call
    # it once, on the model's text. `_x_` is italic in both languages and is left alone.
    text = _ITALIC_STARS.sub(lambda m: f"_{m.group(1)}_", text)
    return _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)


def _bold_line(text: str, stash: _Stash) -> str:
    content = _inline(text.strip(), stash, bold=False)
    return f"*{content}*" if content else ""


def _heading_text(text: str) -> str:
    """An ATX heading's text without its optional closing `#`s (`## Title ##`)."""
    text = text.rstrip()
    bare = text.rstrip("#")
    return bare.rstrip() if bare != text and (not bare or bare[-1] in " \t") else text


def _is_table_rule(line: str) -> bool:
    return "|" in line and "-" in line and set(line) <= _TABLE_RULE_CHARS


def _table_row(line: str, stash: _Stash) -> str:
    row = line.strip()
    row = row.removeprefix("|")
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return " | ".join(_inline(cell.strip(), stash) for cell in _CELL_SEPARATOR.split(row))


def to_whatsapp(markdown: str) -> str:
    """Markdown as a model writes it → text WhatsApp renders.

    Contract:
    - `**b**`, `__b__` → `*b*`; `*i*`, `_i_` → `_i_`; `***bi***` → `*_bi_*`; `~~s~~` → `~s~`.
    - Code spans and fenced blocks are never changed inside; fences lose their language tag and
      become ```` ``` ````; an unclosed fence (a truncated answer) is closed.
    - `# Heading` (any level, or a setext underline) → a bold line `*Heading*`.
    - `-`/`*`/`+` bullets → `•`, indentation kept; numbered lists and quotes stay.
    - `[text](url)` → `text (url)`, or just `url` when the text is the address; `![alt](url)`
      → `alt: url`; `<url>` → `url`.
    - Horizontal rules become a blank line; tables become one line per row, cells joined by
      `" | "`, the `|---|` rule dropped.
    - Trailing spaces go, more than two blank lines in a row shrink to two, and leading and
      trailing blank lines go.
    - Not idempotent for bold: the input is read as Markdown, where `*x*` is italic.
    """
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    stash = _Stash(text)
    lines = text.split("\n")
    fences = {fence.first: fence for fence in _fences(lines)}
    out: list[tuple[str, bool]] = []  # (line, verbatim): verbatim lines are code, never touched
    paragraph_line: str | None = None  # the previous line, if a setext underline could bold it

    i = 0
    while i < len(lines):
        line = lines[i]
        previous, paragraph_line = paragraph_line, None
        if i in fences:
            fence = fences[i]
            body_end = fence.last if fence.closed else fence.last + 1
            out.append(("```", True))
            out.extend((code, True) for code in lines[i + 1 : body_end])
            out.append(("```", True))
            i = fence.last + 1
            continue
        if previous is not None and _SETEXT_UNDERLINE.match(line):
            out[-1] = (_bold_line(previous, stash), False)
        elif _RULE.match(line):
            out.append(("", False))
        elif heading := _HEADING.match(line):
            out.append((_bold_line(_heading_text(heading["text"] or ""), stash), False))
        elif (
            "|" in line
            and i + 1 < len(lines)
            and i + 1 not in fences
            and _is_table_rule(lines[i + 1])
        ):
            out.append((_table_row(line, stash), False))
            i += 2  # the header, then the |---| rule, which carries nothing
            while i < len(lines) and "|" in lines[i] and lines[i].strip() and i not in fences:
                out.append((_table_row(lines[i], stash), False))
                i += 1
            continue
        elif bullet := _BULLET.match(line):
            out.append((f"{bullet['indent']}• {_inline(bullet['text'], stash)}", False))
        else:
            out.append((_inline(line, stash), False))
            if line.strip() and not _OTHER_BLOCK.match(line):
                paragraph_line = line
        i += 1

    result: list[str] = []
    blank_run = 0
    for line, verbatim in out:
        if not verbatim:
            line = stash.restore(line).rstrip()
            blank_run = blank_run + 1 if not line else 0
            if blank_run > 2:
                continue
        else:
            blank_run = 0
        result.append(line)
    return "\n".join(result).strip("\n")


# --- split_message --------------------------------------------------------------------------

# Break kinds, most preferred first. Each match starts at the whitespace where a part may end.
_BREAKS = (
    re.compile(r"\n[^\S\n]*\n"),  # paragraph: a blank line
    re.compile(r"\n"),  # line
    # sentence: . ! ? … (maybe closing a quote or bracket) then whitespace; "dll. " and "Dr. "
    # end a sentence too, an accepted loss.
    re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s"),
    re.compile(r"\s"),  # word
)


def _clings(char: str) -> bool:
    """Whether `char` belongs to the character before it (accent, joiner, emoji modifier)."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == "\u200d"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def _cut(text: str, start: int, limit: int, protected: Sequence[tuple[int, int]]) -> int:
    """Where the part beginning at `start` ends; `text[start]` is not whitespace and more than
    `limit` characters remain, so the result lies in (start, start + limit]."""
    end = start + limit
    fallback: int | None = None
    for pattern in _BREAKS:
        cuts = [m.start() for m in pattern.finditer(text, start + 1, end + 1)]
        allowed = (c for c in reversed(cuts) if not any(a < c < b for a, b in protected))
        best = next(allowed, None)
        if best is None:
            continue
        # A preferred break that leaves the part less than half full loses to a lesser break
        # further on: fewer, fuller messages beat a stub followed by the rest.
        if best - start >= limit // 2:
            return best
        fallback = best if fallback is None else fallback
    if fallback is not None:
        return fallback
    # Last resort, a hard cut; step back off accents and emoji joiners so no letter is torn.
    for cut in range(end, start, -1):
        if not _clings(text[cut]) and text[cut - 1] != "\u200d":
            return cut
    return end


def _split(text: str, limit: int) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    # A code block that fits in one part is never cut inside; a larger one has to be.
    protected = [
        (offsets[f.first], offsets[f.last] + len(lines[f.last]))
        for f in _fences(lines)
        if offsets[f.last] + len(lines[f.last]) - offsets[f.first] <= limit
    ]
    parts: list[str] = []
    start = 0
    while True:
        while text[start].isspace():
            start += 1
        if len(text) - start <= limit:
            parts.append(text[start:])
            return parts
        cut = _cut(text, start, limit, protected)
        parts.append(text[start:cut].rstrip())
        start = cut


def _suffix(index: int, total: int) -> str:
    return f"\n({index}/{total})"


def number_parts(parts: Sequence[str]) -> list[str]:
    """Add a `(i/n)` line to each part when there are several; one part or none is returned as
    is. Each part grows by `len(f"\\n({i}/{n})")` characters: a caller that numbers parts itself
    must leave that room, which `split_message(..., numbered=True)` does."""
    if len(parts) < 2:
        return list(parts)
    return [part + _suffix(i, len(parts)) for i, part in enumerate(parts, start=1)]


def split_message(
    text: str, limit: int = WHATSAPP_TEXT_LIMIT, *, numbered: bool = False
) -> list[str]:
    """Split `text` into parts of at most `limit` characters (Python `len`).

    Contract:
    - Empty or blank text → `[]`; text that fits → `[text.strip()]`.
    - Parts are stripped and never empty; joined with blank lines they hold every non-whitespace
      character of `text`, in order. Only whitespace at a break is dropped.
    - A part ends, by preference: at a blank line, a line break, a sentence end (`.`, `!`, `?`,
      `…` before whitespace), a space, and only failing all those in the middle of a word. A
      preferred break is passed over for a lesser one when it would leave the part less than
      half full.
    - A fenced code block that fits in one part is never split; a larger one is split like text
      (its fences are not repeated in each part).
    - `numbered=True`: several parts end with a `(i/n)` line, counted within `limit`.
    - `limit` must leave room for at least one character (plus the suffix when numbered),
      else `ValueError`.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    parts = _split(text, limit)
    if not numbered or len(parts) < 2:
        return parts
    # The suffix length depends on the part count, which depends on the room left: widen the
    # reserve until the count's digits stop growing (at most a few rounds).
    digits = len(str(len(parts)))
    while True:
        room = limit - len(_suffix(10**digits - 1, 10**digits - 1))
        if room < 1:
            raise ValueError(f"limit {limit} leaves no room for numbered parts")
        parts = _split(text, room)
        if len(str(len(parts))) <= digits:
            return number_parts(parts)
        digits = len(str(len(parts)))
