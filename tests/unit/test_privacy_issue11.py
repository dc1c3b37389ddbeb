"""Issue 11: third parties, lower-case names, self-introductions, titles and long names;
addresses, birth dates and other identifiers; decoys that must stay; the optional model
stage; the word tiers."""

from __future__ import annotations

import pytest

from wagate.domain.privacy import EntityType, PlaceholderVault, Span, find_pii, mask, unmask
from wagate.domain.privacy.data.words import COMMON, SHARED
from wagate.domain.privacy.lexicon import WordClass, word_class
from wagate.domain.privacy.model_stage import ModelEntity, ModelStage


def found(text: str, *known: str) -> list[tuple[str, str]]:
    return [(s.kind.value, s.value) for s in find_pii(text, known_names=known)]


def names(text: str, *known: str) -> list[str]:
    return [value for kind, value in found(text, *known) if kind == "NAMA"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mantan istri saya, Ratna Dewi, tidak mengizinkan.", ["Ratna Dewi"]),
        ("Pacarnya, Dimas Prasetyo, mengancam ibu saya.", ["Dimas Prasetyo"]),
        ("Tetangga, Haryono, membangun pagar.", ["Haryono"]),
        ("Kakak tiri saya, Yusuf Maulana, menjual tanah.", ["Yusuf Maulana"]),
        ("Suami (Bambang Irawan) tidak memberi nafkah.", ["Bambang Irawan"]),
        ("Anak2: Kevin Aditya dan Nadia Putri, keduanya SD.", ["Kevin Aditya", "Nadia Putri"]),
        ("Penjaminnya Hendra & Lukas Tanoto.", ["Hendra", "Lukas Tanoto"]),
        ("Kuasa hukum lawan, Benny Hutagalung, S.H., menelepon.", ["Benny Hutagalung"]),
        ("Pinjamannya atas Ahmad Fauzan bin Abdul Karim.", ["Ahmad Fauzan bin Abdul Karim"]),
        ("Saksi: Tono, Mulyadi, dan Endang Susilawati.", ["Tono", "Mulyadi", "Endang Susilawati"]),
    ],
)
def test_third_parties(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pak joko yang punya bengkel", ["joko"]),
        ("tadi bu ani rohmawati di kelurahan", ["ani rohmawati"]),
        ("mbak sinta dari leasing", ["sinta"]),
        ("tf ke BCA a.n. rudi hermawan sudah", ["rudi hermawan"]),
        ("nama: siti aminah, mau konsultasi", ["siti aminah"]),
        ("sy yanti, mau tanya", ["yanti"]),
        ("halo sy nurul hidayah, mau tanya", ["nurul hidayah"]),
    ],
)
def test_lower_case_names_after_cues(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saya, Bonifasius Lendo, ingin melapor.", ["Bonifasius Lendo"]),
        ("Pengirim: Dewi Kartika Sari. Mohon info.", ["Dewi Kartika Sari"]),
        ("Hello, my name is Michael Tanujaya, I need help", ["Michael Tanujaya"]),
        ("Mohon bantuannya. Terima kasih. Roni Simatupang", ["Roni Simatupang"]),
        ("Terima kasih.\n- Yosef Mbulu", ["Yosef Mbulu"]),
        ("Assalamualaikum, dengan Fadli di sini", ["Fadli"]),
        ("Rudi Hartono, 42 tahun, sopir truk.", ["Rudi Hartono"]),
    ],
)
def test_self_introductions_and_signatures(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kemarin Haji Muhidin datang", ["Muhidin"]),
        ("dibeli dari Hj. Rosmawati tahun 2010", ["Rosmawati"]),
        ("Puan Aisyah majikan saya", ["Aisyah"]),
        ("Koh Ahong pemilik toko", ["Ahong"]),
        ("Ci Meiling yang jual rumah", ["Meiling"]),
        ("Ny. Kartini Simanjuntak menggugat", ["Kartini Simanjuntak"]),
        ("Tn. Robert Sitorus menolak", ["Robert Sitorus"]),
        ("oleh I Gusti Ngurah Made Arya Wiguna", ["I Gusti Ngurah Made Arya Wiguna"]),
        ("Bu Mei yang menyewakan kios", ["Mei"]),
        ("Kepala desa, Pak Bunga Siregar, menolak", ["Bunga Siregar"]),
    ],
)
def test_titles_and_long_names(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (
            "tinggal di Jl. Kenanga No. 14 RT 02/RW 07, Kel. Sukamaju, Kec. Cilodong, Kota "
            "Depok, rumah itu atas nama saya",
            "ALAMAT",
            "Jl. Kenanga No. 14 RT 02/RW 07, Kel. Sukamaju, Kec. Cilodong, Kota Depok",
        ),
        ("Objek: Perum Griya Asri Blok C3 No. 8, kami", "ALAMAT", "Perum Griya Asri Blok C3 No. 8"),
        ("alamat sy jl. mawar gg. 3 no 21 rt 5, kalau", "ALAMAT", "jl. mawar gg. 3 no 21 rt 5"),
        ("TTL: Surabaya, 03-09-1987", "TGL_LAHIR", "03-09-1987"),
        ("Anak saya lahir 12 Mei 2014, sekarang", "TGL_LAHIR", "12 Mei 2014"),
        ("Mobil nopol B 1234 KJT ditarik", "PLAT", "B 1234 KJT"),
        ("platnya d4567abc kabur", "PLAT", "d4567abc"),
        ("Nomor paspor saya C1234567, ditahan", "PASPOR", "C1234567"),
        ("No KK 3174051203150007, mau ubah", "KK", "3174051203150007"),
        ("Kartu BPJS Kesehatan 0001234567891 ditolak", "BPJS", "0001234567891"),
        ("SIM saya nomor 9012-3456-789012 ditahan", "SIM", "9012-3456-789012"),
        ("kartu kredit 4512 3456 7890 1234 dipakai", "KARTU", "4512 3456 7890 1234"),
    ],
)
def test_addresses_birth_dates_and_identifiers(text: str, kind: str, value: str) -> None:
    assert found(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "Gaji saya Rp 4.500.000 per bulan, dipotong.",
        "Apakah bisa kena Pasal 378 KUHP?",
        "Menurut UU No. 1 Tahun 1974 tentang Perkawinan",
        "Perkara nomor 123/Pdt.G/2024/PN Jkt.Sel, sidang 14 Maret 2025.",
        "Laporan polisi No. LP/B/1234/X/2024/SPKT/Polda Metro Jaya",
        "Sertifikat SHM No. 01234 atas nama almarhum kakek.",
        "Bunga pinjaman 20% per bulan",
        "Putri saya masih 4 tahun",
        "Indah sekali kalau selesai damai.",
        "Pak Hakim bilang sidang ditunda.",
        "Kontrak ditandatangani 1 Juli 2023 dan berakhir 30 Juni 2024.",
        "kantor pusatnya di Jalan Sudirman",
        "Jalan keluarnya bagaimana ya pak?",
        "Pak Ustadz yang menikahkan kami.",
        "Saya sudah ke Pengadilan Agama Bekasi dan Polres Metro Bekasi Kota.",
    ],
)
def test_decoys_stay(text: str) -> None:
    assert found(text) == []


def test_new_placeholders_round_trip_and_tolerate_model_spelling() -> None:
    vault = PlaceholderVault()
    text = "TTL: Surabaya, 03-09-1987, plat B 1234 KJT"
    masked = mask(text, vault=vault)
    assert masked == "TTL: Surabaya, [TGL_LAHIR_1], plat [PLAT_1]"
    assert unmask(masked, vault) == text
    assert unmask("[TGL LAHIR 1] dan [plat-1]", vault) == "03-09-1987 dan B 1234 KJT"
    assert mask("platnya b1234kjt", vault=vault) == "platnya [PLAT_1]"  # same plate


class _StubModel:
    def __init__(self, *entities: ModelEntity) -> None:
        self._entities = entities
        self.texts: list[str] = []

    def entities(self, text: str) -> list[ModelEntity]:
        self.texts.append(text)
        return list(self._entities)


def test_model_stage_adds_names_the_rules_miss_and_their_other_mentions() -> None:
    text = "kemarin ketemu dengan ucok baba, ucok minta uang"
    model = _StubModel(ModelEntity(start=21, end=31, label="PER", score=0.9))
    stage = ModelStage(model=model)
    assert names(text) == []
    spans = find_pii(text, stages=[stage])
    assert [s.value for s in spans] == ["ucok baba", "ucok"]
    assert model.texts == [text]
    vault = PlaceholderVault()
    assert mask(text, vault=vault, stages=[stage]) == (
        "kemarin ketemu dengan [NAMA_1], [NAMA_2] minta uang"
    )


def test_model_stage_drops_low_scores_unknown_labels_and_bad_offsets() -> None:
    text = "Budi di Jakarta"
    model = _StubModel(
        ModelEntity(start=0, end=4, label="PER", score=0.2),
        ModelEntity(start=8, end=15, label="LOC", score=0.99),
        ModelEntity(start=10, end=99, label="PER", score=0.99),
        ModelEntity(start=4, end=5, label="PER", score=0.99),  # a space only
    )
    assert list(ModelStage(model=model)(text)) == []


def test_model_stage_trims_and_cannot_unmask_what_the_rules_found() -> None:
    text = "Pak Budi Santoso, NIK 3171014508900003"
    model = _StubModel(ModelEntity(start=3, end=30, label="PERSON", score=0.8))
    spans = find_pii(text, stages=[ModelStage(model=model)])
    assert Span(start=22, end=38, kind=EntityType.NIK, value="3171014508900003") in spans


def test_word_tiers_tell_words_from_names() -> None:
    assert {"yang", "ditipu", "pengacara", "bingung"} <= COMMON
    assert {"budi", "agus"} <= SHARED
    assert word_class("joko") is WordClass.NAMEY
    assert word_class("Marlina") is WordClass.NAMEY
    assert word_class("Rp") is WordClass.COMMON
    assert word_class("sdh") is WordClass.COMMON
