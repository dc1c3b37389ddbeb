"""Word lists for the name heuristics: which words introduce a name and which never are one.

Stored lower-cased. A capitalised word after "Pak" is a name unless it is listed here: chat
users capitalise sentence starts ("Siap Pak Terima kasih"), roles ("Bu Hakim", "Pak RT"),
days, months and places ("Ibu Kota"), and a wrong "name" costs precision on every message.
"""

from __future__ import annotations

# Words that address or title a person; what follows may be a name. Matched case-insensitively
# with an optional trailing dot ("Bpk.", "Sdri.").
HONORIFICS: tuple[str, ...] = (
    "bapak", "bpk", "pak", "ibu", "ibunda", "bu", "sdr", "sdri", "saudara", "saudari",
    "mas", "mbak", "mba", "kak", "kakak", "bang", "abang", "tuan", "nyonya", "ny", "nona",
    "dr", "dokter", "prof", "ustadz", "ustaz", "ustadzah", "ust", "almarhum", "almarhumah",
    "alm", "klien", "tergugat", "penggugat", "terdakwa", "saksi", "pelapor", "terlapor",
    "mr", "mrs", "ms", "miss",
    # issue 11: pilgrims' and Malay, Chinese-Indonesian and regional forms of address
    "haji", "hajjah", "hj", "puan", "encik", "cik", "koh", "engkoh", "ci", "cici", "tn",
    "bli", "mbok", "uda", "akang", "kang", "cak", "ning", "gus", "bung", "opung", "ompung",
    "pakde", "bude", "om", "tante", "ustad", "kyai", "kiai", "habib", "romo", "pendeta", "pdt",
    "mbah", "nenek", "kakek", "eyang", "abah", "emak", "engkong", "paman", "bibi", "uwak",
    "wak", "aki", "nini", "inang", "amang", "oppung", "teteh", "aa",
)  # fmt: skip

# Professions written before a name like a title ("Notaris Hendra Gunawan"). Not "Jaksa": the
# Attorney General is "Jaksa Agung", and Agung is a common first name.
ROLES: tuple[str, ...] = (
    "notaris", "advokat", "pengacara", "hakim", "panitera", "penyidik", "kuasa hukum",
)  # fmt: skip

# Relatives and clients, followed by "saya"/"dari"/"kandung" ("anak saya, Rizki", "ibu dari
# Ahmad"): the words after them are often the person's name.
KIN: tuple[str, ...] = (
    "anak", "suami", "istri", "ibu", "ayah", "bapak", "adik", "kakak", "klien", "keponakan",
    "cucu", "mertua", "paman", "bibi", "tante", "om", "saudara",
)  # fmt: skip

# Titles written between the honorific and the name and not part of it ("Bpk. H. Ahmad",
# "Ibu Dr. Sri"); always with their dot, so they cannot be mistaken for a name.
TITLES: tuple[str, ...] = (
    "H", "Hj", "Dr", "dr", "Drs", "Dra", "Ir", "Prof", "KH", "R", "Rr", "Ny", "Tn", "Hajjah",
)  # fmt: skip

# Titles written as words before a name ("Bapak Haji Muhidin").
WORD_TITLES: frozenset[str] = frozenset({"haji", "hajjah"})

# Lower-case words inside a name, between two capitalised ones: "Ahmad bin Salim", "Rumondang
# br Simanjuntak", "Van der Berg".
CONNECTORS: frozenset[str] = frozenset({"bin", "binti", "bt", "br", "boru", "van", "der", "de"})

# Third parties: a relation word, then optional modifiers, then a comma, colon or parenthesis
# (or just a space after a modifier) before the name: "mantan istri saya, X", "Pacarnya, X",
# "Suami (X)", "Penjamin utangnya X & Y", "Kuasa hukum lawan, X".
RELATIONS: tuple[str, ...] = (
    "anak", "anak2", "anak-anak", "suami", "istri", "ibu", "ayah", "bapak", "adik", "kakak",
    "keponakan", "cucu", "mertua", "paman", "bibi", "tante", "om", "saudara", "sepupu",
    "nenek", "kakek", "ipar", "menantu", "besan", "pacar", "tunangan", "teman", "kawan",
    "sahabat", "rekan", "tetangga", "majikan", "atasan", "bos", "mandor", "pemilik",
    "penyewa", "pembeli", "penjual", "penjamin", "debitur", "debiturnya", "kreditur",
    "penagih", "pelaku", "penipu", "tersangka", "terdakwa", "tergugat", "penggugat",
    "saksi", "saksi-saksi", "kuasa hukum", "pengacara", "notaris", "lawan", "klien",
    "direktur", "pimpinan", "kepala desa", "kades", "lurah", "camat", "ketua rt", "pak rt",
    "dokter", "guru", "pelapor", "terlapor", "korban", "peminjam", "pemberi pinjaman",
    "ahli waris", "pewaris", "almarhum", "almarhumah", "alm", "debt collector", "dc",
    "bersaudara", "kepala adat", "kepala sekolah", "kepala dusun", "kepala kantor",
    "ketua adat", "ketua rw", "ketua yayasan", "pemimpin", "bendahara", "sekretaris",
)  # fmt: skip

# Words between a relation word and the name: "kakak tiri saya", "teman kerja", "pemilik
# tanah sebelumnya", "pengacara pihak lawan".
MODIFIERS: tuple[str, ...] = (
    "saya", "sy", "kami", "aku", "kita", "dari", "kandung", "tiri", "ipar", "angkat", "kedua",
    "pertama", "siri", "sah", "lawan", "pihak", "kerja", "sekantor", "sebelah", "sebelumnya",
    "lama", "baru", "tanah", "rumah", "kos", "kontrakan", "ruko", "warung", "toko", "gudang",
    "kios", "mobil", "motor", "utangnya", "hutangnya", "laki-laki", "perempuan", "tertua",
    "sulung", "bungsu", "mertua", "kecil", "besar", "almarhum", "almarhumah", "alm", "hukum",
    "yang", "itu", "tsb", "tersebut", "ini", "mantan", "suami", "istri", "ayah", "ibu",
)  # fmt: skip

# Informal chat words a dictionary of written Indonesian misses; never the start of a name.
CHAT_WORDS: frozenset[str] = frozenset(
    {
        "pengen",
        "pingin",
        "pgn",
        "mw",
        "mo",
        "gatau",
        "gtau",
        "gk",
        "ngga",
        "nggak",
        "kagak",
        "udh",
        "udah",
        "sdh",
        "blm",
        "lg",
        "tgl",
        "skrg",
        "kmrn",
        "td",
        "tdi",
        "bgt",
        "bgmn",
        "gmn",
        "knp",
        "krn",
        "tp",
        "trs",
        "trus",
        "terus",
        "dgn",
        "utk",
        "yg",
        "sy",
        "aq",
        "gw",
        "gue",
        "lu",
        "lo",
        "min",
        "mimin",
        "kakak",
        "ka",
        "bro",
        "sis",
        "gan",
        "bos",
        "bang",
        "dek",
        "nih",
        "tuh",
        "kah",
        "mah",
        "wkwk",
        "hehe",
        "plis",
        "pls",
        "tolongin",
        "bantuin",
        "nanya",
        "nanyain",
        "tanyain",
        "ngurus",
        "ngadu",
        "lapor",
        "konsul",
        "konsultasi",
    }
)


# Words that are a role at the start of a name ("Bu Hakim" is the judge) but a name inside one
# ("Pak Lukman Hakim"): common Indonesian surnames that double as titles.
NAMES_AFTER_FIRST_WORD: frozenset[str] = frozenset({"hakim", "kok", "mas", "agung", "sari"})

# Lower-case words after which capitalised words name a place or an institution, not a
# person: "tinggal di Kebon Jeruk", "kerja di PT …", "pindah ke Kota Baru".
PLACE_WORDS: tuple[str, ...] = (
    "di", "ke", "dari", "daerah", "kota", "kabupaten", "kab", "desa", "kelurahan", "kecamatan",
    "kampung", "jalan", "jl", "provinsi", "pt", "cv", "bank", "kantor", "pengadilan", "polres",
    "polsek", "polda", "dinas", "universitas", "sekolah", "rs", "rumah", "gedung", "pulau",
    "wilayah", "kawasan", "sekitar", "arah", "menuju", "asal", "warga", "lewat", "via", "aplikasi",
    "app", "merek", "merk", "produk", "tipe", "uu", "pasal", "putusan", "perkara", "hukum",
)  # fmt: skip

# Ordinary words that often end a long name ("I Made Agus Suarjana Putra").
LAST_NAME_WORDS: frozenset[str] = frozenset(
    {"putra", "putri", "sari", "dewi", "ayu", "jaya", "wijaya", "kusuma", "pratama", "utama"}
)

# Months that are also given names ("Bu Mei", "Bu Juni"): a name right after an honorific
# unless a number follows ("Juni 2024").
MONTH_NAMES: frozenset[str] = frozenset({"mei", "juni", "juli", "april", "agustus"})

# Capitalised words that end a name or disqualify it.
# fmt: off
NOT_NAMES: frozenset[str] = frozenset({
    # honorifics and titles
    "bapak", "bpk", "pak", "ibu", "bu", "sdr", "sdri", "saudara", "saudari", "mas", "mbak",
    "mba", "kak", "kakak", "bang", "abang", "adik", "dik", "tuan", "nyonya", "nona", "dokter",
    "dr", "prof", "om", "tante", "mr", "mrs", "ms", "miss",
    # pronouns, function words and chat particles
    "saya", "aku", "kami", "kita", "anda", "kamu", "dia", "beliau", "mereka", "ini", "itu",
    "tersebut", "yang", "dan", "atau", "dengan", "di", "ke", "dari", "untuk", "pada", "dalam",
    "oleh", "karena", "jika", "kalau", "kalo", "tapi", "namun", "juga", "sudah", "udah", "sdh",
    "blm", "belum", "akan", "mau", "ingin", "ada", "tidak", "tdk", "gak", "ga", "nggak",
    "enggak", "bukan", "ya", "iya", "yaa", "ok", "oke", "okay", "baik", "siap", "terima",
    "kasih", "makasih", "trims", "thanks", "thank", "mohon", "tolong", "maaf", "permisi",
    "halo", "hallo", "hai", "hi", "kok", "sih", "dong", "deh", "kan", "nih", "tuh", "loh",
    "lho", "pun", "jg", "aja", "saja", "cuma", "hanya", "memang", "emang", "kurang", "typo",
    # greetings
    "selamat", "pagi", "siang", "sore", "malam", "salam", "assalamualaikum", "waalaikumsalam",
    "wassalam", "hormat",
    # questions and common verbs/adverbs
    "apakah", "apa", "bagaimana", "gimana", "kapan", "dimana", "mana", "siapa", "berapa",
    "kenapa", "mengapa", "bisa", "boleh", "perlu", "harus", "sedang", "lagi", "masih", "baru",
    "sangat", "sekali", "semua", "setiap", "para", "bagi", "sebagai", "tentang", "sesuai",
    "terkait", "mengenai", "agar", "supaya", "sehingga", "lalu", "kemudian", "nanti", "besok",
    "kemarin", "hari", "tercantum", "terdaftar", "tertera", "sama", "salah", "beda", "berbeda",
    "ganti", "diganti", "lengkap",
    # days and months
    "senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad", "januari",
    "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
    "november", "desember", "jan", "feb", "mar", "apr", "jun", "jul", "agt", "sep", "sept",
    "okt", "nov", "des",
    # offices, roles and legal parties
    "presiden", "wakil", "menteri", "gubernur", "bupati", "walikota", "wali", "camat", "lurah",
    "kades", "rt", "rw", "ketua", "kepala", "direktur", "dirut", "manajer", "manager", "staf",
    "staff", "sekretaris", "bendahara", "hakim", "jaksa", "panitera", "notaris", "pengacara",
    "advokat", "kuasa", "hukum", "polisi", "penyidik", "kapolres", "kapolda", "kapolsek",
    "guru", "dosen", "rektor", "dekan", "komisaris", "anggota", "pimpinan", "kabag", "kasubag",
    "kasi", "kabid", "klien", "tergugat", "penggugat", "terdakwa", "saksi", "pelapor",
    "terlapor", "pemohon", "termohon", "ahli", "waris", "almarhum", "almarhumah", "alm",
    "tunggal", "pengganti", "penuntut", "umum", "muda", "senior", "junior", "utama", "madya",
    "sidang",
    # institutions and places
    "pt", "cv", "tbk", "ud", "koperasi", "yayasan", "bank", "kantor", "dinas", "kementerian",
    "kemenkumham", "pengadilan", "kejaksaan", "kejari", "kejati", "polres", "polda", "polsek",
    "mahkamah", "konstitusi", "negeri", "agama", "tinggi", "niaga", "kota", "kabupaten", "kab",
    "provinsi", "prov", "kecamatan", "kelurahan", "desa", "jalan", "jl", "gang", "gg", "rumah",
    "sakit", "rs", "puskesmas", "universitas", "sekolah", "indonesia", "ri", "republik",
    "negara", "nasional", "daerah", "pusat", "jakarta", "bandung", "surabaya", "medan",
    "semarang", "yogyakarta", "jogja", "makassar", "denpasar", "bali", "palembang", "bekasi",
    "bogor", "depok", "tangerang", "malang", "solo", "batam", "pekanbaru", "padang", "aceh",
    "papua", "utara", "selatan", "barat", "timur", "tengah", "raya",
    # channels, documents and profile-name filler
    "whatsapp", "wa", "email", "sms", "telepon", "hp", "nik", "npwp", "ktp", "kk", "sim",
    "rekening", "rek", "no", "nomor", "toko", "admin", "official", "cs", "customer", "service",
    "store", "shop", "olshop", "mama", "papa", "mamah", "papah", "ayah", "bunda", "keluarga",
    "grup", "group", "info",
    # issue 11: amounts ("Gaji saya Rp …"), legal documents and institutions
    "rp", "rupiah", "idr", "usd", "pasal", "uu", "perma", "perkara", "putusan", "akta",
    "sertifikat", "shm", "hgb", "bpjs", "kis", "pn", "pa", "ma", "mk", "polri", "tni",
    "ojk", "kuhp", "kuhper", "kuhperdata", "lp", "sktm", "bpkb", "stnk", "jhi", "phi",
    "kapolri", "lbh", "posbakum", "debt", "collector", "dc", "leasing", "pinjol", "kos",
    "kontrakan", "sleman", "kalimantan", "sumatera", "jawa", "sulawesi", "malaysia",
    "singapura", "johor", "manado", "jabar", "jatim", "jateng", "dki",
    "ntt", "ntb", "kaltim", "sumut", "sumbar", "sumsel", "kepri", "diy", "metro",
    "tangsel", "jaksel", "jakut", "jakbar", "jaktim", "jakpus", "cikarang", "karawang",
    "dear", "yth", "regards", "wassalamualaikum",
    # occupations people are addressed by ("mbak resepsionis", "pak satpam")
    "resepsionis", "satpam", "sopir", "supir", "kurir", "kasir", "ojol", "ojek", "bidan",
    "perawat", "suster", "petugas", "pegawai", "karyawan", "buruh", "mandor", "security",
    "marketing", "sales", "teller", "operator", "agen", "calo", "makelar", "kolektor",
    "penagih", "tukang", "montir", "teknisi", "pembantu", "art", "pengasuh", "driver",
    "perkenalkan", "kenalin", "invoice", "resi", "spesialis", "komnas", "ombudsman",
    "polrestabes", "polresta", "disnaker", "dukcapil", "bpn", "kemnaker", "kemenaker",
    "pegadaian", "kpai", "lpsk", "kpk",
    # what people say they are ("saya pns", "sy janda 2 anak")
    "pns", "asn", "honorer", "pelajar", "mahasiswi", "karyawati", "wiraswasta", "irt",
    "janda", "duda", "yatim", "piatu", "lajang", "single", "pensiunan", "tki", "tkw", "pmi",
    "allah", "tuhan", "nabi", "fotokopi", "fotocopy", "scan", "majelis", "mediator",
    "satpol", "pp", "aparat", "developer", "investor", "pengembang", "arbiter", "kurator",
    "likuidator", "juru", "sita", "debitur", "kreditur", "tim", "hrd", "personalia",
})
# fmt: on
