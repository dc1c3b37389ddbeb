"""Text the database can hold (IN4, bad input): PostgreSQL's `text` stores neither NUL nor a
lone surrogate (not encodable as UTF-8); input carrying one is refused with a clear error
before it reaches a statement, never as a database error."""

from __future__ import annotations


def storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
