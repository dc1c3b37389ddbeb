"""A question asking for a phone number is answered only by a passage holding one (AI3)."""

from __future__ import annotations

import pytest

from wagate.domain.contact_numbers import (
    ADDRESS_ASKED,
    HOURS_ASKED,
    asks_for_a_number,
    asks_for_an_account,
    asks_for_an_address,
    asks_for_hours,
    holds_a_number,
    holds_a_number_of,
    holds_an_address_of,
    holds_hours_of,
    institutions_asked,
    number_holder,
)


@pytest.mark.parametrize(
    "question",
    [
        "no telp pengadilan agama praya brp?",
        "Nomor telepon Ombudsman perwakilan NTT berapa?",
        "nomer wa sapa 129 brp ya",
        "call center bpjs berapa",
        "telp kantor lbh brp",
        "nomor WA pandawa",
        "gmn cr bikin janji konsul? no wa nya brp",
    ],
)
def test_questions_that_ask_for_a_number(question: str) -> None:
    assert asks_for_a_number(question)


@pytest.mark.parametrize(
    "question",
    [
        "Suami pergi 3 tahun, nomor HP-nya juga sudah tidak aktif. Apa bisa jadi alasan cerai?",
        "data sy disebar pinjol ke semua kontak, bs dipidana gk?",
        "penagih pinjol nagih lewat wa ke temen2 sy, boleh gk?",
        "berapa biaya konsultasi pertama",
        "nomor perkara sy brp ya",
        # The second review's: the writer's own number, or none asked.
        "no wa sy diretas, apa langkahnya",
        "polisi minta nomor hp sy, wajib kasih?",
        "penagih minta nomor wa keluarga sy, boleh?",
        "pinjol nyebar no hp sy ke semua kontak, apa yg hrs sy lakukan",
        # The third review's: how long, how often, the price of a phone.
        "hp disita polisi berapa lama",
        "wa ancaman dari pinjol berapa kali",
        "cicilan hp berapa dendanya",
    ],
)
def test_questions_that_do_not(question: str) -> None:
    assert not asks_for_a_number(question)


@pytest.mark.parametrize(
    "text",
    [
        "Hubungi kami di 0812-3456-7890 (WhatsApp).",
        "Telepon kantor (0370) 631 234 pada jam kerja.",
        "Pengaduan ke SAPA 129 atau WhatsApp 08111-129-129.",
        "call center BPJS Kesehatan 165",
        "Hubungi +62 370 123 4567",
        "Hubungi 110 bila keadaan darurat",
        "Layanan pengaduan 1500 111",
        "OJK (157)",
        "SAPA 129",
        "Chat kami di wa.me/6281234567890",
        "Telepon 62 812 3456 7890",
        "Nomor pengaduan: 129",
        "Layanan darurat polisi 110",
    ],
)
def test_passages_that_hold_a_number(text: str) -> None:
    assert holds_a_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "Gugatan diajukan ke Pengadilan Agama Praya di wilayah tempat tinggal istri.",
        "Pasal 129 mengatur pidana; biaya panjar Rp500.000 dibayar tahun 2024.",
        "Batas waktu 30 hari kerja sejak 1 Januari 2025.",
        "Kerugian Rp 2.062.500.000 dan denda Rp 10.000.000.000 pada 2023-05-12.",
        "Ia menjabat pada 1962-1965.",
        "Pesan dikirim lewat WA sejak tahun 2023; SMS pemberitahuan denda 750 juta.",
    ],
)
def test_passages_that_do_not(text: str) -> None:
    assert not holds_a_number(text)


@pytest.mark.parametrize(
    ("question", "holder"),
    [
        ("Berapa nomor telepon Pengadilan Agama Manado?", ["pengadilan", "agama", "manado"]),
        ("no telp pengadilan agama praya brp?", ["pengadilan", "agama", "praya"]),
        ("nomor WA pandawa", ["pandawa"]),
        ("call center bpjs berapa? klo ga ditanggepin lapor ombudsman?", ["bpjs"]),
        ("gmn cr bikin janji konsul? no wa nya brp", []),
    ],
)
def test_whose_number_is_asked(question: str, holder: list[str]) -> None:
    assert number_holder(question) == holder


COURT = ["pengadilan", "agama", "manado"]


def test_the_offices_own_number_beside_the_town_is_not_the_courts() -> None:
    text = "Kantor LBH Mapalus, Jl. Sam Ratulangi No. 5, Manado. Telepon (0431) 862 123."
    assert holds_a_number(text)
    assert not holds_a_number_of(text, COURT)


def test_a_number_beside_the_holder_answers() -> None:
    text = "Pengadilan Agama Manado dapat dihubungi di (0431) 862 123 pada jam kerja."
    assert holds_a_number_of(text, COURT)
    far = (
        "Pengadilan Agama Manado memeriksa perkara cerai. " + "kata " * 20 + "Telp (0431) 862 123."
    )
    assert not holds_a_number_of(far, COURT)


def test_the_heading_and_the_searchs_corrections_name_the_holder_too() -> None:
    text = "Hubungi (0431) 862 123 setiap hari kerja."
    assert holds_a_number_of(text, COURT, section="Panduan › Pengadilan Agama")
    assert holds_a_number_of(
        "Hotline Pandawa 0812 3456 789.", ["pandwa"], read_as={"pandwa": ["pandawa"]}
    )
    assert not holds_a_number_of("Hotline Pandawa 0812 3456 789.", ["pandwa"])


def test_a_number_before_a_comma_and_a_care_center_line() -> None:
    text = (
        "Pengaduan melalui BPJS Kesehatan Care Center 165, layanan WhatsApp PANDAWA di "
        "08118165165, atau menu pengaduan di Mobile JKN."
    )
    assert holds_a_number_of(text, ["pandawa"])
    assert holds_a_number_of(text, ["bpjs"])
    assert holds_a_number("Care Center 165 buka 24 jam")


def test_no_holder_named_any_number_answers() -> None:
    assert holds_a_number_of("WA 0812 3456 7890", [])
    assert not holds_a_number_of("Datang langsung ke kantor.", [])


@pytest.mark.parametrize(
    ("question", "institutions"),
    [
        ("alamat pengadilan agama palu di jln apa ya?", ["pengadilan"]),
        ("alamat PA kupang", ["pengadilan"]),
        ("Alamat kantor pusat LPSK di Jakarta di mana?", ["lpsk"]),
        ("alamat kantor lbh dmn ya? sy mau dtg lgsg", []),  # the office's own
        ("alamat saya pindah, gmn", []),  # the writer's own
        ("suami kabur ke luar negri ga tau alamatnya, gugatan cerai di ajukan dimana?", []),
        ("Motor saya ditarik paksa oleh orang leasing di jalan. Apakah itu boleh?", []),
    ],
)
def test_an_institution_s_address_asked_is_told_apart(
    question: str, institutions: list[str]
) -> None:
    assert institutions_asked(question, ADDRESS_ASKED) == institutions
    assert asks_for_an_address(question) is bool(institutions)


@pytest.mark.parametrize(
    ("question", "institutions"),
    [
        ("kantr pertanahan kota pekanbaru bukanya jm brp smpe jm brp?", ["pertanahan"]),
        ("jam besuk rutan jam brp?", ["rutan"]),
        # The clause that asks names no one: the one before it does.
        ("Tong mo besuk sa pu kaka di Polresta. Jam besuk itu jam berapa ka?", ["polresta"]),
        ("besong pung kantor buka jam brapa ko?", []),  # the office's own, in Kupang Malay
        ("sy mau ke pengadilan besok, kantor lbh buka jam brp?", []),
        ("jam kerja saya 12 jam sehari, boleh?", []),  # a labour question
    ],
)
def test_an_institution_s_hours_asked_are_told_apart(
    question: str, institutions: list[str]
) -> None:
    assert institutions_asked(question, HOURS_ASKED) == institutions
    assert asks_for_hours(question) is bool(institutions)


def test_an_address_or_hours_answer_only_beside_the_institution() -> None:
    guide = "Gugatan diajukan ke Pengadilan Agama Palu di wilayah tempat tinggal istri."
    office = "Kantor LBH Nosarara, Jl. Dewi Sartika No. 27, Palu. Buka Senin-Jumat 08.00-16.00."
    assert not holds_an_address_of(guide, ["pengadilan"])  # the court named, no street
    assert not holds_an_address_of(office, ["pengadilan"])  # a street, the office's own
    assert holds_an_address_of("Pengadilan Agama Palu, Jl. Cik Ditiro No. 30.", ["pengadilan"])
    assert not holds_hours_of(office, ["pertanahan"])  # the office's own hours
    assert holds_hours_of("Kantor Pertanahan buka pukul 8 pagi.", ["pertanahan"])


def test_an_emergency_line_or_bank_account_asked_is_a_number_asked() -> None:
    assert asks_for_a_number("nomor darurat OJK")
    assert number_holder("nomor darurat OJK") == ["ojk"]
    assert asks_for_a_number("no rekening lbh brp?")
    account = "Transfer ke rekening BRI 0123-01-004567-50-8 a.n. LBH Lancang Kuning."
    assert holds_a_number_of(account, [])
    assert not holds_a_number("Pembayaran lewat transfer bank atau tunai di kantor.")


def test_a_bank_account_asked_is_answered_only_by_an_account_number() -> None:
    assert asks_for_an_account("no rekening lbh brp? mau transfer biaya somasi")
    assert not asks_for_an_account("no wa lbh brp?")
    page = "LBH Tepian Mahakam, telepon (0541) 741 258, WhatsApp 0812-5500-7788."
    holder = number_holder("no rekening lbh tepian mahakam brp?")
    assert holds_a_number_of(page, holder)  # a number beside the office's name …
    assert not holds_a_number_of(page, holder, account=True)  # … but no account
    assert holds_a_number_of(
        "Rekening BRI 0123-01-004567-50-8 a.n. LBH Tepian Mahakam.", holder, account=True
    )


def test_a_line_s_name_before_an_institution_asks_its_number_without_berapa() -> None:
    question = "Mohon informasi nomor telepon Pengadilan Agama Padang."
    assert asks_for_a_number(question)
    assert {"pengadilan", "agama", "padang"} <= set(number_holder(question))
    assert not asks_for_a_number("no hp saya ganti")


def test_an_institution_named_only_by_its_acronym_is_one() -> None:
    assert institutions_asked("alamat kantor BPBD kota padang dmn?", ADDRESS_ASKED) == ["bpbd"]
    assert institutions_asked("jam buka DPMPTSP?", HOURS_ASKED) == ["dpmptsp"]
    assert institutions_asked("alamat kantor LBH dmn?", ADDRESS_ASKED) == []  # the office's own
