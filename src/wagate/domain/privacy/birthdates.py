"""Birth dates (issue 11): a full date (day, month and year) written after a word that says
it is one — "lahir", "kelahiran", "tgl lahir", "TTL", "DOB", "born" — possibly with the
place between ("TTL: Surabaya, 03-09-1987", "Tempat/tgl lahir Medan, 21 Agustus 1979").

Every other date stays: the AI needs the hearing date, the contract date, the deadline. A
year alone ("kelahiran 1990") stays too: it tells the AI whether someone is a minor and
hardly identifies anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wagate.domain.privacy.spans import EntityType, Span

_MONTHS = (
    r"januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|november"
    r"|nopember|desember|january|february|march|may|june|july|august|october|december"
    r"|jan|feb|mar|apr|jun|jul|agu|agt|agus|ags|aug|sep|sept|okt|oct|nov|des|dec"
)
_DATE = (
    r"(?:\d{1,2}[ \t]*[-/.][ \t]*\d{1,2}[ \t]*[-/.][ \t]*(?:19|20)?\d{2}"
    r"|(?:19|20)\d{2}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}[ \t]*(?:{_MONTHS})\.?,?[ \t]*(?:19|20)\d{{2}})"
)
_CUE = (
    r"tanggal[ \t]+lahir|tgl\.?[ \t]*lahir|tempat[ \t]*[/,&][ \t]*(?:tanggal|tgl\.?)[ \t]*lahir"
    r"|kelahiran|lahir|lhr|ttl|dob|date[ \t]+of[ \t]+birth|born(?:[ \t]+on)?"
)
# Between the cue and the date: "pada tanggal", "tgl", a colon, a place and its comma (up to
# three capitalised or lower-case words), "di Medan"; no digits and no sentence end.
_BIRTH_DATE = re.compile(
    rf"(?<!\w)(?:{_CUE})(?:nya)?(?!\w)"
    r"(?:[ \t]*(?::|-|,|pada|tanggal|tgl\.?|tahun|di|on|saya|anak|nya))*"
    r"(?:[ \t]*[A-Za-z][a-z]+(?:[ \t]+[A-Za-z][a-z]+){0,2}[ \t]*,?)?[ \t]*"
    rf"(?P<date>(?<!\d){_DATE}(?!\d))",
    re.IGNORECASE,
)


def find_birth_dates(text: str) -> Iterator[Span]:
    """Every full date written as someone's birth date (see module doc)."""
    for match in _BIRTH_DATE.finditer(text):
        start, end = match.span("date")
        yield Span(start=start, end=end, kind=EntityType.TGL_LAHIR, value=match["date"])
