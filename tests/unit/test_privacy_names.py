"""CP1: person names — the known names of the conversation, and names introduced by honorifics,
roles, kinship words or the writer ("nama saya …", "a.n. …")."""

from __future__ import annotations

import pytest

from wagate.domain.privacy import find_pii


def names(text: str, *known: str) -> list[str]:
    return [s.value for s in find_pii(text, known_names=known) if s.kind.value == "NAMA"]


# ---------------------------------------------------------------- known names


def test_a_known_full_name_matches_whole_in_any_case() -> None:
    assert names("tolong sampaikan ke budi santoso ya", "Budi Santoso") == ["budi santoso"]
    assert names("a.n. BUDI  SANTOSO", "Budi Santoso") == ["BUDI  SANTOSO"]


def test_known_name_words_match_when_written_as_a_name() -> None:
    known = ("Budi 🙏", "Budi Santoso, S.H.")
    assert names("Salam, Santoso sekeluarga", *known) == ["Santoso"]
    assert names("Budi mau tanya", *known) == ["Budi"]
    assert names("tolong ke pak budi ya", *known) == ["budi"]  # lowercase after an honorific
    assert names("salam, budi", *known) == ["budi"]  # signing off
    assert names("budi disini kak", *known) == ["budi"]


def test_known_name_words_that_are_ordinary_words_stay_words() -> None:
    known = ("Bagus Prasetyo", "Bagus Prasetyo")
    assert names("pelayanannya bagus, makasih", *known) == []
    assert names("budidaya ikan", "Budi Santoso") == []  # whole words only


def test_adjacent_known_words_become_one_name() -> None:
    assert names("Santoso Budi hadir", "Budi Santoso") == ["Santoso Budi"]


def test_degrees_emoji_and_short_or_common_words_in_profile_names_are_ignored() -> None:
    known = ("~Rina~ 🌸", "Toko Rina, S.H.", "Al")
    assert names("Toko buka jam 8, S.H. itu gelar, Al", *known) == []
    assert names("Rina di sini", *known) == ["Rina"]


def test_unrelated_known_names_do_not_leak_into_other_text() -> None:
    assert names("mohon info jadwal sidang", "Budi Santoso") == []


# ---------------------------------------------------------------- honorifics and intros


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pak Budi Santoso sudah datang?", ["Budi Santoso"]),
        ("pagi bu Ani, berkasnya sdh", ["Ani"]),
        ("Bpk. H. Ahmad Fauzi", ["Ahmad Fauzi"]),
        ("Ibu Dr. Ratna Sari Dewi, S.H., M.H.", ["Ratna Sari Dewi"]),
        ("Sdr. Andi dan Sdri. Rina", ["Andi", "Rina"]),
        ("titip salam buat Mas Gilang", ["Gilang"]),
        ("Kak Intan 🙏", ["Intan"]),
        ("dr. Andi Wijaya, Sp.PD", ["Andi Wijaya"]),
        ("Pak A. Yani", ["A. Yani"]),
        ("Dear Mr. Thompson", ["Thompson"]),
        ("Notaris Hendra Gunawan", ["Hendra Gunawan"]),
        ("Terlapor Hendrik Simatupang", ["Hendrik Simatupang"]),
        ("anak saya, Muhammad Rizki Ramadhan (17 th)", ["Muhammad Rizki Ramadhan"]),
        ("ibu dari Ahmad Zaki", ["Ahmad Zaki"]),
        ("namanya Yusuf Maulana", ["Yusuf Maulana"]),
        ("nama saya Siti Rahayu", ["Siti Rahayu"]),
        ("nama saya andi pratama mau tanya", ["andi pratama"]),
        ("nama saya Budi Santoso buat surat kuasa", ["Budi Santoso"]),
        ("Nama lengkap: RINA WATI", ["RINA WATI"]),
        ("Saya Nadia dari Surabaya", ["Nadia"]),
        ("sy Agus, td sdh telp", ["Agus"]),
        ("tf ke BCA a.n. RIZKY AMALIA", ["RIZKY AMALIA"]),
        ("an RIZKY AMALIA", ["RIZKY AMALIA"]),
        ("atas nama Lestari Handayani", ["Lestari Handayani"]),
        ("Pak Lukman Hakim", ["Lukman Hakim"]),  # Hakim: the judge first, a surname after
    ],
)
def test_introduced_names(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Yth. Bapak/Ibu, mohon maaf",
        "Ibu Kota Nusantara",
        "Pak RT minta surat pengantar",
        "Bu Lurah blm tanda tangan",
        "Kak, mau tanya",
        "Bapak Presiden",
        "Ibu Hakim menunda sidang",
        "Mas, ini gimana",
        "Pak, Senin bisa ketemu?",
        "Baik Bu. Besok saya ke kantor",
        "Siap Pak Terima kasih",
        "Bapak Kepala Dinas sdh disposisi",
        "Saya Mau konsultasi",
        "saya mau tanya",
        "nama saya belum terdaftar",
        "a.n. PT Sinar Abadi",
        "a.n. Kantor Hukum Wijaya & Rekan",
        "talk to an AI assistant after an OTP check via an API",
        "Hakim Ketua dan Panitera Pengganti",
        "Selamat Hari Raya, mohon maaf lahir batin",
        "Pak\nBudi",  # a name does not start on the next line
        "pak budi",  # unknown and lowercase: nothing marks it as a name
    ],
)
def test_not_names(text: str) -> None:
    assert names(text) == []


def test_a_name_stops_at_four_words() -> None:
    assert names("Pak Satu Dua Tiga Empat Lima") == ["Satu Dua Tiga Empat"]
