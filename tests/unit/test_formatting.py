"""WhatsApp formatting: Markdown from the model → WhatsApp markup, and long answers → parts."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.formatting import (
    WHATSAPP_TEXT_LIMIT,
    number_parts,
    split_message,
    to_whatsapp,
)

# --- to_whatsapp: emphasis --------------------------------------------------------------------


def test_double_asterisk_bold_becomes_whatsapp_bold() -> None:
    assert to_whatsapp("a **bold** word") == "a *bold* word"


def test_double_underscore_bold_becomes_whatsapp_bold() -> None:
    assert to_whatsapp("a __bold__ word") == "a *bold* word"


def test_single_asterisk_italic_becomes_underscore_italic() -> None:
    assert to_whatsapp("an *italic* word") == "an _italic_ word"


def test_underscore_italic_stays_underscore_italic() -> None:
    assert to_whatsapp("an _italic_ word") == "an _italic_ word"


def test_converted_bold_is_not_read_again_as_italic() -> None:
    assert to_whatsapp("**bold** then *italic* then **more**") == (
        "*bold* then _italic_ then *more*"
    )


def test_bold_italic_becomes_bold_around_italic() -> None:
    assert to_whatsapp("***both***") == "*_both_*"


def test_double_tilde_strikethrough_becomes_single_tilde() -> None:
    assert to_whatsapp("~~gone~~ and ~kept~") == "~gone~ and ~kept~"


def test_a_single_asterisk_pair_is_read_as_markdown_italic_not_whatsapp_bold() -> None:
    # The documented choice: the input is Markdown from a model, where *x* means italic.
    assert to_whatsapp("*penting*") == "_penting_"


@pytest.mark.parametrize(
    "text",
    [
        "snake_case_name and another_one_here",
        "2 * 3 * 4 = 24",
        "2*3*4 = 24",
        "a * b and c * d",
        "mail john_doe_jr@example.co.id today",
        "https://example.com/_private_/__init__/x*y*",
        "my__var__name",
        "#hashtag is not a heading",
        "1. numbered stays",
        "> a quote stays",
    ],
)
def test_text_that_only_looks_like_markup_is_left_alone(text: str) -> None:
    assert to_whatsapp(text) == text


def test_backslash_escaped_markers_stay_literal() -> None:
    assert to_whatsapp(r"\*not italic\* and \_\_x\_\_") == "*not italic* and __x__"


# --- to_whatsapp: code --------------------------------------------------------------------------


def test_inline_code_span_is_kept_verbatim() -> None:
    assert to_whatsapp("run `**x** _y_ [a](b)` now **ok**") == "run `**x** _y_ [a](b)` now *ok*"


def test_double_backtick_code_span_is_kept_verbatim() -> None:
    assert to_whatsapp("``a `*b*` c``") == "``a `*b*` c``"


def test_fenced_code_block_loses_language_tag_and_keeps_its_content() -> None:
    markdown = "Try:\n\n```python\ndef f(x):  \n    return **x  # *no*\n\n\n\n\n- item\n```\nDone."
    assert to_whatsapp(markdown) == (
        "Try:\n\n```\ndef f(x):  \n    return **x  # *no*\n\n\n\n\n- item\n```\nDone."
    )


def test_tilde_fence_becomes_backtick_fence() -> None:
    assert to_whatsapp("~~~\n# not a heading\n~~~") == "```\n# not a heading\n```"


def test_unclosed_fence_from_a_truncated_answer_is_closed() -> None:
    assert to_whatsapp("```js\nlet a = 1;") == "```\nlet a = 1;\n```"


def test_one_line_triple_backticks_are_a_code_span_not_a_block() -> None:
    assert to_whatsapp("```print(**1**)``` done") == "```print(**1**)``` done"


# --- to_whatsapp: blocks ------------------------------------------------------------------------


@pytest.mark.parametrize("hashes", ["#", "##", "###", "######"])
def test_atx_headings_become_bold_lines(hashes: str) -> None:
    assert to_whatsapp(f"{hashes} Jadwal Layanan") == "*Jadwal Layanan*"


def test_bold_inside_a_heading_is_not_nested() -> None:
    assert to_whatsapp("## The **big** *plan* ##") == "*The big _plan_*"


def test_a_hash_that_ends_a_heading_word_is_kept() -> None:
    assert to_whatsapp("# Belajar C#") == "*Belajar C#*"


def test_setext_heading_becomes_bold_line() -> None:
    assert to_whatsapp("Ringkasan\n=========\nisi") == "*Ringkasan*\nisi"


def test_bullets_become_dots_keeping_nesting_indentation() -> None:
    markdown = "- one\n  - nested **b**\n* two\n+ three\n    * deep"
    assert to_whatsapp(markdown) == "• one\n  • nested *b*\n• two\n• three\n    • deep"


def test_numbered_lists_stay_and_their_items_are_converted() -> None:
    assert to_whatsapp("1. **Daftar**\n2) Bayar") == "1. *Daftar*\n2) Bayar"


def test_link_becomes_text_then_address_in_parentheses() -> None:
    assert to_whatsapp("See [the docs](https://x.org/a_b_c).") == (
        "See the docs (https://x.org/a_b_c)."
    )


def test_link_whose_text_is_its_address_becomes_the_bare_address() -> None:
    assert to_whatsapp("[https://x.org/](https://x.org/) or [x.org](https://x.org)") == (
        "https://x.org/ or https://x.org"
    )


def test_link_address_with_parentheses_is_kept_whole() -> None:
    assert to_whatsapp("[Foo](https://en.wikipedia.org/wiki/Foo_(bar))") == (
        "Foo (https://en.wikipedia.org/wiki/Foo_(bar))"
    )


def test_angle_bracket_autolink_loses_its_brackets() -> None:
    assert to_whatsapp("<https://x.org/__a__>") == "https://x.org/__a__"


def test_image_becomes_alt_text_colon_address() -> None:
    assert to_whatsapp("![Peta kantor](https://x.org/map.png)") == (
        "Peta kantor: https://x.org/map.png"
    )
    assert to_whatsapp("![](https://x.org/map.png)") == "https://x.org/map.png"


@pytest.mark.parametrize("rule", ["---", "***", "___", "- - -", "* * *"])
def test_horizontal_rule_becomes_a_blank_line(rule: str) -> None:
    assert to_whatsapp(f"above\n\n{rule}\n\nbelow") == "above\n\n\nbelow"


def test_table_becomes_pipe_separated_rows_without_the_rule_row() -> None:
    markdown = "| Hari | Jam |\n|:-----|----:|\n| **Senin** | 08.00 |\n| Selasa | 09.00 |\nSelesai."
    assert to_whatsapp(markdown) == "Hari | Jam\n*Senin* | 08.00\nSelasa | 09.00\nSelesai."


def test_more_than_two_blank_lines_collapse_to_two() -> None:
    assert to_whatsapp("a\n\n\n\n\n\nb\n\nc") == "a\n\n\nb\n\nc"


def test_trailing_spaces_and_surrounding_blank_lines_are_stripped() -> None:
    assert to_whatsapp("\n\n  a  \nb\t\n\n") == "  a\nb"


def test_windows_line_endings_are_normalised() -> None:
    assert to_whatsapp("# H\r\n- x\r\n") == "*H*\n• x"


def test_empty_markdown_gives_empty_text() -> None:
    assert to_whatsapp("") == ""


@pytest.mark.parametrize("marker", ["*", "**", "__", "~~", "[", "`"])
def test_a_long_line_of_unpaired_markers_converts_in_linear_time(marker: str) -> None:
    # A model stuck in a loop can emit such a line; quadratic matching took ~10 s here.
    line = f"{marker}a " * 20_000
    started = time.perf_counter()
    assert to_whatsapp(line)
    assert time.perf_counter() - started < 2


_MARKUPISH = st.text(alphabet="ab _*~`#-+|[]()!<>:/.\\\n1", max_size=300)


@given(_MARKUPISH)
def test_conversion_never_leaks_placeholder_characters(markdown: str) -> None:
    assert not re.search(r"[\ue000-\uf8ff]", to_whatsapp(markdown))


# --- split_message --------------------------------------------------------------------------

_SENTENCES = (
    "Pemerintah kota membuka layanan pendaftaran daring bagi seluruh warga.",
    "Apakah Anda sudah menyiapkan KTP dan kartu keluarga?",
    "Jangan lupa datang sebelum pukul sembilan pagi!",
    "Petugas akan membantu proses verifikasi data Anda…",
    "Biaya layanan ini gratis dan tidak dipungut apa pun.",
)


def _sentences(count: int, offset: int = 0) -> str:
    return " ".join(_SENTENCES[(offset + i) % len(_SENTENCES)] for i in range(count))


def _non_space(text: str) -> str:
    return "".join(text.split())


def test_empty_or_blank_text_gives_no_parts() -> None:
    assert split_message("") == []
    assert split_message(" \n\n\t ") == []


def test_text_within_the_limit_is_one_stripped_part() -> None:
    assert split_message("\n  Halo, apa kabar?  \n") == ["Halo, apa kabar?"]


def test_text_of_exactly_the_limit_is_one_part() -> None:
    text = "x" * WHATSAPP_TEXT_LIMIT
    assert split_message(text) == [text]


def test_indonesian_paragraphs_split_at_paragraph_boundaries() -> None:
    paragraphs = [_sentences(6 + i % 5, offset=i) for i in range(30)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 10_000

    parts = split_message(text)

    assert len(parts) >= 3
    assert all(len(part) <= 4096 for part in parts)
    # Every part is whole paragraphs, and together they are all of them, in order.
    assert [p for part in parts for p in part.split("\n\n")] == paragraphs


def test_single_long_paragraph_splits_at_sentence_ends() -> None:
    text = _sentences(200)[:9000].rsplit(" ", 1)[0]
    assert len(text) > 8500 and "\n" not in text

    parts = split_message(text)

    assert len(parts) == 3
    assert all(len(part) <= 4096 for part in parts)
    assert all(part[-1] in ".!?…" for part in parts[:-1])
    assert all(part.startswith(tuple(s.split()[0] for s in _SENTENCES)) for part in parts)
    assert " ".join(parts) == text


def test_lines_without_blank_lines_split_at_line_breaks() -> None:
    lines = [f"{i}. " + "kata " * 12 + "akhir" for i in range(100)]
    parts = split_message("\n".join(lines), limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_words_without_sentence_ends_split_at_spaces() -> None:
    text = " ".join(f"kata{i}" for i in range(2000))
    parts = split_message(text, limit=300)
    assert all(len(part) <= 300 for part in parts)
    assert " ".join(parts) == text


def test_a_word_longer_than_the_limit_is_hard_cut() -> None:
    word = "a" * 5000
    assert split_message(word) == ["a" * 4096, "a" * 904]


def test_a_hard_cut_does_not_separate_a_letter_from_its_accent() -> None:
    text = "x" + "e\u0301" * 3000  # decomposed é: a cut at 4096 would orphan an accent
    parts = split_message(text)
    assert len(parts[0]) == 4095
    assert not parts[1].startswith("\u0301")
    assert "".join(parts) == text


def test_a_short_preface_is_packed_with_the_following_sentences_not_sent_alone() -> None:
    text = "Halo!\n\n" + _sentences(120)
    parts = split_message(text)
    assert parts[0].startswith("Halo!\n\nPemerintah")
    assert len(parts[0]) > 2048


def test_a_code_block_that_fits_is_never_split() -> None:
    block = "```\n" + "\n".join(f"print({i})" for i in range(30)) + "\n```"
    text = _sentences(8) + "\n" + block + "\n" + _sentences(3)
    parts = split_message(text, limit=600)
    assert len(block) <= 600
    assert any(block in part for part in parts)


def test_a_code_block_larger_than_the_limit_is_split_at_lines() -> None:
    block = "```\n" + "\n".join(f"print({i})" for i in range(200)) + "\n```"
    parts = split_message(block, limit=500)
    assert len(parts) > 1
    assert all(len(part) <= 500 for part in parts)
    assert "\n".join(parts) == block


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError):
        split_message("halo", limit=limit)


def test_numbered_parts_end_with_their_position_within_the_limit() -> None:
    text = "\n\n".join(_sentences(4, offset=i) for i in range(60))
    parts = split_message(text, limit=700, numbered=True)
    total = len(parts)
    assert total >= 10  # two-digit counts, so the reserve had to grow
    assert all(len(part) <= 700 for part in parts)
    assert [part.rsplit("\n", 1)[1] for part in parts] == [
        f"({i}/{total})" for i in range(1, total + 1)
    ]


def test_numbered_hard_cut_parts_leave_exact_room_for_the_suffix() -> None:
    parts = split_message("x" * 1000, limit=100, numbered=True)
    # Eleven parts: room is kept for a two-digit "\n(nn/nn)", 8 characters, so 92 of text.
    assert parts[0] == "x" * 92 + "\n(1/11)"
    assert parts[9] == "x" * 92 + "\n(10/11)"
    assert all(len(part) <= 100 for part in parts)


def test_a_numbered_single_part_carries_no_suffix() -> None:
    assert split_message("Halo", numbered=True) == ["Halo"]


def test_a_limit_too_small_for_the_suffix_is_refused_when_numbered() -> None:
    with pytest.raises(ValueError):
        split_message("kata " * 10, limit=6, numbered=True)


def test_number_parts_labels_several_parts_and_leaves_one_alone() -> None:
    assert number_parts(["a", "b"]) == ["a\n(1/2)", "b\n(2/2)"]
    assert number_parts(["a"]) == ["a"]
    assert number_parts([]) == []


_ALPHABET = "abcdeéAB xyz     \n\n\t.,!?…-*_`'\"()0123"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=_ALPHABET, max_size=3000), limit=st.integers(20, 500))
def test_parts_fit_are_never_empty_and_keep_every_character_in_order(text: str, limit: int) -> None:
    parts = split_message(text, limit=limit)

    assert all(len(part) <= limit for part in parts)
    assert all(part and part == part.strip() for part in parts)
    assert _non_space("\n\n".join(parts)) == _non_space(text)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=_ALPHABET, min_size=200, max_size=3000), limit=st.integers(20, 120))
def test_numbered_parts_fit_the_limit_too(text: str, limit: int) -> None:
    parts = split_message(text, limit=limit, numbered=True)
    assert all(len(part) <= limit for part in parts)
