"""WhatsApp's formatting marks in `wagate chat`'s terminal (issue 17, item 2): the disclaimer's
`_…_` reads as italics (or as plain text without colours), never with its marks."""

from __future__ import annotations

import pytest

from wagate.domain.whatsapp_text import for_terminal

DISCLAIMER = "_Jawaban ini dibuat oleh AI dan bukan merupakan nasihat hukum._"


def test_the_disclaimer_loses_its_marks() -> None:
    plain = "Jawaban ini dibuat oleh AI dan bukan merupakan nasihat hukum."
    assert for_terminal(DISCLAIMER, styled=False) == plain
    assert for_terminal(DISCLAIMER, styled=True) == f"\x1b[3m{plain}\x1b[23m"


@pytest.mark.parametrize(
    ("text", "plain", "styled"),
    [
        ("*Langkah 1:* isi formulir", "Langkah 1: isi formulir", "\x1b[1mLangkah 1:\x1b[22m"),
        ("harga ~Rp200.000~ Rp100.000", "harga Rp200.000 Rp100.000", "\x1b[9mRp200.000\x1b[29m"),
        ("ketik `SETUJU` untuk lanjut", "ketik SETUJU untuk lanjut", "\x1b[2mSETUJU\x1b[22m"),
        ("```Pasal 1\nayat 2```", "Pasal 1\nayat 2", "\x1b[2mPasal 1\nayat 2\x1b[22m"),
        ("Bab _I_ dan *II*.", "Bab I dan II.", "\x1b[3mI\x1b[23m"),
    ],
)
def test_each_mark_is_styled_or_dropped(text: str, plain: str, styled: str) -> None:
    assert for_terminal(text, styled=False) == plain
    assert styled in for_terminal(text, styled=True)


@pytest.mark.parametrize(
    "text",
    [
        "nama_file_baru.pdf",  # inside a word
        "2 * 3 * 4 = 24",  # a mark before a space opens nothing
        "5*3*2",
        "_ terbuka",
        "baris _satu\ndua_",  # marks do not span lines
        "",
    ],
)
def test_what_whatsapp_would_not_format_stays_as_typed(text: str) -> None:
    assert for_terminal(text, styled=False) == text
    assert for_terminal(text, styled=True) == text
