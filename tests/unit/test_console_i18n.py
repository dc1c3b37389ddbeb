"""Every text the console shows in its templates and page modules has its Indonesian."""

from __future__ import annotations

import re
from pathlib import Path

from wagate.web.console.i18n import indonesian, translator
from wagate.web.console.nav import SECTIONS

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "wagate" / "web" / "console"
# _("…") or _('…') in templates and Python, on one line.
CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def used_texts() -> set[str]:
    texts: set[str] = set()
    for path in [*CONSOLE.rglob("*.html"), *CONSOLE.rglob("*.py")]:
        for match in CALL.finditer(path.read_text()):
            texts.add(match.group(1) if match.group(1) is not None else match.group(2))
    texts.update(section.label for section in SECTIONS)
    return texts


def test_every_console_text_has_its_indonesian() -> None:
    missing = sorted(t for t in used_texts() if t not in indonesian())
    assert not missing, f"add these to a file in web/console/locale/: {missing}"


def test_english_passes_through_and_indonesian_translates() -> None:
    assert translator("en")("Sign in") == "Sign in"
    assert translator("id")("Sign in") == "Masuk"
    assert translator("id")("a text nobody translated") == "a text nobody translated"
