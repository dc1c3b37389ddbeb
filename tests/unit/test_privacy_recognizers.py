"""CP1: phone, e-mail, NPWP and bank-account recognisers, and how overlaps are settled."""

from __future__ import annotations

import pytest

from wagate.domain.privacy import EntityType, Span, find_pii
from wagate.domain.privacy.spans import resolve


def found(text: str, *, known_names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(s.kind.value, s.value) for s in find_pii(text, known_names=known_names)]


def test_spans_point_at_their_values() -> None:
    text = "NIK 3171012304900001, hp 0812-3456-7890, a.n. BUDI SANTOSO, x@y.co.id"
    spans = find_pii(text)
    assert [text[s.start : s.end] for s in spans] == [s.value for s in spans]
    assert [s.start for s in spans] == sorted(s.start for s in spans)


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "phone",
    [
        "0812-3456-7890",
        "0812 3456 7890",
        "081234567890",
        "0812.3456.7890",
        "08123456789",
        "0857 1234 567",
        "081 2345 67890",
        "+62 812-3456-7890",
        "+62 812 3456 7890",
        "+6281234567890",
        "+62-812-3456-7890",
        "6281234567890",
        "62 857 1122 3344",
        "+62 (0)812 9876 5432",
        "(021) 555-1234",
        "(021) 2960 1234",
        "021-5551234",
        "021 5551 234",
        "(0274) 512345",
        "+62 21 5551234",
        "+1 415 555 2671",
        "+1 (646) 555-0198",
        "+44 20 7946 0958",
        "+44 7911 123456",
        "+65 9123 4567",
        "+61 412 345 678",
        "+60 12-345 6789",
        "+81 90-1234-5678",
        "+966 50 123 4567",
    ],
)
def test_phone_formats(phone: str) -> None:
    assert found(f"hubungi saya di {phone} ya") == [("TELEPON", phone)]


def test_whatsapp_links_and_several_numbers() -> None:
    assert found("wa.me/6281234567890") == [("TELEPON", "6281234567890")]
    assert found("0812-3456-7890/0813 1111 2222") == [
        ("TELEPON", "0812-3456-7890"),
        ("TELEPON", "0813 1111 2222"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "biaya Rp 1.500.000 ya",  # 1500000 is an Indonesian service number
        "Rp1.500.000,-",
        "sidang tgl 17-08-2024 jam 10.30",
        "2024-08-17 pukul 09:15",
        "INV-2024-000123",
        "INV/20240817/MPL/0981323786",  # glued to an invoice id
        "resi J&T JP0765145368",  # glued to letters
        "file 001_085175500021e53e.txt",  # part of a hash
        "call center 1500-888 atau 14045",
        "kode OTP 482913",
        "versi 10.4.2",
        "8123456789",  # a mobile without its 0 is too ambiguous
    ],
)
def test_not_phones(text: str) -> None:
    assert [kind for kind, _ in found(text)] == []


def test_a_plate_is_a_plate_not_a_phone() -> None:
    # was a case of test_not_phones; since issue 11 plates are masked as plates
    assert found("mobil B 1234 XYZ") == [("PLAT", "B 1234 XYZ")]


def test_account_after_a_bank_name_wins_over_a_landline_reading() -> None:
    # 0241234567 is also Semarang 024 + 7 digits
    assert found("rek BNI 0241234567") == [("REKENING", "0241234567")]
    assert found("rekening BNI saya 023-245-1512") == [("REKENING", "023-245-1512")]
    # …but a mobile number stays a phone even there (e-wallets, contact numbers)
    assert found("rek BCA, hp 0812-3456-7890") == [("TELEPON", "0812-3456-7890")]


# ---------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    "address",
    [
        "budi@gmail.com",
        "budi.santoso+kasus@yahoo.co.id",
        "humas@kemenkumham.go.id",
        "a.b_c-d@student.unpad.ac.id",
        "BUDI.S@GMAIL.COM",
        "sekretariat@pn-jakartaselatan.go.id",
    ],
)
def test_emails(address: str) -> None:
    assert found(f"kirim ke {address}.") == [("EMAIL", address)]


def test_not_emails() -> None:
    assert found("@budi di twitter, harga 5@10rb, a@b") == []


def test_an_email_swallows_the_name_inside_it() -> None:
    assert found("budi.santoso@gmail.com", known_names=("Budi Santoso",)) == [
        ("EMAIL", "budi.santoso@gmail.com")
    ]


# ---------------------------------------------------------------- NPWP


@pytest.mark.parametrize(
    "text",
    [
        "01.234.567.8-901.000",
        "001.234.567.8-901.000",
        "01 234 567 8 901 000",
        "NPWP saya 012345678901000",
        "npwp: 0012345678901000",
        "NPWP (16 digit) 0012 3456 7890 1000",
        "012345678901000 (NPWP)",
    ],
)
def test_npwp_forms(text: str) -> None:
    [(kind, _)] = found(text)
    assert kind == "NPWP"


def test_npwp_keyword_claims_a_nik_shaped_number() -> None:
    # Since 2024 an individual's NPWP is their NIK; the word decides which it is here.
    assert found("NPWP 3171012304900001") == [("NPWP", "3171012304900001")]
    assert found("NIK 3171012304900001") == [("NIK", "3171012304900001")]


def test_npwp_word_labels_only_its_own_number() -> None:
    text = "no ktp 32.27.30.230699.0145 | NPWP saya 80.413.086.5-549.000"
    assert found(text) == [("NIK", "32.27.30.230699.0145"), ("NPWP", "80.413.086.5-549.000")]


@pytest.mark.parametrize(
    "text",
    [
        "kode billing 012345678901000",
        "resi 123456789012345",
        "NPWP belum ada, resi 0123456789012345",
    ],
)
def test_bare_fifteen_digit_numbers_are_not_npwp(text: str) -> None:
    assert [kind for kind, _ in found(text)] != ["NPWP"]


# ---------------------------------------------------------------- bank accounts


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("tf ke rek BCA 1234567890", "1234567890"),
        ("no rek: 123-456-7890 (BCA)", "123-456-7890"),
        ("norek mandiri 1370012345678", "1370012345678"),
        ("Rekening BRI 0123-01-012345-50-1 a.n. Budi", "0123-01-012345-50-1"),
        ("1234567890 (BNI)", "1234567890"),
        ("transfer ke BSI 7123456789 ya", "7123456789"),
        ("rek bca 8720 1234 56 an. Lestari", "8720 1234 56"),
        ("Rekening tujuan: 1230007654321 (Bank Mandiri)", "1230007654321"),
    ],
)
def test_accounts_near_bank_words(text: str, number: str) -> None:
    assert ("REKENING", number) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "nomor 1234567890 itu apa ya",  # no bank word
        "sdh transfer Rp 2.500.000 ke BCA",  # an amount
        "transfer 15.000.000 ke BCA",  # dotted thousands
        "transfer ke BCA tgl 17-08-2024",  # a date
        "order 2408171234567 sdh sy transfer",  # names itself an order
        "invoice 2024081700123 lunas via BCA",
        "transfer 1234567 ke BCA",  # 7 digits
        "transfer ke BCA 12345678901234567",  # 17 digits
        "tf ke rek BCA dulu\nresi anteraja 10009869765788 sdh diterima",  # labelled a resi
        "norek bca nanti\nnomor kartu member 1974 1031 0858 0000",  # labelled a card
    ],
)
def test_not_accounts(text: str) -> None:
    assert [kind for kind, _ in found(text)] == []


def test_a_valid_nik_near_a_bank_word_is_a_nik() -> None:
    assert found("a.n. pemilik rekening, NIK 3171012304900001") == [("NIK", "3171012304900001")]


def test_an_account_run_that_swallowed_the_next_number_is_split() -> None:
    assert found("rek BCA 1234567890 08123456789") == [
        ("REKENING", "1234567890"),
        ("TELEPON", "08123456789"),
    ]


# ---------------------------------------------------------------- overlaps


def span(start: int, end: int, kind: EntityType) -> Span:
    return Span(start=start, end=end, kind=kind, value="x" * (end - start))


def test_resolve_prefers_rank_then_length_regardless_of_order() -> None:
    nik = span(0, 16, EntityType.NIK)
    phone = span(0, 12, EntityType.TELEPON)
    account = span(0, 16, EntityType.REKENING)
    name = span(20, 24, EntityType.NAMA)
    longer_name = span(20, 30, EntityType.NAMA)
    for candidates in (
        [nik, phone, account, name, longer_name],
        [longer_name, name, account, phone, nik],
    ):
        assert resolve(candidates) == [nik, longer_name]


def test_resolve_collapses_duplicates_and_keeps_disjoint_spans() -> None:
    a, b = span(0, 4, EntityType.NAMA), span(5, 9, EntityType.NAMA)
    assert resolve([a, b, a]) == [a, b]


def test_a_number_at_the_start_of_a_line_is_found() -> None:
    spans = find_pii("Halo\n0812-3456-7890")
    assert [(s.kind.value, s.value) for s in spans] == [("TELEPON", "0812-3456-7890")]
