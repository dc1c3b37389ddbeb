"""CP1: the NIK validator and recogniser — 16 digits in the PP KK CC DDMMYY SSSS layout."""

from __future__ import annotations

import pytest

from wagate.domain.privacy import EntityType, find_pii, is_valid_nik
from wagate.domain.privacy.nik import PROVINCE_CODES, find_niks

MALE = "3171012304900001"  # DKI Jakarta, Jakarta Pusat, 23-04-1990
FEMALE = "3273456304900002"  # Jawa Barat, Kota Bandung, 23-04-1990 + 40


@pytest.mark.parametrize(
    "nik",
    [
        MALE,
        FEMALE,
        "1101010101000001",  # Aceh, 01-01-2000 (or 1900)
        "9601012902000001",  # Papua Barat Daya (96, since 2022), 29-02-2000 (leap)
        "9301016902960001",  # Papua Selatan, woman born 29-02-1996
        "5171037112990001",  # Bali, woman born 31-12-1999 (71 = 31 + 40)
        "3578790101859999",  # regency 79 (the last city code)
        "3578990101850001",  # district 99
    ],
)
def test_valid_niks(nik: str) -> None:
    assert is_valid_nik(nik)


@pytest.mark.parametrize(
    ("nik", "why"),
    [
        ("1071012304900001", "province 10 does not exist"),
        ("2071012304900001", "province 20 does not exist"),
        ("9771012304900001", "province 97 does not exist"),
        ("0071012304900001", "province 00"),
        ("3100012304900001", "regency 00"),
        ("3180012304900001", "regency 80"),
        ("3171002304900001", "district 00"),
        ("3171013204900001", "day 32"),
        ("3171014004900001", "day 40 is neither a man's nor a woman's day"),
        ("3171017204900001", "day 72 = 32 + 40"),
        ("3171010004900001", "day 00"),
        ("3171012313900001", "month 13"),
        ("3171012300900001", "month 00"),
        ("3171013102900001", "31 February"),
        ("3171013104900001", "31 April"),
        ("3171012902010001", "29 February 1901/2001, neither a leap year"),
        ("3171016902230001", "a woman born 29 February 1923/2023"),
        ("3171012304900000", "serial 0000"),
        ("317101230490001", "15 digits"),
        ("31710123049000011", "17 digits"),
        ("3171O12304900001", "a letter O"),
        ("３１７１０１２３０４９００００１", "full-width digits"),
    ],
)
def test_invalid_niks(nik: str, why: str) -> None:
    assert not is_valid_nik(nik), why


def test_feb_29_of_00_is_valid_because_2000_was_a_leap_year() -> None:
    assert is_valid_nik("3171012902000001")


def test_all_38_province_codes_including_the_new_papua_provinces() -> None:
    assert len(PROVINCE_CODES) == 38
    assert {92, 93, 94, 95, 96} <= PROVINCE_CODES


@pytest.mark.parametrize(
    "written",
    [
        "3171012304900001",
        "3171 0123 0490 0001",
        "3171-0123-0490-0001",
        "3171.0123.0490.0001",
        "317101 230490 0001",
        "317101.230490.0001",
        "31.71.01.230490.0001",
    ],
)
def test_niks_are_found_however_grouped(written: str) -> None:
    text = f"NIK saya {written}, mohon dicek"
    [span] = find_pii(text)
    assert span.kind is EntityType.NIK
    assert span.value == written
    assert text[span.start : span.end] == written


def test_a_valid_nik_is_found_without_a_keyword() -> None:
    assert [s.value for s in find_niks(f"ini punya suami {MALE} ya")] == [MALE]


@pytest.mark.parametrize(
    "text",
    [
        "no resi 1071012304900001 blm sampai",  # invalid province
        "kode booking 3171013204900001",  # day 32
        "kartu 4111 1111 1111 1111",  # a card number
        "ID 31710123049000011",  # 17 digits
        "INV-3171012304900001",  # glued to an identifier
        "12.3171012304900001",  # part of a decimal
        "3171 0123-0490.0001",  # inconsistent grouping: not one number
    ],
)
def test_other_sixteen_digit_numbers_are_not_niks(text: str) -> None:
    assert list(find_niks(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "NIK saya 3171013204900001",  # day 32: mistyped, but the writer says it is a NIK
        "no. KTP: 3578 2606 9000 1",  # 13 digits: a digit missing
        "e-KTP 31710123049000011",  # 17 digits: one too many
    ],
)
def test_a_number_the_writer_calls_a_nik_is_masked_even_when_impossible(text: str) -> None:
    [span] = find_niks(text)
    assert span.kind is EntityType.NIK


def test_nik_keyword_does_not_reach_across_other_numbers() -> None:
    assert list(find_niks("NIK belum ada, no resi 3578 2606 9000 1")) == []
    assert list(find_niks("NIK 12 dan 3578260690001")) == []
