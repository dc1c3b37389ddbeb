"""The structure-aware chunker (issue 13): chunks keep their place for the citation."""

from __future__ import annotations

import pytest

from wagate.domain.chunking import chunk_document

LAW = """Undang-Undang Contoh

BAB I
KETENTUAN UMUM

Pasal 1
Dalam undang-undang ini yang dimaksud dengan pekerja adalah setiap orang yang bekerja.

Pasal 2
(1) Pengusaha wajib membayar upah tepat waktu.
(2) Upah dibayar dalam mata uang rupiah.

BAB II PESANGON

Bagian Kesatu
Besaran

Pasal 3
Pesangon paling sedikit satu bulan upah.
"""


def test_legal_structure_becomes_the_section_path() -> None:
    chunks = chunk_document(LAW, title="Undang-Undang Contoh")
    assert [c.section for c in chunks] == [
        "BAB I KETENTUAN UMUM › Pasal 1",
        "BAB I KETENTUAN UMUM › Pasal 2",
        "BAB II PESANGON › Bagian Kesatu Besaran › Pasal 3",
    ]
    assert chunks[1].text.splitlines() == [
        "(1) Pengusaha wajib membayar upah tepat waktu.",
        "(2) Upah dibayar dalam mata uang rupiah.",
    ]
    assert chunks[2].text == "Pesangon paling sedikit satu bulan upah."
    assert [c.ordinal for c in chunks] == [0, 1, 2]


def test_the_title_printed_at_the_top_is_not_a_chunk() -> None:
    chunks = chunk_document(LAW, title="Undang-Undang Contoh")
    assert all(c.text != "Undang-Undang Contoh" for c in chunks)


def test_markdown_headings_nest_and_a_numbered_list_is_not_a_heading() -> None:
    text = """# Panduan

## 1. Syarat
Siapkan dokumen berikut:
1. Fotokopi KTP
2. Buku nikah

## 2. Biaya
Gratis untuk konsultasi pertama.

### Biaya perkara
Dibayar ke pengadilan.
"""
    chunks = chunk_document(text, title="Panduan")
    assert [(c.section, c.text.splitlines()[0]) for c in chunks] == [
        ("1. Syarat", "Siapkan dokumen berikut:"),
        ("2. Biaya", "Gratis untuk konsultasi pertama."),
        ("2. Biaya › Biaya perkara", "Dibayar ke pengadilan."),
    ]
    assert "1. Fotokopi KTP\n2. Buku nikah" in chunks[0].text


def test_plain_numbered_sections_and_capital_headings_are_found() -> None:
    text = """PERSYARATAN UMUM
Semua pemohon wajib hadir sendiri.

1. Pendaftaran
Daftar di loket satu.
1. Bawa KTP
2. Bawa KK

2. Sidang
Sidang pertama adalah mediasi.
"""
    sections = [c.section for c in chunk_document(text)]
    assert sections == [
        "PERSYARATAN UMUM",
        "PERSYARATAN UMUM › 1. Pendaftaran",
        "PERSYARATAN UMUM › 2. Sidang",
    ]


def test_a_long_pasal_is_split_at_its_ayat_and_names_them() -> None:
    ayat = [f"({n}) " + "Ketentuan yang cukup panjang untuk ayat ini. " * 8 for n in range(1, 7)]
    text = "Pasal 9\n" + "\n".join(ayat)
    chunks = chunk_document(text, max_chars=800)
    assert len(chunks) > 1
    assert all(len(c.text) <= 800 for c in chunks)
    assert chunks[0].section == "Pasal 9 ayat (1)"
    assert all(c.section.startswith("Pasal 9 ayat (") for c in chunks)
    assert chunks[1].section != chunks[0].section
    # nothing lost, nothing duplicated
    assert sum(c.text.count("Ketentuan") for c in chunks) == 48


def test_an_endless_line_is_cut_into_chunks_within_the_limit() -> None:
    text = "kata " * 2000
    chunks = chunk_document(text, max_chars=500)
    assert all(0 < len(c.text) <= 500 for c in chunks)
    assert sum(c.text.count("kata") for c in chunks) == 2000


def test_empty_text_gives_no_chunk_and_a_tiny_limit_is_refused() -> None:
    assert chunk_document("  \n\n ") == []
    with pytest.raises(ValueError, match="max_chars"):
        chunk_document("x", max_chars=10)


GUIDE = """Panduan Sewa Rumah

BAGIAN A. Sewa-Menyewa Rumah
A1. Perjanjian sewa
Perjanjian sewa sebaiknya tertulis.
A2. Kenaikan harga sewa
Harga tidak boleh naik di tengah masa sewa.
BAGIAN B. Pengosongan
B1. Putusan pengadilan
Pengosongan harus melalui putusan pengadilan.
BAB I. Dasar Hukum
Pasal 1. Dasar hukum
(1) Ketentuan umum diatur dalam undang-undang.
Pasal 2 - Alasan yang diterima
Pengadilan hanya mengabulkan bila ada alasan.
Pasal 27 UU ITE melarang penyebaran konten yang melanggar kesusilaan.
Pasal 3: setiap orang berhak atas bantuan hukum.
"""


def test_lettered_parts_and_named_articles_of_a_guide_are_sections() -> None:
    """PDF guides print "BAGIAN A.", "A1." and "Pasal 1. Nama" on a line of their own (the
    text layer has no heading styles); each is a section of the citation. A sentence that
    starts with an article is not."""
    chunks = chunk_document(GUIDE, title="Panduan Sewa Rumah")
    assert [c.section for c in chunks] == [
        "BAGIAN A. Sewa-Menyewa Rumah › A1. Perjanjian sewa",
        "BAGIAN A. Sewa-Menyewa Rumah › A2. Kenaikan harga sewa",
        "BAGIAN B. Pengosongan › B1. Putusan pengadilan",
        "BAB I. Dasar Hukum › Pasal 1. Dasar hukum",
        "BAB I. Dasar Hukum › Pasal 2 - Alasan yang diterima",
    ]
    assert "Pasal 27 UU ITE melarang" in chunks[-1].text
    assert "Pasal 3: setiap orang" in chunks[-1].text


def test_a_sentence_starting_with_bagian_is_not_a_part() -> None:
    chunks = chunk_document(
        "Judul\n\nBAB I UMUM\nbagian a dari perjanjian ini berlaku.\n", title="Judul"
    )
    assert [c.section for c in chunks] == ["BAB I UMUM"]


SPACED = """Panduan Pekerja

BAB I HUBUNGAN KERJA
Pasal 1 Perjanjian Kerja Waktu Tertentu
(1) Kontrak hanya untuk pekerjaan sementara.
(2) Kontrak wajib tertulis.
Pasal 2 Masa Percobaan
Masa percobaan paling lama tiga bulan.
Pasal 27 UU ITE melarang penyebaran konten yang melanggar kesusilaan.
Pasal 5 Hak atas Upah Lembur
Upah lembur dibayar per jam.
"""

LETTERED = """Panduan Cerai

C. Langkah Mengajukan Gugatan
C.1 Berkas yang disiapkan
Siapkan fotokopi KTP dan buku nikah.
C.2 Biaya perkara
Panjar biaya ditentukan pengadilan.
"""


def test_an_article_named_without_a_separator_and_lettered_items_with_a_dot_are_sections() -> None:
    """ "Pasal 1 Perjanjian Kerja" (an ayat follows, or the name is in title case) and "C.1"
    under "C." head sections; a sentence that starts with an article stays text."""
    chunks = chunk_document(SPACED, title="Panduan Pekerja")
    assert [c.section for c in chunks] == [
        "BAB I HUBUNGAN KERJA › Pasal 1 Perjanjian Kerja Waktu Tertentu",
        "BAB I HUBUNGAN KERJA › Pasal 2 Masa Percobaan",
        "BAB I HUBUNGAN KERJA › Pasal 5 Hak atas Upah Lembur",
    ]
    assert "Pasal 27 UU ITE melarang" in chunks[1].text
    lettered = chunk_document(LETTERED, title="Panduan Cerai")
    assert [c.section for c in lettered] == [
        "C. Langkah Mengajukan Gugatan › C.1 Berkas yang disiapkan",
        "C. Langkah Mengajukan Gugatan › C.2 Biaya perkara",
    ]


UNDERLINED = """PENGANGKATAN ANAK
=================

Lembar informasi untuk keluarga yang merawat anak orang lain.


Mengapa harus lewat pengadilan
------------------------------

Pengangkatan anak yang sah hanya terjadi melalui penetapan pengadilan.


Syarat calon orang tua angkat
-----------------------------

1) Berumur paling rendah 30 tahun dan paling tinggi 55 tahun, sehat jasmani
   dan rohani.
2) Beragama sama dengan agama calon anak angkat.

-----

Catatan penutup tanpa judul.
"""


def test_underlined_headings_are_sections_and_the_underlines_are_not_text() -> None:
    chunks = chunk_document(UNDERLINED, title="pengangkatan_anak")
    sections = [c.section for c in chunks]
    assert "PENGANGKATAN ANAK › Mengapa harus lewat pengadilan" in sections
    requirements = next(c for c in chunks if c.section.endswith("Syarat calon orang tua angkat"))
    # a wrapped list item stays in the list: "2)" follows "1)" across its second line
    assert "Beragama sama" in requirements.text and "Berumur" in requirements.text
    assert all("---" not in c.text and "===" not in c.text for c in chunks)
    # a rule drawn after a blank line heads nothing: the note stays under the last heading
    assert chunks[-1].section.endswith("Syarat calon orang tua angkat")
    assert "Catatan penutup" in chunks[-1].text


def test_a_line_in_a_paragraph_over_dashes_is_not_a_heading() -> None:
    text = "Paragraf ini ditulis panjang sekali,\n----------\nlalu berlanjut di sini.\n"
    assert [c.section for c in chunk_document(text)] == [""]


def test_uppercase_lines_and_numbered_parts_under_an_underlined_part() -> None:
    text = (
        "LANGKAH DI TEMPAT KEJADIAN\n==========================\n\n"
        "1.1 Tolong korban\n\nHentikan kendaraan dan tolong korban.\n\n"
        "SANTUNAN\n\nKorban berhak atas santunan Jasa Raharja.\n"
    )
    sections = [c.section for c in chunk_document(text)]
    assert sections == ["LANGKAH DI TEMPAT KEJADIAN › 1.1 Tolong korban", "SANTUNAN"]


def test_a_question_standing_alone_heads_its_answer() -> None:
    text = (
        "Tanya Jawab\n-----------\n\n"
        "Apa itu pengangkatan anak?\nPerbuatan hukum yang mengalihkan anak ke keluarga baru.\n\n"
        "Berapa biayanya?\n\nBiaya perkara dibayar di pengadilan.\n"
    )
    sections = [c.section for c in chunk_document(text)]
    assert sections == [
        "Tanya Jawab › Apa itu pengangkatan anak?",
        "Tanya Jawab › Berapa biayanya?",
    ]


def test_a_question_in_pdf_text_without_blank_lines_still_heads_its_answer() -> None:
    text = (
        "BAB V. Pertanyaan yang Sering Muncul\n"
        "Apakah talak lewat pesan sah?\n"
        "Talak hanya berlaku bila diikrarkan di depan sidang.\n"
        "Bisakah bercerai tanpa hadir?\n"
        "Penggugat sebaiknya hadir pada mediasi.\n"
    )
    sections = [c.section for c in chunk_document(text)]
    assert sections == [
        "BAB V. Pertanyaan yang Sering Muncul › Apakah talak lewat pesan sah?",
        "BAB V. Pertanyaan yang Sering Muncul › Bisakah bercerai tanpa hadir?",
    ]


def test_questions_of_a_labelled_pair_and_questions_mid_paragraph_stay_text() -> None:
    pairs = (
        "BAGIAN 1: DI TEMPAT KEJADIAN\n\n"
        "T: Apa yang wajib saya lakukan?\nJ: Hentikan kendaraan dan tolong korban.\n\n"
        "T: Apa yang perlu dicatat?\nJ: Foto posisi kendaraan.\n"
    )
    chunks = chunk_document(pairs)
    assert [c.section for c in chunks] == ["BAGIAN 1: DI TEMPAT KEJADIAN"]
    assert "T: Apa yang perlu dicatat?" in chunks[0].text
    prose = "Orang bertanya kepada kami,\nBolehkah pemilik menahan KTP?\nJawabnya tidak.\n"
    assert [c.section for c in chunk_document(prose)] == [""]
    lines = "Ada dua hal penting.\nMengapa?\nkarena hukum melindungi anak.\n"
    assert [c.section for c in chunk_document(lines)] == [""]


def test_bagian_with_a_number_and_colon_is_a_part() -> None:
    text = "BAGIAN 2: PROSES DI KEPOLISIAN\n\nUnit Laka menangani perkara kecelakaan.\n"
    assert [c.section for c in chunk_document(text)] == ["BAGIAN 2: PROSES DI KEPOLISIAN"]


ROMAN_CHAPTERS = """Perlindungan Pekerja Rumah Tangga
I. Sebelum Bekerja
Pastikan perjanjian kerja tertulis dan salinannya
dipegang sendiri.
II. Upah dan Libur
Upah dibayar tiap bulan; libur satu hari setiap minggu.
IV. Bila Upah Ditahan
Catat tanggal dan jumlahnya, lalu adukan ke dinas tenaga kerja.
XII. Penutup
Hubungi kantor kami untuk pendampingan.
CV. Maju Jaya menyalurkan pekerja tanpa izin.
"""


def test_chapters_numbered_in_roman_numerals_are_sections() -> None:
    """Guides number their chapters "I.", "II.", "IV.", "XII." on a line of their own (the PDF
    text layer has no heading styles); each is a top-level section. A company's "CV." at the
    start of a sentence is not a numeral."""
    chunks = chunk_document(ROMAN_CHAPTERS, title="Perlindungan Pekerja Rumah Tangga")
    assert [c.section for c in chunks] == [
        "I. Sebelum Bekerja",
        "II. Upah dan Libur",
        "IV. Bila Upah Ditahan",
        "XII. Penutup",
    ]
    assert "CV. Maju Jaya" in chunks[-1].text


def test_a_long_question_heading_keeps_its_words_in_the_section_path() -> None:
    heading = "Apakah tulisan “barang yang sudah dibeli tidak dapat dikembalikan” di toko sah?"
    assert 70 < len(heading) <= 100
    chunks = chunk_document(f"# Panduan\n\n## {heading}\n\nTidak sah bila barangnya cacat.\n")
    assert chunks[-1].section.endswith(heading)
    longer = "## " + "Sangat panjang " * 10 + "\n\nIsi.\n"
    [cut] = [c for c in chunk_document(longer) if c.text.startswith("Isi")]
    assert cut.section.endswith("…") and len(cut.section) <= 100


def test_a_table_becomes_lines_that_read_without_a_table() -> None:
    text = (
        "# Layanan\n\n## Jam Layanan\n"
        "| Hari | Kantor pusat | Pos desa |\n|---|:---:|---|\n"
        "| Senin - Kamis | 08.30 - 16.00 | 09.00 - 14.00 |\n| Jumat | 08.30 - 11.30 | tutup |\n"
        "Di luar jam itu, pesan dibalas esok harinya.\n\n## Biaya\n"
        "| Golongan | Biaya |\n| --- | --- |\n"
        "| Warga tidak mampu | gratis |\n| Lainnya | Rp150.000 |\n"
    )
    [hours, fees] = chunk_document(text)
    assert hours.text.splitlines() == [
        "Hari | Kantor pusat | Pos desa",
        "- Senin - Kamis — Kantor pusat: 08.30 - 16.00; Pos desa: 09.00 - 14.00",
        "- Jumat — Kantor pusat: 08.30 - 11.30; Pos desa: tutup",
        "Di luar jam itu, pesan dibalas esok harinya.",
    ]
    # A new table after text has its own header; two columns read as "label: value".
    assert fees.text.splitlines() == [
        "Golongan | Biaya",
        "- Warga tidak mampu: gratis",
        "- Lainnya: Rp150.000",
    ]
    assert "|-" not in hours.text + fees.text and "---" not in hours.text + fees.text


def test_bulleted_items_stay_lines_of_their_own() -> None:
    text = (
        "# Syarat\n\nPersyaratannya:\n- fotokopi KTP;\n- kartu keluarga;\n"
        "• surat keterangan tidak mampu.\nSetelah itu datang ke kantor.\n"
    )
    [chunk] = chunk_document(text)
    assert chunk.text.splitlines() == [
        "Persyaratannya:",
        "- fotokopi KTP;",
        "- kartu keluarga;",
        "• surat keterangan tidak mampu. Setelah itu datang ke kantor.",
    ]


def test_a_row_whose_cells_do_not_line_up_with_the_header_is_not_named_by_column() -> None:
    text = "# Jam\n\n| Hari | Kantor | Pos | Catatan |\n|---|---|---|---|\n"
    text += "| Minggu | tutup | libur |\n"
    [chunk] = chunk_document(text)
    assert chunk.text.splitlines()[1] == "- Minggu: tutup; libur"


def test_a_table_row_in_capitals_is_never_a_heading() -> None:
    text = (
        "Biaya perkara.\n\n| NO | URAIAN | BIAYA |\n| 1 | Konsultasi | Rp 100.000 |\n"
        "| KTP | GRATIS | - |\n| 2 | Sidang | Rp 500.000 |\n"
    )
    [chunk] = chunk_document(text)
    assert chunk.section == ""
    assert chunk.text.splitlines() == [
        "Biaya perkara.",
        "NO | URAIAN | BIAYA",
        "- 1 — URAIAN: Konsultasi; BIAYA: Rp 100.000",
        "- KTP — URAIAN: GRATIS; BIAYA: -",
        "- 2 — URAIAN: Sidang; BIAYA: Rp 500.000",
    ]


def test_a_table_title_row_empty_cells_and_escaped_pipes_read_cleanly() -> None:
    text = (
        "# Biaya\n\n| Daftar biaya |\n| Hari | Pagi | Sore |\n| Senin | buka | tutup |\n\n"
        "| Jenis \\| kelas | Biaya |\n| | Rp 50.000 |\n| Selasa | |\n"
    )
    [chunk] = chunk_document(text)
    assert chunk.text.splitlines() == [
        "Daftar biaya",
        "Hari | Pagi | Sore",
        "- Senin — Pagi: buka; Sore: tutup",
        "Jenis | kelas | Biaya",
        "- Rp 50.000",
        "- Selasa",
    ]
