"""Is a message plainly about something no legal-aid knowledge base answers — the time now,
the weather, a recipe, a football score, a ferry's timetable, a translation, an advert, a
song, a holiday? (AI3)

A WhatsApp number gets these every day. The lexical evidence cannot always turn them away:
"jam berapa sekarang di Ambon, WIT?" shares "jam" and "WIT" with the office hours, "besok
hujan di Kuala Tungkal?" names the office's own town. So whatever the look-up finds, a few
phrases that such requests use decline them, as `KB_STRICT` asks — but only when nothing in the
message is legal. A client's question often mentions an everyday thing ("di-PHK dari rumah
makan", "atap kontrakan bocor kalau hujan", "skor kredit jelek karena pinjol", "gaji dibayar
pakai kurs rendah"): one word of the law, work, family, land, debt, the police or the office
(`LEGAL_WORDS`) keeps the message a question for the knowledge base — unless the sentence
that asks ends the message, is the everyday request and holds no legal word itself (a story
about coming home late from work, then "tolong bantu hitung tiga per empat ditambah dua per
lima?"). An advert is declined whatever words it uses (`is_advert`). And not when the office
wrote a section on exactly it: a heading naming every word asked (`named_by_a_heading`).

Each pattern is read within one sentence, on the message as typed (lower case) and with chat
abbreviations expanded ("jam brp skrg" → "jam berapa sekarang").

Pure: standard library and the chat normaliser only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wagate.domain.chat_words import (
    affix_stems,
    asked_clause,
    content_words,
    fold,
    named_at,
    normalise,
    topic_weight,
    verb_root,
    word_forms,
)

_VEHICLE = (
    r"(?:kapal|kapal cepat|pesawat|kereta|kereta api|krl|mrt|bus|bis|damri|ferry|feri|"
    r"speedboat|pelni)"
)
_GOODS = (
    r"(?:emas|perak|cabai|cabe|bawang|beras|minyak goreng|sawit|tbs|karet|kopra|cengkeh|"
    r"bensin|pertalite|pertamax|solar|bitcoin|kripto|saham|ponsel|laptop|tiket)"
)

_PATTERNS = (
    # The time or date now.
    r"\b(?:jam|pukul) berapa (?:ya |sih |kak )?(?:sekarang|skrg|saat ini)\b",
    r"\bsekarang (?:jam|pukul) berapa\b|\bwhat time is it\b",
    r"\b(?:hari ini|sekarang) (?:tanggal|hari) (?:berapa|apa)\b",
    r"\b(?:tanggal|hari) (?:berapa|apa) (?:ya |sih )?(?:hari ini|sekarang)\b",
    # Weather.
    r"\b(?:cuaca|prakiraan cuaca|ramalan cuaca)\b",
    r"\b(?:besok|nanti|hari ini|malam ini|sore ini)\b[^?]{0,40}\bhujan\b",
    r"\bhujan (?:besok|nanti|hari ini|malam ini|sore ini|tidak|kah)\b",
    # Timetables and prayer times.
    rf"\bjadwal (?:keberangkatan )?{_VEHICLE}\b",
    rf"\b{_VEHICLE}\b[^?]{{0,50}}\b(?:ada |berangkat |jalan )?(?:hari|tanggal) apa\b",
    rf"\b{_VEHICLE}\b[^?]{{0,50}}\bberangkat (?:jam|pukul) berapa\b",
    rf"\b(?:jam|pukul) berapa\b[^?]{{0,40}}\b{_VEHICLE}\b[^?]{{0,40}}\bberangkat\b",
    r"\b(?:jadwal|jam|waktu) (?:sholat|salat|shalat|imsak|imsakiyah|buka puasa|berbuka"
    r"|adzan|azan)\b",
    r"\b(?:buka puasa|berbuka|imsak|adzan|azan) (?:jam|pukul) berapa\b",
    # Food and cooking.
    r"\bresep (?!dokter|obat|dan|dari|yang|yg|untuk|itu|ini)[a-z]+",
    r"\b(?:paling|yang|yg) enak\b",
    r"\b(?:tempat|rumah|warung) makan\b",
    # Sport.
    r"\b(?:skor|klasemen|sepak bola|sepakbola|timnas|liga [a-z]+|piala dunia)\b",
    # Translation, trivia, jokes.
    # Not someone to interpret ("ada yang bisa terjemahkan ko?": a client's parent speaks
    # only the regional language, and the office may bring an interpreter).
    r"(?<!yang bisa )(?<!yg bisa )(?<!ada yang )(?<!ada yg )\bterjemah(?:kan|an|in)?\b"
    r"|\btranslate\b|\bhow do (?:you|i) say\b",
    r"\bbahasa (?!hukum)[a-z]+nya\b",
    r"\b(?:ibu ?kota|pusat pemerintahan) (?:provinsi|negara|kabupaten)\b",
    r"\b(?:pantun|tebak tebakan|lelucon|lawakan)\b",
    r"\b(?:di)?(?:buatkan|bikinkan|tuliskan|buatin|bikinin) (?:ucapan|puisi|kata kata|caption"
    r"|status)\b|\btulis (?:ucapan|puisi|kata kata|caption|status)\b",
    r"\b(?:membuat|bikin|buat|menulis|nulis|mengarang|karang) (?:puisi|sajak|syair|cerpen"
    r"|pantun)\b",
    # Prices of goods and money, adverts, outings. ("Dijual … hubungi" is no pattern: "saya
    # dijual ke Malaysia oleh agen, hubungi siapa?" is a victim's cry, not an advert.)
    rf"\bharga {_GOODS}\b",
    r"\b(?:kurs|nilai tukar)\b",
    r"\bkuota terbatas\b|\b(?:hubungi|hub|chat|wa) (?:admin |cs )?kami\b",
    r"\b(?:tempat|objek|destinasi) wisata\b",
    r"\b(?:bisa|boleh|bole) dikunjungi\b",
    r"\b(?:pantai|museum|benteng|air terjun|danau|taman wisata)\b[^?.]{0,30}"
    r"\b(?:di)?(?:buka|tutup)\b",
    # A sight's or a mosque's visiting hours: "Pukul berapa Museum Tsunami dibuka hari Minggu?"
    r"\b(?:jam|pukul) berapa\b[^?.]{0,15}\b(?:museum|masjid|pantai|benteng|taman|kebun binatang"
    r"|mall|mal)\b[^?.]{0,40}\b(?:di)?(?:buka|tutup)\b",
    r"\b(?:tempat|toko) (?:membeli|beli|belanja)\b",
    r"\bbioskop\b",
    # Songs, holidays, gifts and stays: what to play, where to go, what to bring.
    r"\b(?:chord|kunci gitar|lirik lagu|judul lagu|rekomendasi lagu|putar lagu)\b",
    r"\blagu (?:daerah|anak|pop|rohani|religi|dangdut|nasional)\b",
    r"\b(?:liburan|berlibur|piknik|tamasya|jalan jalan)\b",
    r"\b(?:(?:me)?rekomendasi(?:kan)?|rekomen|saran) (?:pantai|hotel|penginapan|kuliner|kafe"
    r"|cafe|katering|catering|dekorasi|fotografer|perias|rias|salon|bengkel|servis)\b",
    r"\b(?:oleh oleh|kado|buah tangan)\b",
    r"\b(?:pantai|hotel|penginapan|kuliner|kafe|restoran|wisata)\b[^?.]{0,30}"
    r"\b(?:disarankan|sarankan|rekomendasikan|direkomendasikan)\b",
    # Cheap stays and fares, downloads, followers.
    r"\b(?:hotel|penginapan|homestay|losmen)\b[^?.]{0,30}\b(?:murah|termurah|terbaik|bagus"
    r"|nyaman|terjangkau|dekat)\b",
    r"\b(?:cheap|best|good) (?:hotel|hotels|place|restaurant)\b|\brecommend\b",
    rf"\btiket {_VEHICLE}\b",
    rf"\b{_VEHICLE}\b[^?]{{0,40}}\b(?:murah|termurah)\b",
    r"\b(?:download|downlod|donlod|unduh) (?:video|lagu|film|musik)\b",
    r"\b(?:follower|followers|subscriber|subscribers)\b",
    # A slow phone or connection: no legal-aid document fixes it (a broken one bought new
    # is a consumer's question: "rusak", "ditolak", "garansi" are not here).
    r"\b(?:hp|ponsel|laptop|komputer|wifi|internet|sinyal|jaringan)\b[^?.]{0,30}"
    r"\b(?:lemot|lambat|lelet|ngelag|nge lag|hang)\b",
    # Homework.
    r"\bpr (?:matematika|mtk|pkn|ipa|ips|bahasa|sejarah|fisika|kimia|biologi)\b",
    r"\b(?:tugas sekolah|pekerjaan rumah)\b",
    r"\b(?:bantu|bantuin|tolong) (?:[a-z]+ )?(?:pr|pe er|peer)\b",
    r"\b(?:pr|tugas)\b[^?.]{0,25}\bkarangan\b|\b(?:menulis|nulis|membuat|bikin) karangan\b",
    r"\btugas (?:sekolah )?(?:mengarang|menulis karangan)\b|\bmengarang tentang\b",
    # A phone dropped in water: no legal-aid document saves it.
    r"\b(?:hp|ponsel|handphone)\b[^?.]{0,20}\b(?:jatuh|jatoh|kecebur|tercebur|kena air)\b"
    r"[^?.]{0,20}\b(?:sungai|air|laut|kolam|got|selokan|wc|toilet)\b",
    r"\bhitung(?:kan)?\b[^?]{0,60}\b(?:ditambah|dikurangi|dikali|dibagi)\b",
    r"\b\d+ (?:ditambah|dikurangi|dikali|dibagi|kali|tambah|kurang|bagi) \d+\b",
    r"\bberapa hasil(?:nya)?\b[^?]{0,60}\b(?:ditambah|dikurangi|dikali|dibagi)\b",
)
_OFF_TOPIC = re.compile("|".join(_PATTERNS))
# A word each pattern needs: a message with none of them is not read further (most are not).
_TRIGGER_TEXT = """
puisi sajak syair cerpen hasil pukul dibuka ditutup dibuatkan buatin bikinin mengarang hp ponsel
handphone
jam pukul tanggal hari cuaca hujan jadwal berangkat waktu resep enak makan skor klasemen
sepak sepakbola timnas liga piala terjemah terjemahkan terjemahan terjemahin translate how
bahasa ibu ibukota pantun tebak lelucon lawakan harga kurs nilai kuota hubungi
hub chat wa wisata bioskop what lagu chord kunci lirik liburan berlibur piknik tamasya
rekomendasi rekomen saran oleh kado buah hotel penginapan homestay losmen cheap best good
recommend tiket kapal pesawat kereta krl mrt bus bis damri ferry feri speedboat pelni download
downlod donlod unduh follower followers subscriber subscribers pr tugas pekerjaan hitung
hitungkan jalan merekomendasikan hp ponsel laptop komputer wifi internet sinyal jaringan menulis
nulis membuat bikin buatkan bikinkan tuliskan tulis museum benteng air danau taman toko tempat
pusat dikunjungi pantai kafe restoran kuliner wisata bantu bantuin tolong
ditambah dikurangi dikali dibagi kali tambah kurang bagi
"""
_TRIGGERS: frozenset[str] = frozenset(_TRIGGER_TEXT.split())

# Words that make a message a legal question whatever else it mentions, by area; a word
# counts in any affixed form ("digugat", "pekerja", "perceraian"). Single words only, and
# not "anak", "rumah", "sakit" or "harga": "tempat wisata buat anak", "rumah makan", "resep
# sup, lagi sakit", "harga emas" ask nothing legal.
_LEGAL_TEXT = """
hukum pasal undang uu perda aturan peraturan sah legal ilegal hak kewajiban wajib pidana
perdata pengadilan hakim jaksa kejaksaan polisi polres polsek polda lapor adu gugat tuntut
sidang perkara kasus saksi bukti advokat pengacara lawyer notaris ppat somasi mediasi damai
sanksi denda penjara tahan tangkap tersangka terdakwa korban pelaku tipu penipuan curi
pencurian kekerasan ancam peras izin larang melanggar pelanggaran banding kasasi putusan
vonis grasi remisi diversi perkosa leceh cabul aniaya pukul begal jambret rampok maling
pungli suap korupsi fitnah pencemaran hina culik hilang kabur bunuh narkoba sabu
cerai talak nikah kawin suami istri mantan mertua pacar asuh nafkah waris warisan wasiat
hibah adopsi akta kdrt selingkuh iddah
kerja pekerja karyawan buruh phk pecat pesangon gaji upah lembur thr cuti kontrak pkwt pkwtt
usaha perusahaan pabrik majikan bos atasan mandor hrd bpjs jamsostek tki tkw pmi migran
penyalur calo abk
tanah sertifikat sertipikat shm girik sewa kontrakan kos penyewa pemilik tetangga bangunan
imb pbg pengembang developer kpr pembeli penjual gusur lapak ormas
utang hutang piutang pinjam pinjol kredit cicilan angsuran leasing penagih tagih bunga jaminan
agunan gadai lelang bank asuransi klaim polis garansi konsumen refund tengkulak santunan
celaka kecelakaan tabrak tilang sim stnk bpkb raharja tenggelam
ktp paspor visa imigrasi dukcapil kependudukan
kantor lbh posbakum konsultasi konsul janji layanan pendampingan
dokter malpraktik pasien apotek puskesmas overdosis
desa kades lurah kelurahan pribadi sebar retas bobol
segel satpol preman palsu batal sepihak kembali luka tolak jatah agen tanggung rugi paksa
diskriminasi difabel disabilitas sita razia bohong ingkar wanprestasi hak
cipta jiplak plagiat royalti gratifikasi bully rundung
"""
LEGAL_WORDS: frozenset[str] = frozenset(_LEGAL_TEXT.split())
_SENTENCES = re.compile(r"[.?!\n]+")

# An advert asks the office nothing, whatever it sells: land with a certificate, a loan
# "tanpa jaminan", a website for law firms. Its legal words do not make it a question, so it
# is read apart: an offer ("promo", "minat?", "hubungi admin kami") beside a second one or a
# mark of a sale ("dijual", "nego"), in a message that complains of nothing. One mark is not
# enough ("promo pinjol bunga 0%, bisa lapor?"), and a complaint is a client's question
# however it reads: "beli HP promo diskon ternyata palsu", "saya dijual ke Malaysia oleh
# agen, tolong hubungi kami".
_OFFERS = (
    r"\bpromo\b",
    r"\bkuota terbatas\b",
    r"\bcepat cair\b",
    r"\bmenawarkan\b",
    r"\bdiskon\b",
    r"\bgratis ongkir\b",
    r"\b(?:ber)?minat\s*\?",
    r"\b(?:hubungi|hub|chat|wa|dm) (?:admin |cs )?(?:kami|tiang|langsung)\b",
    r"\b(?:ber)?minat\b[^?.]{0,12}\b(?:hubungi|hub|chat|wa|dm|inbox)\b",  # "minat hub sy"
)
_SALE_MARKS = (r"\b(?:di)?jual\b", r"\bterjangkau\b", r"\bnego\b")
_OFFER_RES = tuple(re.compile(pattern) for pattern in _OFFERS)
_SALE_RES = tuple(re.compile(pattern) for pattern in _SALE_MARKS)


_COMPLAINT = re.compile(
    r"\b(?:ternyata|tertipu|ditipu|penipuan|tipu|lapor|palsu|korban|tolong|rugi|dirugikan)\b"
)


def is_advert(message: str) -> bool:
    """An offer beside another mark of a sale ("jual kavling 2 ha, SHM, minat? hub sy",
    "PROMO!!! dana tunai cepat cair … hubungi admin kami"), complaining of nothing."""
    text = fold(message)
    offers = sum(1 for pattern in _OFFER_RES if pattern.search(text))
    if offers == 0 or offers + sum(1 for p in _SALE_RES if p.search(text)) < 2:
        return False
    return _COMPLAINT.search(text) is None


_HOMEWORK = re.compile(r"\bpekerjaan rumah\b", re.IGNORECASE)
_CLOCK = re.compile(r"\bpukul (?=berapa|brp|brapa|\d)", re.IGNORECASE)


def is_off_topic(message: str) -> bool:
    """True when a sentence of the message asks for something everyday that a legal-aid
    office's documents never hold ("jam brp skrg di Ambon?", "cuaca besok?", "resep rendang",
    "jadwal kapal Pelni minggu ini", "skor semalam", "terjemahkan good morning") and no word
    of the message is legal (`LEGAL_WORDS`): "kecelakaan bus pas cuaca buruk, asuransi nolak
    klaim" is a question for the knowledge base."""
    if is_advert(message):
        return True
    words = set(normalise(message).split()) | set(re.findall(r"[a-z]+", fold(message)))
    if not words & _TRIGGERS:
        return False
    if not any(_asks_everyday(sentence) for sentence in _SENTENCES.split(fold(message))):
        return False
    # "pekerjaan rumah" is homework, not a question about work; "pukul berapa" is the time,
    # not a beating.
    message = _CLOCK.sub("jam ", _HOMEWORK.sub("pr", message))
    if not any(_is_legal(word) for word in content_words(message)):
        return True
    # A legal word in the story before it does not make the request a legal question when
    # the sentence that asks ends the message, is the everyday request and holds none: "…
    # saya baru pulang kerja jam sembilan malam. Tolong bantu hitung tiga per empat ditambah
    # dua per lima?". Not when the story follows the question: "tanggal berapa hari ini? sy
    # mau hitung 14 hari banding" asks the date for a deadline.
    clause = asked_clause(message)
    return (
        clause is not None
        and message.rstrip().endswith(clause.rstrip())
        and _asks_everyday(fold(clause))
        and not any(_is_legal(word) for word in content_words(clause))
    )


def named_by_a_heading(message: str, headings: Iterable[str]) -> bool:
    """Every topic word of the message (two at least) is named by one of the headings, in
    any affixed form: the office wrote a section on exactly this ("harga TBS petani" beside
    "7. Harga TBS untuk Petani Swadaya" in a smallholders' guide), so its documents, not the
    everyday-request patterns, decide whether it is answered."""
    topic = [word_forms(w) for w in dict.fromkeys(content_words(message)) if topic_weight(w) > 0]
    # Or every topic word of the everyday request itself ("harga TBS plasma siapa yg
    # netapin?" asks "harga TBS", and "Harga TBS" is a section of the plasma guide) — unless
    # it asks for today's figure ("harga TBS di pasar dunia hari ini"): a quote, which no
    # guide on how prices are set gives.
    request = (
        [word_forms(w) for w in _request_words(message)]  # "harga" too: it is asked
        if _NOW.search(normalise(message)) is None
        else []
    )
    wanted = [words for words in (topic, request) if len(words) >= 2]
    for heading in headings:
        tokens = normalise(heading).split()  # normalised: plain lower-case words already
        if any(all(named_at(tokens, forms) for forms in words) for words in wanted):
            return True
    return False


_NOW = re.compile(
    r"\b(?:hari ini|sekarang|saat ini|minggu ini|bulan ini|terkini|terbaru|today|now)\b"
)


def _request_words(message: str) -> list[str]:
    """The content words of what the everyday-request patterns matched in the message."""
    found: dict[str, None] = {}
    for sentence in _SENTENCES.split(fold(message)):
        for match in _OFF_TOPIC.finditer(normalise(sentence)):
            found.update(dict.fromkeys(content_words(match.group())))
    return list(found)


def _asks_everyday(sentence: str) -> bool:
    """One of the patterns, in the folded sentence as normalised or as typed."""
    return any(
        _OFF_TOPIC.search(form)
        for form in (normalise(sentence), " ".join(re.findall(r"[a-z0-9]+", sentence)))
    )


_POSSESSIVES = ("nya", "ku", "mu", "ne")


def _is_legal(word: str) -> bool:
    """The word or what it is made from ("diadukan" → "adu", "penagihan" → "tagih",
    "dilecehkan" → "leceh", "bosku" → "bos") is a legal word. The stems need not be
    dictionary words: "leceh" and "gusur" are not in the frequency tiers."""
    forms = [word] + [
        word[: -len(p)] for p in _POSSESSIVES if word.endswith(p) and len(word) > len(p) + 2
    ]
    return any(
        form in LEGAL_WORDS
        or verb_root(form) in LEGAL_WORDS  # spoken forms: "nagih" → "tagih"
        or any(stem in LEGAL_WORDS for stem in affix_stems(form))
        for form in forms
    )
