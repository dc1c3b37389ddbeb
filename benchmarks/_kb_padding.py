"""Synthetic padding for kb_eval.py: Indonesian text on topics the evaluation corpus does not
cover, for the latency run "with 20,000 chunks loaded".

The padding must compete, not just fill: an office's knowledge base also holds pages on
village administration, health insurance, schools, taxes and farming, written with the same
everyday words the legal questions use ("syarat", "biaya", "cara", "dokumen", "kantor",
"berapa lama", "anak", "tanah"). So each section is a few sentences drawn from topic templates
whose slots (places, numbers, months, offices, goods) vary, under a heading built the same way.
Deterministic for a seed; no sentence answers a question of questions.jsonl (they are about
other things), though many share its words.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

PLACES = [
    "Sukamaju",
    "Sidorejo",
    "Karangasem",
    "Mekarsari",
    "Tanjungsari",
    "Wonosari",
    "Banjarsari",
    "Cibeber",
    "Kedungwaru",
    "Margahayu",
    "Sumberejo",
    "Pasirjati",
    "Tegalrejo",
    "Jatimulyo",
]
MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]
CROPS = ["padi", "jagung", "cabai", "bawang merah", "kedelai", "tomat", "singkong", "kopi"]
GOODS = ["beras", "minyak goreng", "gula pasir", "telur ayam", "tepung terigu", "daging ayam"]
OFFICES = [
    "kantor desa",
    "kantor kecamatan",
    "puskesmas",
    "kantor Dukcapil",
    "Samsat",
    "kantor pajak pratama",
    "dinas pendidikan",
    "kantor BPJS Kesehatan",
    "dinas pertanian",
]
SCHOOLS = ["SD Negeri", "SMP Negeri", "SMA Negeri", "SMK Negeri", "madrasah tsanawiyah"]

# topic -> (heading templates, sentence templates)
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "kependudukan": (
        [
            "Pembuatan KTP Elektronik di {place}",
            "Pindah Domisili Antarkecamatan",
            "Perubahan Data Kartu Keluarga",
            "Layanan Jemput Bola Dukcapil {place}",
            "Akta Kelahiran untuk Bayi Baru Lahir",
        ],
        [
            "Warga {place} yang sudah berumur 17 tahun wajib "
            "merekam data KTP elektronik di {office}.",
            "Syarat yang dibawa adalah fotokopi Kartu Keluarga dan surat pengantar RT.",
            "Pencetakan KTP biasanya selesai dalam {n} hari kerja bila blangko tersedia.",
            "Pelayanan dibuka setiap hari kerja mulai pukul 08.00 dan antrean dibatasi {m} orang.",
            "Surat pindah diurus di daerah asal, lalu dilaporkan ke "
            "daerah tujuan paling lambat {n} hari.",
            "Perubahan status pendidikan atau pekerjaan di Kartu Keluarga tidak dipungut biaya.",
            "Petugas akan datang ke rumah warga lansia dan "
            "penyandang disabilitas yang tidak dapat hadir.",
            "Bayi yang lahir di bulan {month} dapat langsung "
            "dibuatkan akta kelahiran oleh bidan desa.",
        ],
    ),
    "kesehatan": (
        [
            "Pendaftaran Peserta BPJS Kesehatan Mandiri",
            "Jadwal Posyandu Balita {place}",
            "Imunisasi Dasar Lengkap",
            "Rujukan dari Puskesmas ke Rumah Sakit",
            "Pencegahan Demam Berdarah Musim Hujan",
        ],
        [
            "Peserta mandiri kelas tiga membayar iuran Rp{price} per orang setiap bulan.",
            "Posyandu di {place} buka setiap tanggal {n} mulai pukul 08.00 di balai warga.",
            "Balita ditimbang, diukur tinggi badannya, dan diberi vitamin A pada bulan {month}.",
            "Pasien datang lebih dulu ke puskesmas; rujukan ke rumah sakit diberikan bila perlu.",
            "Kartu peserta yang menunggak lebih dari {n} bulan dinonaktifkan sementara.",
            "Kuras bak mandi seminggu sekali, tutup tempat "
            "penampungan air, dan kubur barang bekas.",
            "Imunisasi campak diberikan saat anak berumur sembilan bulan tanpa biaya.",
            "Keluhan tentang layanan dapat disampaikan ke {office} atau melalui kotak saran.",
        ],
    ),
    "sekolah": (
        [
            "Penerimaan Peserta Didik Baru {year}",
            "Beasiswa Siswa Berprestasi",
            "Jadwal Ujian Akhir Semester",
            "Seragam dan Buku Pelajaran",
            "Program Indonesia Pintar di {place}",
        ],
        [
            "Pendaftaran murid baru {school} dibuka pada bulan {month} secara daring.",
            "Calon murid memilih jalur zonasi, afirmasi, perpindahan orang tua, atau prestasi.",
            "Umur paling rendah untuk masuk kelas satu adalah enam tahun pada bulan Juli.",
            "Beasiswa diberikan kepada {m} siswa dengan nilai rapor tertinggi setiap tahun.",
            "Sekolah negeri tidak boleh mewajibkan pembelian seragam di koperasi sekolah.",
            "Dana bantuan pendidikan dicairkan melalui rekening bank atas nama siswa.",
            "Orang tua yang keberatan dengan pungutan dapat melapor ke {office}.",
            "Ujian semester ganjil diadakan pada minggu kedua bulan {month}.",
        ],
    ),
    "pertanian": (
        [
            "Pupuk Bersubsidi untuk Petani {place}",
            "Musim Tanam {crop}",
            "Asuransi Usaha Tani Padi",
            "Kelompok Tani dan Kartu Tani",
            "Pengendalian Hama Wereng",
        ],
        [
            "Petani yang terdaftar dalam kelompok tani berhak "
            "membeli pupuk bersubsidi di kios resmi.",
            "Harga eceran tertinggi pupuk urea bersubsidi adalah Rp{price} per kilogram.",
            "Penanaman {crop} di {place} dimulai pada bulan {month} setelah hujan cukup.",
            "Premi asuransi usaha tani sebesar Rp{price} per hektare per musim tanam.",
            "Lahan yang gagal panen lebih dari {n} persen dapat mengajukan klaim ganti rugi.",
            "Penyuluh pertanian lapangan datang ke kelompok tani setiap dua minggu.",
            "Gunakan bibit bersertifikat dan atur jarak tanam agar hasil panen lebih baik.",
            "Kartu tani diurus melalui {office} dengan membawa KTP dan bukti luas lahan.",
        ],
    ),
    "pajak": (
        [
            "Pajak Bumi dan Bangunan Perdesaan",
            "Pajak Kendaraan Bermotor Tahunan",
            "Pemutihan Denda Pajak {year}",
            "Lapor SPT Tahunan Orang Pribadi",
            "Pajak UMKM Setengah Persen",
        ],
        [
            "Surat pemberitahuan PBB dibagikan melalui kantor desa pada bulan {month}.",
            "Batas pembayaran PBB di {place} adalah akhir bulan Agustus setiap tahun.",
            "Pajak kendaraan dapat dibayar di Samsat keliling dengan membawa STNK dan KTP.",
            "Program pemutihan menghapus denda keterlambatan sampai bulan {month}.",
            "Pelaku usaha dengan omzet di bawah Rp{price} juta setahun "
            "tidak membayar pajak penghasilan final.",
            "SPT tahunan dilaporkan paling lambat akhir Maret melalui layanan daring.",
            "Wajib pajak yang terlambat melapor dikenai denda administrasi Rp{price}.",
            "Keterangan lebih lanjut dapat ditanyakan di {office} pada hari kerja.",
        ],
    ),
    "usaha": (
        [
            "Izin Usaha Mikro melalui OSS",
            "Pelatihan UMKM {place}",
            "Koperasi Simpan Pinjam Warga",
            "Sertifikasi Halal Gratis",
            "Pameran Produk Lokal {month}",
        ],
        [
            "Nomor Induk Berusaha untuk usaha mikro dapat dibuat "
            "sendiri secara daring tanpa biaya.",
            "Pelatihan pemasaran digital diikuti {m} pelaku usaha dari {place}.",
            "Anggota koperasi membayar simpanan pokok Rp{price} dan simpanan wajib setiap bulan.",
            "Sisa hasil usaha dibagikan kepada anggota setelah rapat anggota tahunan.",
            "Produk makanan rumahan perlu izin edar PIRT dari dinas kesehatan.",
            "Pendaftaran sertifikasi halal gratis dibuka sampai kuota {m} pelaku usaha terpenuhi.",
            "Stan pameran disediakan tanpa biaya sewa bagi UMKM binaan {office}.",
            "Harga {good} di pasar {place} naik menjelang hari raya.",
        ],
    ),
    "pariwisata": (
        [
            "Desa Wisata {place}",
            "Festival Budaya Bulan {month}",
            "Tiket Masuk Curug dan Pantai",
            "Homestay dan Penginapan Warga",
            "Kuliner Khas {place}",
        ],
        [
            "Desa wisata {place} menawarkan paket menanam {crop} dan belajar membatik.",
            "Tiket masuk untuk dewasa Rp{price} dan untuk anak-anak setengahnya.",
            "Festival budaya diadakan setiap bulan {month} dengan pawai dan pertunjukan tari.",
            "Homestay milik warga dapat dipesan melalui pengelola desa wisata.",
            "Pengunjung diminta membawa pulang sampahnya dan tidak memetik tanaman.",
            "Jalan menuju curug sebaiknya dilalui sebelum sore karena licin setelah hujan.",
            "Oleh-oleh khas berupa keripik {crop} dijual di kios dekat gerbang masuk.",
            "Parkir kendaraan roda dua dikenai tarif Rp{price} sekali masuk.",
        ],
    ),
    "lingkungan": (
        [
            "Bank Sampah RW {n}",
            "Jadwal Pengangkutan Sampah {place}",
            "Kerja Bakti Bulanan",
            "Air Bersih dan PDAM",
            "Penanganan Banjir di {place}",
        ],
        [
            "Warga menabung sampah plastik dan kertas di bank sampah setiap hari Minggu.",
            "Truk sampah mengangkut sampah rumah tangga di {place} setiap hari Selasa dan Jumat.",
            "Kerja bakti membersihkan saluran air diadakan pada minggu pertama bulan {month}.",
            "Pemasangan sambungan baru PDAM dikenai biaya Rp{price} termasuk meteran.",
            "Gangguan air bersih dapat dilaporkan ke {office} melalui nomor pengaduan.",
            "Warga yang rumahnya terendam banjir dapat mengungsi ke balai desa.",
            "Tabungan bank sampah dapat dicairkan menjelang hari raya.",
            "Dilarang membakar sampah karena asapnya mengganggu kesehatan tetangga.",
        ],
    ),
}


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        place=rng.choice(PLACES),
        month=rng.choice(MONTHS),
        crop=rng.choice(CROPS),
        good=rng.choice(GOODS),
        office=rng.choice(OFFICES),
        school=rng.choice(SCHOOLS),
        n=rng.randint(2, 30),
        m=rng.randint(20, 400),
        price=f"{rng.randint(2, 250) * 1000:,}".replace(",", "."),
        year=rng.randint(2019, 2027),
    )


def sections(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Endless (heading, paragraph) pairs, topics interleaved."""
    names = sorted(TOPICS)
    while True:
        headings, sentences = TOPICS[rng.choice(names)]
        heading = _fill(rng.choice(headings), rng)
        body = " ".join(_fill(s, rng) for s in rng.sample(sentences, rng.randint(3, 5)))
        yield heading, body


def document(index: int, n_sections: int, seed: int = 13) -> tuple[str, bytes]:
    """A Markdown document (file name, bytes) of `n_sections` numbered sections."""
    rng = random.Random(seed * 1_000_003 + index)
    parts = [f"# Informasi Layanan Publik Jilid {index}\n"]
    for number, (heading, body) in enumerate(sections(rng), start=1):
        if number > n_sections:
            break
        parts.append(f"## {number}. {heading}\n\n{body}\n")
    return f"padding_{index:04d}.md", "\n".join(parts).encode("utf-8")
