"""A figure asked ("berapa") is answered only by a passage with a number near what is asked."""

from __future__ import annotations

import pytest

from wagate.domain.asked_amounts import (
    asked_about,
    asked_unit,
    asks_for_an_amount,
    asks_for_money,
    gives_the_unit,
    holds_a_figure_near,
    names_the_acronym,
)

FEES = (
    "Biaya konsultasi pertama Rp150.000 untuk pekerja; gratis bagi warga yang memenuhi "
    "syarat bantuan hukum cuma-cuma. Pendaftaran perkara di pengadilan dibayar lewat bank."
)
SEVERANCE = (
    "Upah minimum provinsi ditetapkan gubernur setiap tahun dan diumumkan oleh dinas "
    "tenaga kerja. Uang pesangon dihitung dari masa kerja: kurang dari satu tahun satu "
    "bulan upah, satu tahun atau lebih dua bulan upah."
)


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("pesangon sy brp?", True),
        ("berapa lama proses cerai", True),
        ("biaya konsultasi brapa kak", True),  # chat forms read as "berapa"
        ("cara daftar cerai gmn", False),
    ],
)
def test_a_question_asks_for_a_figure_when_it_asks_how_much(question: str, asks: bool) -> None:
    assert asks_for_an_amount(question) is asks


def test_a_figure_near_an_asked_word_answers() -> None:
    assert holds_a_figure_near(FEES, asked_about("biaya konsultasi pertama brp?"))
    # Number words count: "satu bulan upah".
    assert holds_a_figure_near(SEVERANCE, asked_about("pesangon kerja 8 bulan dapat brp"))


def test_a_figure_for_something_else_does_not() -> None:
    # The passage names the provincial minimum wage, but gives no figure near it.
    assert not holds_a_figure_near(SEVERANCE, asked_about("UMP provinsi 2026 berapa?"))
    # It never names the thing asked.
    assert not holds_a_figure_near(FEES, asked_about("honor notaris brp"))


def test_affixed_forms_of_the_asked_word_count() -> None:
    text = "Penagihan oleh pihak ketiga paling lama 30 hari setelah jatuh tempo."
    assert holds_a_figure_near(text, asked_about("nagih utang boleh brp hari?"))


def test_without_a_word_to_place_it_by_no_judgement_is_made() -> None:
    assert holds_a_figure_near("tanpa angka sama sekali", [])


def test_a_section_about_the_asked_thing_answers_with_any_figure_in_it() -> None:
    body = "Perkara yang tidak dilawan biasanya selesai dalam satu sampai dua bulan."
    asked = asked_about("berapa lama proses cerai")
    assert not holds_a_figure_near(body, asked)  # the body never says "proses" or "cerai"
    assert holds_a_figure_near(body, asked, "Panduan › 6. Lama Proses")
    assert not holds_a_figure_near("Tanpa angka.", asked, "6. Lama Proses")


def test_free_of_charge_answers_a_fee_asked() -> None:
    text = "Pembuatan Kartu KUSUKA tidak dipungut biaya; bawa KTP dan foto kapal."
    assert holds_a_figure_near(text, asked_about("kartu kusuka bayar brapa?"))
    assert holds_a_figure_near("Konsultasi pertama gratis.", asked_about("konsultasi brp"))


def test_a_rule_or_year_number_is_no_figure() -> None:
    text = "Iuran peserta mandiri diatur dalam Perpres Nomor 82 Tahun 2018 pasal 34."
    assert not holds_a_figure_near(text, asked_about("iuran bpjs kelas 3 brp"))
    assert holds_a_figure_near("Iuran Rp42000 per bulan.", asked_about("iuran brp"))  # no dot


def test_only_the_passage_s_own_heading_counts_not_its_chapter() -> None:
    body = "Pekerja menerima 2 bulan upah bila masa kerjanya dua tahun."
    assert not holds_a_figure_near(body, ["provinsi"], "BAB II UPAH PROVINSI › Pasal 5 Pesangon")
    assert holds_a_figure_near(body, ["provinsi"], "BAB II › Pasal 5 Upah Minimum Provinsi")


def test_the_words_the_search_read_the_question_as_count() -> None:
    text = "Permohonan diputuskan paling lambat 3 hari kerja."
    assert not holds_a_figure_near(text, asked_about("bantuan hkum brp lma dputuskn"))
    assert holds_a_figure_near(text, asked_about("bantuan hkum brp lma dputuskn", ["diputuskan"]))


def test_rule_numbers_list_numbers_and_other_words_are_no_figures() -> None:
    asked = asked_about("upah lembur brp")
    assert not holds_a_figure_near("Upah lembur diatur dalam PP 35/2021.", asked)
    assert holds_a_figure_near("Upah lembur 1,5 kali upah sejam.", asked)
    listing = "Syarat gugatan cerai:\n1. Surat gugatan\n2. Buku nikah asli"
    assert not holds_a_figure_near(listing, asked_about("biaya gugatan cerai brp"))
    assert not holds_a_figure_near("Biaya perkara dipungut oleh panitera.", ["biaya"])
    assert holds_a_figure_near("Pendaftaran tidak dipungut biaya.", ["biaya"])
    assert holds_a_figure_near("Konsultasi tidak dikenai biaya.", ["biaya"])
    # A clause's number is none; a wage's fraction is one.
    assert not holds_a_figure_near("(2) Pengusaha wajib membayar uang pesangon.", ["pesangon"])
    assert holds_a_figure_near("Upah harian dihitung 1/25 dari upah bulanan.", ["upah"])


def test_only_topic_words_of_the_read_as_words_count() -> None:
    # "lma" read as "lama": an everyday word, not what the figure is of.
    assert "lama" not in asked_about("biaya cerai brp lma", ["lama"])


@pytest.mark.parametrize(
    ("question", "money"),
    [
        ("HET pupuk urea subsidi skrg brp per kg?", True),  # a price per unit
        ("biaya cerai di pengadilan agama brp?", True),
        ("pajak motor telat 2 thn dendanya brp? ada pemutihan ga?", True),
        ("ongkos kapal ferry dari Tenau ke Rote sekarang berapa", True),
        ("upah lembur brp", False),  # a wage: "1,5 kali upah sejam" answers it
        ("denda telat brp hari", False),  # a duration asked
        ("Pasal berapa dalam KUHPerdata yang mengatur sewa menyewa?", False),
        ("tarif ojol di Kendari masuk zona berapa?", False),  # which zone
        # "berapa kali" asks a count, and the rent is in another sentence
        ("Saya tidak tahu berapa kali dipanggil. Saya tinggal di rumah kos.", False),
        ("cara daftar cerai gmn, biayanya ada?", False),  # no "berapa" at all
    ],
)
def test_a_price_or_fee_asked_is_told_apart(question: str, money: bool) -> None:
    assert asks_for_money(question) is money


def test_a_misspelt_price_word_counts_as_the_search_read_it() -> None:
    assert not asks_for_money("biyaya bikin sim brapa")
    assert asks_for_money("biyaya bikin sim brapa", ["biaya"])


def test_a_price_is_answered_only_by_money() -> None:
    quota = "Pupuk bersubsidi untuk petani terdaftar, paling banyak dua hektare; kios wajib HET."
    asked = asked_about("HET pupuk urea brp per kg?")
    assert holds_a_figure_near(quota, asked)  # a number near "pupuk" …
    assert not holds_a_figure_near(quota, asked, money=True)  # … but no price
    for priced in (
        "HET pupuk urea Rp2.250 per kg.",
        "HET pupuk urea Rp 2.250 per kg.",
        "HET pupuk urea dua ribu dua ratus lima puluh rupiah per kg.",
        "Kios menjual pupuk urea 10% di atas HET.",
        "Pupuk urea bantuan desa gratis bagi anggota kelompok tani.",
    ):
        assert holds_a_figure_near(priced, asked, money=True), priced


def test_the_price_of_the_thing_asked_not_of_the_office_s_services() -> None:
    fees = "Konsultasi pertama Rp100.000; somasi Rp750.000; pendampingan sidang Rp1.500.000."
    assert not holds_a_figure_near(fees, asked_about("biaya PTSL per bidang brp?"), money=True)
    assert holds_a_figure_near(fees, asked_about("biaya somasi brp?"), money=True)


def test_the_unit_asked_must_be_the_answer_s() -> None:
    assert asked_unit("gaji minimum di Malaysia berapa ringgit sebulan?") == {"ringgit", "rm"}
    assert asked_unit("pesangon brp?") == frozenset()
    ringgit = asked_unit("brp ringgit")
    assert gives_the_unit("Upah minimum RM1.500 sebulan.", ringgit)
    assert not gives_the_unit("Gaji dibayar paling lambat tanggal 7 setiap bulan.", ringgit)
    percent = asked_unit("uang pisah dipotong pajak berapa persen?")
    assert gives_the_unit("dipotong 5% oleh negara", percent)
    assert not gives_the_unit("dibayar dalam 14 hari", percent)
    assert asked_unit("sidang cerai brp kali?") == frozenset()  # a count, in words or not


def test_a_price_and_its_thing_in_one_table_row_answer_however_far_apart() -> None:
    row = "| Pendampingan perkara di pengadilan | sesuai kesepakatan, paling banyak Rp 3.500.000 |"
    asked = asked_about("Berapa tarif kalau saya minta didampingi sampai pengadilan selesai?")
    assert holds_a_figure_near(row, asked, money=True)


def test_a_cost_borne_by_the_state_answers_a_fee_asked() -> None:
    text = "Visum bagi korban kekerasan ditanggung negara."
    assert holds_a_figure_near(text, asked_about("biaya visum brp"), money=True)


def test_a_price_stands_beside_two_of_the_things_priced() -> None:
    asked = asked_about("biaya cerai di pengadilan agama brp?")
    fees = "Pendampingan perkara di pengadilan: paling banyak Rp3.500.000."
    assert not holds_a_figure_near(fees, asked, money=True)  # the office's, at any court
    deposit = "Panjar perkara cerai di Pengadilan Agama berkisar Rp300.000 sampai Rp1.000.000."
    assert holds_a_figure_near(deposit, asked, money=True)


@pytest.mark.parametrize(
    ("question", "money"),
    [
        ("harga sewa motor harian", True),  # a price word and its thing, nothing else asked
        ("tarif notaris akta jual beli", True),
        ("biaya cerai?", True),
        ("biaya perkara siapa yang bayar?", False),  # who pays, not how much
        ("biaya bisa dicicil?", False),
        ("syarat dan biaya cerai", False),  # the requirements lead
        ("sewa motor harian", False),  # a rent is the topic here, not a price asked
    ],
)
def test_a_short_question_led_by_a_price_word_asks_the_price(question: str, money: bool) -> None:
    assert asks_for_an_amount(question) is money
    assert asks_for_money(question) is money


def test_english_and_regional_words_for_how_much() -> None:
    assert asks_for_an_amount("santunan kematian JKM bara juta? for the family")  # Minangkabau
    assert asks_for_an_amount("biaya upacara kuda pis biasanya?")  # Balinese
    assert asks_for_an_amount("lawyer fee how much?")
    assert not asks_for_an_amount("rumah terbakar, bara apinya masih ada")
    assert not asks_for_an_amount("kuda saya dicuri tetangga")


def test_a_duration_asked_is_answered_by_a_duration_in_any_unit() -> None:
    days = asked_unit("jht cair brp hr stlh pengajuan?")
    assert gives_the_unit("JHT dibayar paling lama 5 hari kerja setelah berkas lengkap.", days)
    assert gives_the_unit("Prosesnya biasanya dua minggu.", days)
    assert gives_the_unit("Pencairan selesai sebulan.", days)
    # "Hari" of "Jaminan Hari Tua" is no duration, nor a wage's amount
    assert not gives_the_unit("Jaminan Hari Tua diurus di BPJS dengan upah Rp3.000.000.", days)
    assert asked_unit("bphtb wrisan brp persn?") == {"persen"}  # a typo of the unit


def test_a_thing_the_title_names_stands_beside_every_figure_of_the_passage() -> None:
    asked = asked_about("panjar biaya cerai di dps brp?")
    table = "| Keadaan | Perkiraan panjar |\n| Kedua pihak tinggal di kota | Rp 600.000 |"
    assert holds_a_figure_near(table, asked, "Panduan Perceraian › Biaya Perkara", money=True)
    assert not holds_a_figure_near(table, asked, "Layanan Kantor › Biaya", money=True)


def test_an_acronym_is_named_as_typed_or_spelled_out() -> None:
    assert names_the_acronym("Iuran JKP ditanggung pemerintah.", "jkp")
    assert names_the_acronym("Jaminan Kehilangan Pekerjaan dibayar enam bulan.", "jkp")
    assert names_the_acronym("Bea Perolehan Hak atas Tanah dan Bangunan 5 persen.", "bphtb")
    assert not names_the_acronym("Potongan aplikasi paling tinggi 15 persen.", "jkp")
    assert not names_the_acronym("Jaminan hari tua dicairkan.", "jkp")


def test_which_rule_or_what_time_is_no_amount_or_duration_asked() -> None:
    assert not asks_for_an_amount("perma ttg RJ di pengadilan nomor brp?")  # which rule
    assert not asks_for_an_amount("pasal berapa yg ngatur?")
    assert asks_for_an_amount("nomor pengaduan ojk brp?")  # "berapa" after the line's name
    assert asked_unit("kantornya buka jam brapa hari jumat?") == frozenset()  # a time, a day


def test_a_title_naming_two_things_does_not_make_every_figure_the_price() -> None:
    asked = asked_about("premi asuransi gempa utk rumah brp setahun?")
    text = "Bantuan perbaikan rumah rusak berat dari pemerintah paling banyak Rp50 juta."
    assert not holds_a_figure_near(text, asked, "Rumah Rusak Gempa dan Asuransi › 3", money=True)
