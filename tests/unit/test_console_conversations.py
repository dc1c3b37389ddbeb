"""The Conversations pages' pure parts: how a search text matches an opened profile, which run
an outbound row belongs to, and how times and messages are shown."""

from __future__ import annotations

import pytest

from wagate.storage.queries import _matches, _run_key
from wagate.web.console.conversations import _insight, message_text, when

PROFILE = {
    "name": "Sari Wulandari",
    "username": None,
    "phone": "6281234567890",
    "key": "6281234567890",
}


@pytest.mark.parametrize(
    "needle",
    ["sari", "WULAN", "6281234567890", "4567", "812-3456", "+62 812 3456", "sari wulandari"],
)
def test_a_name_part_or_digits_of_the_number_match(needle: str) -> None:
    assert _matches(PROFILE, needle)


@pytest.mark.parametrize("needle", ["budi", "999", "sari-wulandari", "08123 x"])
def test_other_text_does_not_match(needle: str) -> None:
    assert not _matches(PROFILE, needle)


def test_an_empty_profile_matches_nothing() -> None:
    assert not _matches({}, "a")


def test_an_ai_reply_names_its_run_and_other_rows_do_not() -> None:
    assert _run_key("run:12:345:reply:0") == "run:12:345"
    assert _run_key("run:12:345:consent_request") == "run:12:345"
    assert _run_key("human:12:console:abc") is None
    assert _run_key("review:7:reply:0") is None


def test_times_show_in_utc_minutes() -> None:
    assert when("2026-03-02T16:05:59+07:00") == "2026-03-02 09:05"
    assert when(None) == "" and when("") == ""


def test_a_message_shows_its_text_caption_or_kind() -> None:
    assert message_text({"kind": "text", "body": "halo"}) == "halo"
    assert message_text({"text": "jawaban"}) == "jawaban"
    assert message_text({"kind": "media", "mediaType": "image", "caption": "foto"}) == "foto"
    assert message_text({"kind": "media", "mediaType": "image"}) == "[media]"
    assert message_text(None) == ""


def test_a_run_with_missing_fields_shows_them_empty() -> None:
    shown = _insight({"runKey": "run:1:2", "at": "2026-03-02T09:00:00+00:00", "sources": [1]})
    assert shown["when"] == "2026-03-02 09:00" and shown["sources"] == []
    assert shown["maskedQuestion"] == "" and shown["rules"] == [] and shown["zone"] == ""
