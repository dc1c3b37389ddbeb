"""The console's two languages (OB4): Indonesian by default, English on request.

Templates and handlers write English (`_("Sign in")`); `locale/*.toml` hold the Indonesian
for each English text, one file per part of the console so that parts are added without
touching each other's file. A text without a translation shows in English, and a test
(tests/unit/test_console_i18n.py) lists any the templates use that lack one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources

LANGUAGES = ("id", "en")
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
Translate = Callable[[str], str]


@cache
def indonesian() -> dict[str, str]:
    """Every English text's Indonesian, from all files of `locale/`."""
    texts: dict[str, str] = {}
    folder = resources.files("wagate.web.console") / "locale"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            for english, translated in tomllib.loads(entry.read_text("utf-8")).items():
                if not isinstance(translated, str):
                    raise ValueError(f"locale/{entry.name}: {english!r} is not a text")
                texts[english] = translated
    return texts


def translator(language: str) -> Translate:
    if language != "id":
        return _same
    texts = indonesian()

    def translate(english: str) -> str:
        return texts.get(english, english)

    return translate


def _same(english: str) -> str:
    return english


def pick_language(cookie: str | None, default: str) -> str:
    return cookie if cookie in LANGUAGES else default
