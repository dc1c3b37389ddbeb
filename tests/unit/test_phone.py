"""ID1: every number is stored as international digits without `+` (fonnte.md §3)."""

from __future__ import annotations

import re

import pytest

from wagate.domain.phone import InvalidPhoneNumber, is_group_chat, normalise_phone


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("081200000001", "6281200000001"),  # trunk 0 → 62
        ("0812-3456-7890", "6281234567890"),
        ("(0812) 3456 7890", "6281234567890"),
        ("0812.3456.7890", "6281234567890"),
        ("+62 812-3456-7890", "6281234567890"),
        ("+6281234567890", "6281234567890"),
        ("81234567890", "6281234567890"),  # mobile typed without its 0
        ("8123 4567 890", "6281234567890"),
        ("6281234567890", "6281234567890"),  # already canonical
        ("  6281234567890\n", "6281234567890"),
        ("006281234567890", "6281234567890"),  # 00 international prefix
    ],
)
def test_indonesian_forms_become_62_digits(typed: str, canonical: str) -> None:
    assert normalise_phone(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("+1 415 555 2671", "14155552671"),
        ("+1 (415) 555-2671", "14155552671"),
        ("+44 20 7946 0958", "442079460958"),
        ("0044 20 7946 0958", "442079460958"),
        ("14155552671", "14155552671"),
        ("+972 98-765-4321", "972987654321"),
    ],
)
def test_other_country_codes_are_kept(typed: str, canonical: str) -> None:
    assert normalise_phone(typed) == canonical


def test_canonical_form_is_a_fixed_point() -> None:
    for typed in ("081200000001", "+1 415 555 2671", "0044 20 7946 0958"):
        once = normalise_phone(typed)
        assert normalise_phone(once) == once


def test_other_default_country_replaces_the_trunk_zero() -> None:
    assert normalise_phone("07946 0958 12", default_country="44") == "447946095812"


def test_bare_8_rule_applies_only_for_indonesia() -> None:
    assert normalise_phone("8123456789", default_country="44") == "8123456789"


@pytest.mark.parametrize(
    "group", ["120363000000000001@g.us", "  120363000000000001@g.us", "628123-1600000000@g.us"]
)
def test_group_ids_are_returned_unchanged(group: str) -> None:
    assert normalise_phone(group) == group.strip()
    assert is_group_chat(group.strip())


def test_a_number_is_not_a_group_chat() -> None:
    assert not is_group_chat("6281234567890")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "abc",
        "0812abc4567",
        "62812345678x",
        "12345",  # too short
        "0123",
        "+1234567890123456",  # 16 digits: longer than E.164 allows
        "++6281234567890",
        "62 812 / 3456",
    ],
)
def test_unreadable_input_raises_invalid_phone_number(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone(raw)


@pytest.mark.parametrize("raw", ["62812345678²", "٠٨١٢٣٤٥٦٧٨٩٠"], ids=["superscript", "arabic"])
def test_result_is_only_ever_ascii_digits(raw: str) -> None:
    try:
        result = normalise_phone(raw)
    except InvalidPhoneNumber:
        return
    assert re.fullmatch(r"[0-9]{7,15}", result), result


def test_invalid_phone_number_is_a_value_error_that_does_not_echo_the_number() -> None:
    with pytest.raises(ValueError, match="not a phone number") as caught:
        normalise_phone("0812abc4567")
    assert "0812abc4567" not in str(caught.value)
