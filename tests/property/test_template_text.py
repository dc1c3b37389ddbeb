"""Issue 16, item 7: a text carried in a template parameter must be one Meta accepts — no new
line, no tab, no more than four spaces in a row (error 132018), within the template body's
1,024 characters — whatever the answer held. Properties over arbitrary text, plus the cases
that show the fitting reads well (paragraphs joined, a cut at a word boundary, a note)."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from wagate.domain.template_text import (
    CUT_NOTE,
    ELLIPSIS,
    PARAGRAPH_JOINER,
    TEMPLATE_BODY_LIMIT,
    fit,
    length,
    one_line,
)
from wagate.domain.window import Template

# Text heavy in what Meta refuses: line breaks of every kind, tabs, runs of blanks, emoji
# (two UTF-16 units each), and long words.
TRICKY = st.lists(
    st.one_of(
        st.sampled_from(
            [" ", "  ", "     ", "\n", "\n\n", "\r\n", "\t", "\u00a0", "\u2028", "\x85", "\v"]
        ),
        st.sampled_from(["kata", "Pasal", "·", "…", "😀", "https://contoh.id/berkas"]),
        st.characters(codec="utf-8"),
    ),
    max_size=600,
).map("".join)
ANY_TEXT = st.one_of(TRICKY, st.text(max_size=3000))
LIMITS = st.integers(min_value=0, max_value=2 * TEMPLATE_BODY_LIMIT)
# Meta's 132018 and Python's own idea of a line break (str.splitlines()).
FIVE_SPACES = re.compile(r" {5}")


def _acceptable(value: str) -> None:
    assert "\n" not in value and "\t" not in value and "\r" not in value
    assert len(value.splitlines()) <= 1, "no line separator of any kind"
    assert FIVE_SPACES.search(value) is None


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT, limit=LIMITS)
@example(text="kata " * 400, limit=TEMPLATE_BODY_LIMIT)
@example(text="a\n" * 900, limit=900)
@example(text="😀" * 600, limit=901)  # an odd limit: an emoji cannot be split in half
@example(text="x" * 50, limit=3)
def test_a_fitted_text_is_one_meta_accepts_and_never_longer_than_the_limit(
    text: str, limit: int
) -> None:
    value = fit(text, limit=limit)
    _acceptable(value)
    assert length(value) <= limit
    assert len(value) <= limit  # in characters too, however Meta counts


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT, limit=LIMITS)
def test_a_text_that_fits_is_only_put_on_one_line_and_a_cut_one_says_so(
    text: str, limit: int
) -> None:
    line = one_line(text)
    value = fit(text, limit=limit)
    if length(line) <= limit:
        assert value == line
        return
    if limit > length(CUT_NOTE):
        assert value.endswith(CUT_NOTE)
        kept = value.removesuffix(CUT_NOTE)
    else:
        assert value in ("", ELLIPSIS) or value.endswith(ELLIPSIS)
        kept = value.removesuffix(ELLIPSIS)
    assert line.startswith(kept), "what is kept is the text's start, unchanged"


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_one_line_keeps_every_word_and_drops_only_blanks(text: str) -> None:
    line = one_line(text)
    _acceptable(line)
    assert re.search(r"\s\s", line) is None
    assert line == line.strip()
    # Nothing but blanks and joiners is removed or added.
    assert line.replace(PARAGRAPH_JOINER, " ").split() == text.split() or "·" in text


def test_paragraphs_are_joined_and_spaces_collapsed() -> None:
    answer = "Jawaban:\n\n1.  Bawa KTP.\n\t2.      Datang pukul 9.\r\n\n_Bukan nasihat hukum._"
    assert one_line(answer) == (
        "Jawaban: · 1. Bawa KTP. · 2. Datang pukul 9. · _Bukan nasihat hukum._"
    )


def test_a_long_answer_is_cut_at_a_word_boundary_with_the_note() -> None:
    answer = "\n\n".join(f"Paragraf {i}: " + "penjelasan hukum yang panjang " * 8 for i in range(9))
    assert length(one_line(answer)) > TEMPLATE_BODY_LIMIT  # as it was sent: refused
    value = fit(answer, limit=900)
    assert length(value) <= 900 and value.endswith(CUT_NOTE)
    kept = value.removesuffix(CUT_NOTE)
    assert one_line(answer).startswith(kept)
    assert one_line(answer)[len(kept)] == " ", "cut between two words, not inside one"
    assert not kept.endswith((" ", "·"))


def test_one_very_long_word_is_cut_where_the_room_ends() -> None:
    link = "https://contoh.id/" + "a" * 2000
    value = fit(link, limit=100)
    assert value == link[: 100 - length(CUT_NOTE)] + CUT_NOTE


def test_the_out_of_window_template_fits_the_text_into_the_room_its_body_leaves() -> None:
    body = "Balasan dari kantor hukum kami: {{pesan}}"
    template = Template(
        name="balasan_umum", language="id", parameters=("pesan",), purpose="x", body=body
    )
    assert template.room == TEMPLATE_BODY_LIMIT - len("Balasan dari kantor hukum kami: ")
    # The 1,638-character answer seen in the issue, paragraphs and all.
    answer = ("Menurut Pasal 1320 KUHPerdata,\n\tsyarat sahnya perjanjian ada empat.  " * 24)[:1638]
    [value] = template.carrying(answer)
    _acceptable(value)
    assert length(value) <= template.room and value.endswith(CUT_NOTE)
    assert length(body) - len("{{pesan}}") + length(value) <= TEMPLATE_BODY_LIMIT
    # A template without parameters carries nothing (its text is the whole message).
    assert Template(name="sapa", language="id", purpose="x").carrying(answer) == []
