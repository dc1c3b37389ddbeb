"""Everyday requests no legal-aid document answers are declined before any look-up (AI3,
`KB_STRICT`); a legal question that merely mentions such a thing is not."""

from __future__ import annotations

import pytest

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.off_topic import is_advert, is_off_topic, named_by_a_heading
from wagate.pipeline.conversation.knowledge import ConsultKnowledge, KnowledgePolicy
from wagate.testing.knowledge import MemoryKnowledgeBase


@pytest.mark.parametrize(
    "message",
    [
        "jam brp skrg di Palu?",
        "Can you recommend a cheap hotel near the harbour?",
        "pesawat makassar jakarta yang paling murah jam brp?",
        "tiket kapal manado tahuna brp?",
        "cara downlod video tiktok tanpa watermak",
        "gimana biar banyak follower ig",
        "Sekarang jam berapa WIB?",
        "hari ini tanggal berapa ya",
        "cuaca bsk di Bengkulu gmn",
        "besok di Mataram bakal hujan gak?",
        "jadwal kapal Pelni ke Surabaya minggu ini",
        "speedboat ke Tidore berangkat jam brp?",
        "jadwal sholat maghrib hari ini",
        "resep ikan bakar rica",
        "warung makan yg enak di Senggigi",
        "bahasa inggrisnya kuda apa",
        "jam berapa ya sekarang di Bima",
        "tanggal berapa hari ini",
        "buka puasa jam brp hari ini",
        "skor Persija semalam berapa?",
        "tolong terjemahkan 'selamat pagi' ke bahasa Inggris",
        "bahasa sundanya terima kasih apa",
        "ibu kota provinsi Gorontalo apa?",
        "harga emas antam hari ini",
        "kurs dolar ke rupiah brp",
        "Promo voucher pulsa murah, kuota terbatas!",
        "tempat wisata murah buat anak",
        "Harga tiket pesawat Jakarta-Makassar berapa?",
        "chord gitar lagu Bengawan Solo dong",
        "liburan akhir tahun enaknya ke mana ya",
        "rekomendasi hotel murah dekat bandara",
        "oleh-oleh khas Manado apa aja?",
        "HP sy lemot bgt, gmn benerinnya?",
        "penginapan yang nyaman dan terjangkau dekat bandara ada?",
        "Bisakah Anda merekomendasikan hotel di dekat pelabuhan?",
        "Kira-kira ada rekomendasi katering dan dekorasi yang bagus tapi harganya terjangkau?",
        "berapa hasil 125 dikali 8, tolng bntu pr anak sya",
        "Tolong bantu pe-er anak: kota apa yang sekarang menjadi pusat pemerintahan Provinsi X?",
        "kedaton kesultanan bole dikunjungi orang luar ka? buka jam berapa?",
        "Saya menginap dekat pelabuhan dan tidak bawa kendaraan. Pantai mana yang Anda sarankan?",
        "tiket pswt ternate jkt bln dpn kira2 brp?",
        "besok di ternate ujan gk ya? mau jemur cengkeh",
        "Di mana tempat membeli kain tenun Buton yang asli di Kota Kendari?",
        "Pantai Nambo buka jam",
        "Jam berapa kapal cepat dari Kendari ke Raha berangkat?",
        "hotel dkt bandara haluoleo yg murh apa",
        "Tolong buatkan ucapan ulang tahun untuk ibu saya yang ke-60.",
        "Apakah ibu kota Provinsi Bengkulu? Ini untuk pekerjaan rumah anak saya.",
        "rumah pengasingan Bung Karno tu di jalan apo? nak bawa anak jalan-jalan",
        "Berapa hasil dua ratus lima puluh dibagi delapan?",
        "Bantu sa bikin puisi tentang Teluk Palu deng Jembatan Kuning, for school",
        "Kapal Pelni ke Tolitoli ada hari apa? Sa mo pulang kampung",
        "Pukul berapa Museum Tsunami Aceh dibuka pada hari Minggu?",  # "pukul": the time
        "hp sya jatoh ke sungai mahakam, msh bsa diselamatin gk ya",
        "Mohon dibuatkan ucapan selamat ulang tahun untuk ibu saya yang ke-60.",
        "anak saya dapat tugas mengarang tentang Masjid Raya, harus dikumpulkan besok",
    ],
)
def test_everyday_requests_are_off_topic(message: str) -> None:
    assert is_off_topic(message)


@pytest.mark.parametrize(
    "message",
    [
        "kantor LBH buka jam berapa?",
        "tiket pswt & visa kerja yg nanggung siapa? sy mau jd sopir di luar negri",
        "can you recommend a lawyer for my divorce?",
        "Bapa beta cuma bisa bahasa Dawan, ada yang bisa terjemahkan ko?",
        "hotel tidak dibayar biro umrah, siapa yang tanggung jawab?",
        "kerja sampingan disuruh like video youtube lalu deposit, itu penipuan?",
        "jadwal sidang cerai sy kapan ya",
        "kalau digugat balik sy bisa menang gak?",
        "kecelakaan bus, tiketnya ditanggung Jasa Raharja?",
        "lagu sy dipakai tanpa izin, bisa lapor?",
        "cuti liburan sy dipotong dari gaji, boleh?",
        "lirik lagu saya dijiplak band lain",
        "royalti lagu daerah saya tidak dibayar label",
        "guru terima kado dari wali murid, gratifikasi?",
        "anak sy dibully pas piknik sekolah",
        "hotel tempat sy kerja tdk bayar lembur",
        "kado pernikahan dihitung harta bersama kalau cerai?",
        "pkwt vs pkwtt bedanya apa",
        "harga tanah warisan dibagi gimana",
        "sy ketipu jual beli hp online, lapor kemana?",
        "dokter salah kasih resep obat, bisa dituntut?",
        "resep dokter hilang",
        "tetangga bikin gak enak, sering buang sampah di depan rumah",
        "apa bahasa hukumnya kalau utang tidak dibayar",
        "rumah sy kebanjiran krn hujan, kontraktor lalai, bisa gugat?",
        "biaya konsultasi pertama berapa",
        # A client's legal question that mentions an everyday thing (the review's probes).
        "sy kerja di rumah makan 2 thn, di phk tanpa pesangon",
        "perusahaan gak kasih waktu sholat jumat",
        "atap kontrakan bocor kalo hujan tdk diperbaiki pemilik",
        "skor kredit sy jelek krn pinjol",
        "TKW di Hongkong gaji dibayar pakai kurs rendah",
        "akta lahir utk paspor TKI hrs terjemahan resmi?",
        "tanah adat kena proyek ibu kota negara, dpt ganti rugi?",
        "perusahaan sawit tentuin harga tbs sepihak",
        "apotek kasih obat beda dr resep dr dokter",
        "tanah warisan dijual paman, pembeli yg minat udah DP",
        "sekarang jam berapa kantor LBH tutup?",
        "kecelakaan pas cuaca buruk, asuransi nolak klaim",
        "terus kalau hujan gak bisa datang sidang?",
        "Tanah sy dijual kakak tanpa izin sy. mohon hub sy kak",
        "internet kantor lemot jadi absen telat, gaji sy dipotong, boleh?",
        "HP baru beli lemot, toko gak mau ganti padahal masih garansi",
        "laptop kantor hang, data hilang, saya disuruh ganti rugi, wajib?",
        "tuduhan itu cuma karangan dia, bisa lapor balik?",
        "pesangon sy 9 kali upah, dikali 2 jd brp?",
        "anak saya dibawa jalan-jalan mantan suami tanpa izin, bisa lapor?",
        "puisi saya dijiplak dan dibukukan orang lain, bisa lapor hak cipta?",
        "sidang cerai ada hari apa aja di PA?",
        "hasil panen dibagi dua dgn pemilik lahan, berapa hasil yg adil dibagi?",
        "sy dipukul suami jam 10 malam, lapor kmn?",
    ],
)
def test_legal_questions_that_mention_such_things_are_not(message: str) -> None:
    assert not is_off_topic(message)


async def test_an_off_topic_question_is_declined_not_read_as_a_follow_up() -> None:
    """A short question that finds nothing is normally read with the previous one ("terus
    biayanya?"); "jam brp skrg?" after a divorce question must not fetch the divorce guide."""
    base = MemoryKnowledgeBase(min_shared=1)
    base.add_text("Panduan Perceraian", "# Cerai\n\nCerai gugat diajukan istri ke pengadilan.")
    consult = ConsultKnowledge(knowledge=base, policy=KnowledgePolicy(strict=True))
    history = [ChatTurn(role=Role.USER, content="cerai gugat diajukan kemana?")]
    found = await consult("jam brp skrg?", history)
    assert found.declined is True and not found.passages
    assert (await consult("terus biayanya?", history)).passages


@pytest.mark.parametrize(
    "message",
    [
        # The second review's probes: legal words in affixed forms, or words first missing.
        "tanggal berapa hari ini? sy mau hitung 14 hari banding",
        "cuaca buruk kapal tenggelam, ABK gak dapet santunan",
        "sy dilecehkan cowok di bioskop",
        "resep dari puskesmas salah, anak sy overdosis",
        "jam brp skrg? anak sy belum pulang dr semalam, dibawa pacarnya",
        "harga emas gadai, pegadaian lelang emas sy",
        "harga bawang dimainin tengkulak, bisa diadukan?",
        "besok hujan katanya, tp lapak sy digusur sekarang",
    ],
)
def test_legal_words_count_in_any_affixed_form(message: str) -> None:
    assert not is_off_topic(message)


@pytest.mark.parametrize(
    "message",
    [
        # The third review's: grievances about everyday things, and a trafficking victim.
        "Rumah makan saya disegel satpol pp",
        "Jadwal kapal dibatalkan sepihak, uang tiket tidak dikembalikan",
        "harga emas sudah dibayar tapi barangnya palsu",
        "Anak saya terluka di tempat wisata, pengelola tidak mau tanggung jawab",
        "ditolak masuk bioskop krn pakai kursi roda",
        "Saya dijual ke Malaysia oleh agen, hubungi siapa?",
    ],
)
def test_a_grievance_about_an_everyday_thing_is_a_question(message: str) -> None:
    assert not is_off_topic(message)


@pytest.mark.parametrize(
    "message",
    [
        "jual kavling sawit 2 ha, SHM, minat? hub sy",
        "Dijual tanah kavling dekat bandara, SHM, harga nego. Minat langsung hubungi tiang",
        "PROMO!!! Pinjaman dana tunai cepat cair tanpa jaminan. Hubungi admin kami, kuota terbatas",
        "Kami menawarkan jasa pembuatan website untuk kantor hukum, harga terjangkau. Berminat?",
        "ada yg jual motor bekas murah? minat hubungi sy",
    ],
)
def test_an_advert_is_off_topic_whatever_legal_words_it_uses(message: str) -> None:
    assert is_advert(message) and is_off_topic(message)


@pytest.mark.parametrize(
    "message",
    [
        "promo pinjol bunga 0% ternyata bunganya tinggi, bisa lapor?",
        "beli HP promo diskon ternyata palsu, bisa lapor?",
        "Saya dijual ke Malaysia oleh agen, tolong hubungi kami",
        "jual tanah warisan hrs izin semua ahli waris? pembeli mau nego",
        "saya minat beli tanah yang dijual tetangga, apa syaratnya?",
    ],
)
def test_a_client_writing_of_a_sale_or_a_promotion_is_no_advert(message: str) -> None:
    assert not is_advert(message)


@pytest.mark.parametrize(
    "message",
    [
        "kak tlg jwbin pr matematika anak sy, 3/4 + 2/5 brp?",
        "pr pkn: jelaskan pengertian trias politika, tlg bantu jwb",
        "Anak aku dapet PR nulis karangan tentang Sungai Musi, tolong bantu",
        # The story names work; the sentence that asks, last, is the everyday request.
        "Anak saya dapat PR dan saya baru pulang kerja jam sembilan malam. Tolong bantu "
        "hitung tiga per empat ditambah dua per lima berapa hasilnya?",
    ],
)
def test_homework_is_off_topic_after_a_story_naming_work(message: str) -> None:
    assert is_off_topic(message)


@pytest.mark.parametrize(
    "message",
    [
        # The sentence that asks is legal, or the story follows the everyday question.
        "Kemarin hujan deras dan bus yang saya tumpangi kecelakaan. Asuransi menolak klaim, "
        "bagaimana?",
        "tanggal berapa hari ini? sy mau hitung 14 hari banding",
        "cara hitung pesangon ditambah uang penghargaan gmn?",
    ],
)
def test_the_asking_sentence_decides_only_when_it_ends_the_message(message: str) -> None:
    assert not is_off_topic(message)


def test_a_heading_naming_every_word_asked_marks_a_written_topic() -> None:
    headings = ["7. Harga TBS untuk Petani Swadaya", "3. Jadwal Buka Kantor"]
    assert named_by_a_heading("harga TBS petani", headings)
    assert named_by_a_heading("harga tbs utk petani swadaya brp?", headings)
    assert not named_by_a_heading("jadwal kapal cepat ke Rote", headings)  # "kapal": no
    assert not named_by_a_heading("harga emas", headings)
    assert not named_by_a_heading("cuaca", ["Cuaca"])  # one word names no written topic
    assert not named_by_a_heading("harga TBS petani", [])


def test_a_heading_naming_the_everyday_request_itself_leaves_it_to_the_documents() -> None:
    # "harga TBS" is the request; the plasma guide's section is on exactly it, though the
    # question says more ("siapa yg netapin") than the heading.
    assert named_by_a_heading("harga TBS plasma siapa yg netapin?", ["Harga TBS"])
    assert named_by_a_heading("penetapan harga TBS", ["2. Harga TBS"])
    assert not named_by_a_heading("harga emas hari ini brp", ["Biaya Layanan"])
    assert not named_by_a_heading("cuaca besok hujan ga", ["Cuaca Ekstrem"])  # one word only
    # Not a recipe: a prescription kept for a claim.
    assert not is_off_topic("Kenapa saya perlu menyimpan resep dan catatan berobat?")
