"""Text carried in a template's body parameter (TP1, CP5): fitted to what Meta accepts. Pure.

Meta refuses a body parameter holding a new line or a tab, or more than four spaces in a row
(error 132018), and a template body — its own text and the values put into it — longer than
1,024 characters. A message that missed the 24-hour window goes out inside the out_of_window
template, and such messages have paragraphs (the disclaimer is one) and run to WhatsApp's 4,096
characters: sent unchanged, the fallback would fail exactly when it is needed. So its paragraphs
are joined on one line, its spaces collapsed, and a text still too long is cut at a word
boundary, ending with a note that says it was cut.
"""

from __future__ import annotations

import re

# Meta's cap on a template's body: its fixed text plus every parameter value.
TEMPLATE_BODY_LIMIT = 1024
# What stands between two paragraphs once they share one line.
PARAGRAPH_JOINER = " · "
# Ends a text that had to be cut. It promises only what happens: a reply reopens the window and
# the conversation goes on (the full answer is in the assistant's history).
CUT_NOTE = "… (pesan terpotong; balas pesan ini untuk melanjutkan)"
# Used instead of the note when the limit leaves no room for it.
ELLIPSIS = "…"

# A run of whitespace holding at least one line break or tab (the separators str.splitlines()
# knows, so no Unicode line separator slips through), with the blanks around it.
_BREAKS = re.compile(r"\s*[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+\s*")
# Two or more blanks in a row (spaces, no-break spaces, ideographic spaces…).
_BLANKS = re.compile(r"\s{2,}")


def one_line(text: str) -> str:
    """`text` on one line: paragraphs joined by " · ", every run of blanks one space."""
    return _BLANKS.sub(" ", _BREAKS.sub(PARAGRAPH_JOINER, text.strip()))


def length(text: str) -> int:
    """A text's length as Meta may count it: in UTF-16 code units, so an emoji counts two.
    Never less than the number of characters, so a text within it is within either count."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, *, limit: int, cut_note: str = CUT_NOTE) -> str:
    """`text` as one template parameter of at most `limit` (UTF-16 units): on one line and, when
    too long, cut at a word boundary with `cut_note` at its end (an ellipsis alone when the
    note would not fit)."""
    line = one_line(text)
    if length(line) <= limit:
        return line
    note = one_line(cut_note)
    if length(note) >= limit:
        note = ELLIPSIS if limit >= length(ELLIPSIS) else ""
    head = _prefix(line, limit - length(note))
    cut_inside_a_word = len(head) < len(line) and not line[len(head)].isspace()
    boundary = head.rfind(" ")
    # Back to the last word boundary, unless that would throw away more than half the room
    # (one very long word, a URL): then the word is cut where the room ends.
    if cut_inside_a_word and boundary > len(head) // 2:
        head = head[:boundary]
    # No dangling paragraph joiner or blank before the note.
    return head.rstrip(" ·") + note


def _prefix(text: str, room: int) -> str:
    """The longest start of `text` within `room` UTF-16 units (never half a character)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            return text[:index]
    return text
