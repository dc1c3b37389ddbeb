"""Phone-number normalisation (requirement ID1).

Every number is stored and compared in one canonical form: international digits, no `+`.
Indonesian users type local forms (`0812…`, `812…`, `+62 812-…`); providers send `628…`.
"""

from __future__ import annotations

import re

INDONESIA = "62"
_SEPARATORS = re.compile(r"[\s\-().]")
_GROUP_SUFFIX = "@g.us"


class InvalidPhoneNumber(ValueError):
    """The text cannot be read as a phone number."""


def normalise_phone(raw: str, default_country: str = INDONESIA) -> str:
    """Return `raw` as international digits (`6281234567890`).

    `0…` takes the default country code in place of the trunk `0`; a bare `8…` (an Indonesian
    mobile typed without its `0`) gets the country code prefixed; `+`/`00` prefixes are dropped.
    Group ids (`…@g.us`) are returned unchanged: they are chat ids, not numbers.
    """
    bare = _SEPARATORS.sub("", raw.strip())
    if bare.startswith("8") and default_country == INDONESIA:
        return _checked(INDONESIA + bare, raw)
    return normalise_international(raw, default_country)


def normalise_international(raw: str, default_country: str = INDONESIA) -> str:
    """For numbers a provider gives (Meta `wa_id`, Fonnte `sender`), which are international
    already: only separators, `+`/`00` and a trunk `0` are dealt with. The bare-`8` rule of
    `normalise_phone` would turn Japanese (81…), Korean (82…) or Chinese (86…) numbers into
    Indonesian ones, so it does not apply here."""
    text = raw.strip()
    if text.isdigit() and text.isascii() and text[0] != "0" and 7 <= len(text) <= 15:
        return text  # already canonical (what providers send): nothing to strip or check
    if text.endswith(_GROUP_SUFFIX):
        return text
    text = _SEPARATORS.sub("", text)
    if text.startswith("+"):
        text = text[1:]
    elif text.startswith("00"):
        text = text[2:]
    elif text.startswith("0"):
        text = default_country + text[1:]
    return _checked(text, raw)


def _checked(text: str, raw: str) -> str:
    # ASCII only: str.isdigit() also accepts superscripts and Arabic-Indic digits.
    if not (text.isascii() and text.isdigit()) or not 7 <= len(text) <= 15:
        raise InvalidPhoneNumber(f"not a phone number: {len(raw)} characters")
    return text


def is_group_chat(chat_id: str) -> bool:
    return chat_id.endswith(_GROUP_SUFFIX)
