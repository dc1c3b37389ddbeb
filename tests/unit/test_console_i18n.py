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


def test_the_pager_keeps_the_query_and_stops_at_the_ends() -> None:
    from wagate.web.console.render import environment

    pager = environment().get_template("_pager.html").module.pager  # type: ignore[attr-defined]
    middle = str(pager(translator("en"), "/console/accounts", 2, 3, "budi & co"))
    assert 'href="/console/accounts?page=1&amp;q=budi%20%26%20co"' in middle
    assert 'href="/console/accounts?page=3&amp;q=budi%20%26%20co"' in middle
    first = str(pager(translator("en"), "/console/users", 1, 2))
    assert "Previous" not in first and 'href="/console/users?page=2"' in first
    assert str(pager(translator("en"), "/console/users", 1, 1)).strip() == ""
