"""WhatsApp's formatting marks read somewhere else than WhatsApp (`wagate chat`'s terminal).

WhatsApp shows `*bold*`, `_italic_`, `~strikethrough~`, ```` ```monospace``` ```` and
`` `inline code` `` styled and hides the marks; a terminal would show them as typed (the
disclaimer's `_…_` around a whole sentence). `for_terminal` styles them with ANSI codes where
the terminal takes colours, and otherwise just drops the marks, the way WhatsApp would read.

A mark counts only as WhatsApp counts it: it opens at the start of a word (not inside one, so
`nama_file_baru` stays as it is) before a non-space, and closes after a non-space at a word's
end, on the same line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# ANSI select-graphic-rendition pairs: on, off.
_STYLES = {
    "*": ("\x1b[1m", "\x1b[22m"),  # bold
    "_": ("\x1b[3m", "\x1b[23m"),  # italic
    "~": ("\x1b[9m", "\x1b[29m"),  # strikethrough
}
_MONO = ("\x1b[2m", "\x1b[22m")  # dim: the closest a terminal has to another typeface

_BLOCK = re.compile(r"```(.+?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"(?<![\w`])`(?=\S)([^`\n]+?)(?<=\S)`(?![\w`])")
_MARKS = {
    mark: re.compile(
        rf"(?<![\w{re.escape(mark)}])"  # starts a word
        rf"{re.escape(mark)}(?=[^\s{re.escape(mark)}])"  # opening mark before a non-space
        rf"([^\n]*?[^\s{re.escape(mark)}])"  # the text, on one line
        rf"{re.escape(mark)}(?![\w{re.escape(mark)}])"  # closing mark ends a word
    )
    for mark in _STYLES
}


def for_terminal(text: str, *, styled: bool) -> str:
    """`text` with WhatsApp's marks turned into ANSI styles (`styled`) or removed."""

    def wrap(on_off: tuple[str, str]) -> Callable[[re.Match[str]], str]:
        on, off = on_off

        def replace(match: re.Match[str]) -> str:
            return f"{on}{match[1]}{off}" if styled else match[1]

        return replace

    text = _BLOCK.sub(wrap(_MONO), text)
    text = _INLINE_CODE.sub(wrap(_MONO), text)
    for mark, pattern in _MARKS.items():
        text = pattern.sub(wrap(_STYLES[mark]), text)
    return text
