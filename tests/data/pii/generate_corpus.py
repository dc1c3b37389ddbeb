"""Deterministic generator of the labelled PII corpus `corpus.jsonl` (CP1 evaluation).

    /tmp/venv/bin/python tests/data/pii/generate_corpus.py          # rewrites corpus.jsonl
    /tmp/venv/bin/python tests/data/pii/generate_corpus.py --check  # exit 1 if it differs

Each line: {"text", "entities": [{"start", "end", "type", "value"}], "known_names": [...]}.
Texts are WhatsApp-style Indonesian (informal, abbreviated, the odd typo). Entities are
labelled by construction, so offsets are exact; labelling rules:
* NIK, NPWP, REKENING, TELEPON: the number as typed, separators, `+` and `(021)` included.
* EMAIL: the address. NAMA: the name words only, without honorifics or titles ("Pak H.
  [Ahmad Fauzi]"); a lowercase name after an honorific is still a name (and hard to find).
NIKs are valid by construction (real province codes, real dates, women's day + 40); the
negatives include 16-digit numbers that break exactly one NIK rule. Standard library only:
the generator must not know what the recognisers accept.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SEED = 20240817
OUT = Path(__file__).with_name("corpus.jsonl")


@dataclass(frozen=True)
class E:
    """An entity piece of a line."""

    type: str
    value: str


Piece = str | E


@dataclass(frozen=True)
class Line:
    pieces: tuple[Piece, ...]
    known_names: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        text, entities = "", []
        for piece in self.pieces:
            if isinstance(piece, E):
                entities.append(
                    {
                        "start": len(text),
                        "end": len(text) + len(piece.value),
                        "type": piece.type,
                        "value": piece.value,
                    }
                )
                text += piece.value
            else:
                text += piece
        for entity in entities:
            assert text[entity["start"] : entity["end"]] == entity["value"]
        return {"text": text, "entities": entities, "known_names": list(self.known_names)}


# ------------------------------------------------------------------ vocabulary
# fmt: off

MALE = """Budi Agus Andi Joko Bambang Hendra Rudi Dedi Eko Yudi Rizky Fajar Ahmad Muhammad Arif
Dimas Bayu Yoga Adi Teguh Wahyu Imam Hadi Surya Rahmat Fauzi Taufik Irfan Reza Gilang Hasan
Slamet Sutrisno Sugeng Darmawan Ferry Kevin Yohanes Antonius Made Ketut Wayan Gede""".split()  # noqa: SIM905
FEMALE = """Siti Rina Dewi Sri Ani Nur Putri Ayu Indah Lestari Wulan Maya Fitri Ratna Yuni Dian
Ratih Anisa Nadia Sari Intan Melati Rahma Aisyah Fatimah Kartika Larasati Novita Yohana Maria
Theresia Kadek Nyoman Citra Handayani Wati Sinta Mega Desi Eka""".split()  # noqa: SIM905
SURNAMES = """Santoso Wijaya Pratama Saputra Hidayat Kusuma Setiawan Nugroho Siregar Nasution
Simanjuntak Harahap Lubis Hutapea Sitompul Tanjung Gunawan Halim Tanoto Suryadi Wibowo Hakim
Purnomo Susanto Rahman Syahputra Permana Hartono Sembiring Ginting Manurung Panjaitan Pardede
Sulistyo Kurniawan Lim Tan Wirawan Utomo Sihombing Rusdi""".split()  # noqa: SIM905

PROVINCES = [11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
             61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96]
BAD_PROVINCES = [0, 1, 9, 10, 20, 22, 30, 37, 40, 45, 50, 54, 60, 66, 70, 77, 80, 83, 90, 97, 99]

MOBILE_PREFIXES = """0811 0812 0813 0821 0822 0823 0851 0852 0853 0814 0815 0816 0855 0856
0857 0858 0817 0818 0819 0859 0877 0878 0831 0832 0833 0838 0895 0896 0897 0898 0899 0881
0882 0887 0888 0889""".split()  # noqa: SIM905
AREA_CODES = ["021", "022", "024", "031", "0274", "0361", "061", "0411", "0711", "0541",
              "0251", "0231", "0341", "0370", "0431"]

EMAIL_DOMAINS = """gmail.com gmail.com gmail.com yahoo.co.id yahoo.com outlook.com hotmail.com
kemenkumham.go.id pajak.go.id mahkamahagung.go.id kominfo.go.id jakarta.go.id ui.ac.id
ugm.ac.id student.unpad.ac.id mail.unair.ac.id lawfirm.co.id hplaw.co.id adv-partners.co.id
hukumonline.com proton.me icloud.com""".split()  # noqa: SIM905

BANKS = {  # bank → account-number layouts; "d" is a digit, "0"/"1"… literal
    "BCA": ["dddddddddd", "ddd-ddd-dddd", "ddd ddd dddd"],
    "Mandiri": ["1dddddddddddd", "1dd-dd-ddddddd-d", "1dd dd ddddddd d"],
    "BRI": ["0ddd01dddddd50d", "0ddd-01-dddddd-50-d", "dddd-01-dddddd-53-d"],
    "BNI": ["0ddddddddd", "dddddddddd", "0dd-ddd-dddd"],
    "BSI": ["7ddddddddd", "7dd-ddd-dddd"],
    "CIMB Niaga": ["80dddddddddd", "7dddddddddddd"],
    "Permata": ["4ddddddddd", "97ddddddddd"],
    "Danamon": ["00dddddddddd", "35dddddddd"],
    "BTN": ["00dddd01500ddddd", "00dd-01-50-dddddd-d"],
    "Jago": ["10ddddddddd"],
}
# fmt: on


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def fill(rng: random.Random, layout: str) -> str:
    return "".join(rng.choice("0123456789") if c == "d" else c for c in layout)


def person(rng: random.Random, *, female: bool | None = None, words: int | None = None) -> str:
    female = rng.random() < 0.5 if female is None else female
    first = rng.choice(FEMALE if female else MALE)
    count = words or rng.choice([1, 2, 2, 2, 3])
    parts = [first]
    if count == 3:
        parts.append(rng.choice(FEMALE if female else MALE))
    if count >= 2:
        parts.append(rng.choice(SURNAMES))
    return " ".join(dict.fromkeys(parts))


# ------------------------------------------------------------------ identifiers


def nik_digits(rng: random.Random, *, female: bool | None = None) -> str:
    female = rng.random() < 0.5 if female is None else female
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66))
    day = born.day + (40 if female else 0)
    regency = rng.choice([rng.randint(1, 30), rng.randint(71, 79)])
    return (
        f"{rng.choice(PROVINCES):02d}{regency:02d}{rng.randint(1, 45):02d}"
        f"{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 9999):04d}"
    )


def leap_day_nik(rng: random.Random) -> str:
    year = rng.choice([1964, 1972, 1980, 1988, 1996, 2000, 2004])
    day = 29 + rng.choice([0, 40])
    return (
        f"{rng.choice(PROVINCES):02d}{rng.randint(1, 20):02d}{rng.randint(1, 30):02d}"
        f"{day:02d}02{year % 100:02d}{rng.randint(1, 9999):04d}"
    )


def invalid_nik(rng: random.Random) -> str:
    """16 digits breaking exactly one NIK rule."""
    nik = nik_digits(rng)
    flaw = rng.choice(["province", "month", "day", "feb", "serial", "regency", "district"])
    if flaw == "province":
        return f"{rng.choice(BAD_PROVINCES):02d}" + nik[2:]
    if flaw == "month":
        return nik[:8] + f"{rng.choice([0, 13, 14, 19, 21, 45, 99]):02d}" + nik[10:]
    if flaw == "day":
        return nik[:6] + f"{rng.choice([0, 32, 35, 40, 72, 80, 99]):02d}" + nik[8:]
    if flaw == "feb":  # 30 Feb, or 29 Feb in a year that is not leap as 19YY nor 20YY
        day, yy = rng.choice([(30, rng.randint(0, 99)), (29, rng.choice([1, 3, 23, 85, 95]))])
        return nik[:6] + f"{day + rng.choice([0, 40]):02d}02{yy:02d}" + nik[12:]
    if flaw == "serial":
        return nik[:12] + "0000"
    if flaw == "regency":
        return nik[:2] + rng.choice(["00", "80", "88", "95"]) + nik[4:]
    return nik[:4] + "00" + nik[6:]


def format_nik(rng: random.Random, nik: str) -> str:
    style = rng.choices(["plain", "4444", "664", "22264"], weights=[70, 15, 10, 5])[0]
    if style == "4444":
        sep = rng.choice([" ", " ", "-", "."])
        return sep.join(nik[i : i + 4] for i in range(0, 16, 4))
    if style == "664":
        sep = rng.choice([" ", "."])
        return sep.join([nik[:6], nik[6:12], nik[12:]])
    if style == "22264":
        return ".".join([nik[:2], nik[2:4], nik[4:6], nik[6:12], nik[12:]])
    return nik


def npwp(rng: random.Random) -> str:
    """An NPWP as typed: old 15 digits or new 16, punctuated or plain."""
    kind = rng.choice(["01", "02", "03", "07", "08", "09", "21", "31", "66", "70", "80", "94"])
    office, status = rng.randint(400, 999), rng.choice(["000", "000", "001"])
    base = f"{kind}{digits(rng, 6)}{rng.randint(0, 9)}{office}{status}"
    sixteen = rng.random() < 0.3
    if sixteen:
        base = "0" + base
    if rng.random() < 0.6:
        head = base[:3] if sixteen else base[:2]
        rest = base[len(head) :]
        return f"{head}.{rest[:3]}.{rest[3:6]}.{rest[6]}-{rest[7:10]}.{rest[10:]}"
    return base


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(MOBILE_PREFIXES)
    rest = digits(rng, rng.choice([7, 8, 8, 8, 9]))
    national = prefix + rest
    style = rng.choice(
        ["plain", "dash", "space", "dot", "+62", "+62dash", "62", "+62plain", "dash434", "+62space"]
    )
    sub = national[1:]
    groups = [national[:4], national[4:8], national[8:]]
    if style == "plain":
        return national
    if style == "dash":
        return "-".join(groups)
    if style == "space":
        return " ".join(groups)
    if style == "dot":
        return ".".join(groups)
    if style == "dash434" and len(national) == 11:
        return f"{national[:4]}-{national[4:7]}-{national[7:]}"
    if style == "dash434":
        return f"{national[:4]}-{national[4:8]}-{national[8:]}"
    if style == "+62":
        return f"+62 {sub[:3]}-{sub[3:7]}-{sub[7:]}"
    if style == "+62dash":
        return f"+62-{sub[:3]}-{sub[3:7]}-{sub[7:]}"
    if style == "+62space":
        return f"+62 {sub[:3]} {sub[3:7]} {sub[7:]}"
    if style == "62":
        return "62" + sub
    return "+62" + sub


def landline(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    local = str(rng.randint(2, 8)) + digits(rng, 7 if area == "021" else rng.choice([5, 6]))
    style = rng.choice(["paren", "dash", "space", "+62", "parendash"])
    if style == "paren":
        return f"({area}) {local}"
    if style == "parendash":
        return f"({area}) {local[:3]}-{local[3:]}"
    if style == "dash":
        return f"{area}-{local}"
    if style == "space":
        return f"{area} {local[:4]} {local[4:]}"
    return f"+62 {area[1:]} {local}"


def international(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: (
                f"+1 {rng.choice(['415', '212', '646'])} {rng.randint(200, 989)} {digits(rng, 4)}"
            ),
            lambda: f"+1 ({rng.choice(['415', '202'])}) {rng.randint(200, 989)}-{digits(rng, 4)}",
            lambda: f"+44 20 7{digits(rng, 3)} {digits(rng, 4)}",
            lambda: f"+44 7{rng.choice(['700', '911', '400', '555'])} {digits(rng, 6)}",
            lambda: f"+65 {rng.choice('89')}{digits(rng, 3)} {digits(rng, 4)}",
            lambda: f"+60 12-{digits(rng, 3)} {digits(rng, 4)}",
            lambda: f"+61 4{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}",
            lambda: f"+31 6 {digits(rng, 8)}",
            lambda: f"+81 90-{digits(rng, 4)}-{digits(rng, 4)}",
            lambda: f"+966 5{rng.choice('0345')} {digits(rng, 3)} {digits(rng, 4)}",
            lambda: f"+49 151 {digits(rng, 8)}",
        ]
    )()


def phone(rng: random.Random) -> str:
    return rng.choices([mobile, landline, international], weights=[65, 20, 15])[0](rng)


def email(rng: random.Random, name: str | None = None) -> str:
    words = (name or person(rng, words=2)).lower().split()
    local = rng.choice(
        [
            ".".join(words),
            "_".join(words) + str(rng.randint(1, 99)),
            words[0] + str(rng.randint(70, 2005)),
            words[0][0] + "." + words[-1],
            words[0] + "+" + rng.choice(["kasus", "pajak", "wa"]),
            words[-1] + "." + words[0],
            rng.choice(["info", "admin", "legal", "humas", "cs"]),
        ]
    )
    address = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    return address.upper() if rng.random() < 0.03 else address


def account(rng: random.Random) -> tuple[str, str]:
    bank = rng.choice(list(BANKS))
    return bank, fill(rng, rng.choice(BANKS[bank]))


# ------------------------------------------------------------------ chat fragments

GREET = [
    "",
    "",
    "",
    "Selamat pagi, ",
    "Siang min, ",
    "Halo kak, ",
    "Permisi, ",
    "Assalamualaikum, ",
    "pagi pak, ",
    "mlm min ",
    "Sore bu, ",
    "Min, ",
    "halo ",
    "Selamat siang Bapak/Ibu, ",
    "Maaf mengganggu, ",
    "Kak ",
    "pak mau tanya, ",
]
END = [
    "",
    "",
    "",
    " ya",
    " mksh",
    " trims",
    " terima kasih",
    " 🙏",
    " tq",
    " gmn ya?",
    " tolong dicek ya min",
    " utk pendaftaran",
    " buat surat kuasa",
    " sdh sy kirim jg",
    ". Terima kasih banyak",
    " ya kak, makasih",
    "..",
    " !!",
    " , ditunggu kabarnya",
]
HONOR = [
    "Pak",
    "Pak",
    "pak",
    "Bapak",
    "Bpk.",
    "Bu",
    "Bu",
    "bu",
    "Ibu",
    "Sdr.",
    "Sdri.",
    "Mas",
    "Mbak",
    "Kak",
    "Saudara",
    "Saudari",
    "dr.",
    "Tuan",
    "Ny.",
]
TITLES = ["H.", "Hj.", "Dr.", "Drs.", "Ir.", "Prof."]
ORGS = [
    "PT Maju Jaya",
    "kantor hukum",
    "Dinas Kominfo",
    "CV Sinar",
    "LBH Jakarta",
    "Kemenkumham",
    "bagian legal",
    "Pengadilan Negeri",
]


def g(rng: random.Random) -> str:
    return rng.choice(GREET)


def end(rng: random.Random) -> str:
    return rng.choice(END)


def honorific_name(rng: random.Random) -> list[Piece]:
    hon = rng.choice(HONOR)
    female = hon in ("Bu", "bu", "Ibu", "Sdri.", "Mbak", "Saudari", "Ny.")
    name = person(rng, female=female)
    title = f"{rng.choice(TITLES)} " if rng.random() < 0.12 else ""
    if rng.random() < 0.04:
        name = name.lower()  # "pak budi": a name, though nothing marks it as one
    return [f"{hon} {title}", E("NAMA", name)]


def nik_piece(rng: random.Random) -> list[Piece]:
    nik = leap_day_nik(rng) if rng.random() < 0.06 else nik_digits(rng)
    value = format_nik(rng, nik)
    lead = rng.choice(
        [
            "NIK saya ",
            "nik sy ",
            "NIK: ",
            "No. KTP ",
            "nomor KTP istri saya ",
            "NIK ",
            "nik nya ",
            "Nomor Induk Kependudukan: ",
            "NIK (sesuai KTP) ",
            "no ktp ",
            "ini NIK klien: ",
            "e-KTP no ",
            "",
            "",
        ]
    )
    return [lead, E("NIK", value)]


def npwp_piece(rng: random.Random) -> list[Piece]:
    value = npwp(rng)
    if rng.random() < 0.12:
        return [E("NPWP", value), rng.choice([" (NPWP)", " itu npwp pribadi sy", " npwp kantor"])]
    lead = rng.choice(
        [
            "NPWP saya ",
            "npwp: ",
            "NPWP PT kami ",
            "no npwp ",
            "NPWP ",
            "npwp pribadi ",
            "Nomor NPWP: ",
            "NPWP perusahaan ",
        ]
    )
    return [lead, E("NPWP", value)]


def phone_piece(rng: random.Random) -> list[Piece]:
    value = phone(rng)
    lead = rng.choice(
        [
            "no hp saya ",
            "wa: ",
            "bisa hub ke ",
            "nomor WA ",
            "hp ",
            "telp ",
            "kontak ",
            "ini no adik saya ",
            "nomor saya ganti jd ",
            "HP/WA: ",
            "hubungi aja ",
            "CP: ",
            "no tlp kantor ",
            "",
            "",
        ]
    )
    return [lead, E("TELEPON", value)]


def email_piece(rng: random.Random) -> list[Piece]:
    lead = rng.choice(
        [
            "email saya ",
            "kirim ke ",
            "email: ",
            "alamat surel ",
            "emailnya ",
            "cc ke ",
            "tolong balas ke ",
            "E-mail ",
            "ke email ",
            "",
        ]
    )
    return [lead, E("EMAIL", email(rng))]


def account_piece(rng: random.Random) -> list[Piece]:
    bank, number = account(rng)
    shape = rng.randrange(6)
    if shape == 0:
        return [f"tf ke rek {bank} ", E("REKENING", number)]
    if shape == 1:
        return [f"no rek {bank}: ", E("REKENING", number)]
    if shape == 2:
        return [f"norek {bank.lower()} ", E("REKENING", number)]
    if shape == 3:
        return [E("REKENING", number), f" ({bank})"]
    if shape == 4:
        return [f"rekening {bank} saya ", E("REKENING", number)]
    return [f"transfer ke {bank} ", E("REKENING", number)]


def holder_piece(rng: random.Random) -> list[Piece]:
    name = person(rng, words=rng.choice([2, 2, 3]))
    lead = rng.choice([" a.n. ", " an. ", " atas nama ", " a/n "])
    if lead == " a/n ":
        lead = " a.n "
    return [lead, E("NAMA", name.upper() if rng.random() < 0.5 else name)]


def intro_piece(rng: random.Random) -> list[Piece]:
    name = person(rng)
    lead = rng.choice(
        [
            "nama saya ",
            "Nama saya ",
            "Saya ",
            "saya ",
            "Nama lengkap: ",
            "perkenalkan, nama saya ",
            "Nama: ",
            "nama lengkap saya ",
        ]
    )
    if lead.strip().lower() in ("nama saya", "nama lengkap saya") and rng.random() < 0.3:
        name = name.lower()
    tail = rng.choice(["", f" dari {rng.choice(ORGS)}", ", mau konsultasi", " mau tanya"])
    return [lead, E("NAMA", name), tail]


def known_line(rng: random.Random) -> Line:
    full = person(rng, words=2)
    first, last = full.split()
    profile = rng.choice(
        [
            full,
            first,
            f"{first} 🙏",
            f"~{first}~",
            f"{full.upper()}",
            f"{first.lower()}_{last.lower()}",
        ]
    )
    account_name = rng.choice([full, f"{full}, S.H.", f"{full} S.Kom"])
    known = (profile, account_name)
    shapes: list[list[Piece]] = [
        [g(rng), "ini ", E("NAMA", first), " yg kemarin konsultasi soal warisan"],
        ["Salam, ", E("NAMA", full)],
        ["tolong sampaikan ke pak ", E("NAMA", first.lower()), " ya, berkasnya sdh lengkap"],
        [E("NAMA", first), " mau tanya, sidang berikutnya kapan?"],
        ["Hormat saya,\n", E("NAMA", full)],
        ["sy ", E("NAMA", first), ", td sdh telp ke kantor"],
        ["Terima kasih, salam ", E("NAMA", last), " sekeluarga"],
        ["mohon dicatat atas nama ", E("NAMA", full.upper()), end(rng)],
        ["kata bu ", E("NAMA", first), " dokumennya kurang 1"],
        ["oke siap, nanti ", E("NAMA", first), " kabari lagi"],
        ["halo, ini aku ", E("NAMA", first), " hehe"],
        ["mau ganti jadwal ya, dari ", E("NAMA", full)],
        ["budidaya ikan di tambak termasuk usaha mikro?"],  # known name present, not mentioned
        ["pelayanannya bagus, makasih banyak min"],
    ]
    return Line(tuple(rng.choice(shapes)), known)


# ------------------------------------------------------------------ negatives


def shopee_order(rng: random.Random) -> str:
    return f"24{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + "".join(
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8)
    )


def negative(rng: random.Random) -> list[Piece]:
    bad = invalid_nik(rng)
    y = rng.choice([2022, 2023, 2024, 2025])
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    amount = f"{rng.randint(1, 999)}.{rng.randint(0, 999):03d}.000"
    minute, minor = rng.choice(["00", "15", "30", "45"]), rng.randint(0, 20)
    options: list[Callable[[], str]] = [
        lambda: f"pesanan {shopee_order(rng)} blm sampai min",
        lambda: f"no order {y % 100}{month:02d}{day:02d}{digits(rng, 7)} sdh dikirim?",
        lambda: f"INV/{y}{month:02d}{day:02d}/MPL/{digits(rng, 10)} sudah dibayar ya",
        lambda: f"No. Invoice: INV-{y}-{digits(rng, 6)}",
        lambda: f"sidang tgl {day:02d}-{month:02d}-{y} jam {rng.randint(8, 15):02d}.{minute}",
        lambda: f"jadwal mediasi {y}-{month:02d}-{day:02d} pukul {rng.randint(8, 15):02d}:00 WIB",
        lambda: f"tanggal {day}/{month}/{y} saya tdk bisa hadir",
        lambda: f"biaya jasa hukum Rp {amount} blm termasuk PPN",
        lambda: f"total Rp{amount},- sudah saya lunasi",
        lambda: f"DP {rng.randint(1, 9)}00rb dulu boleh?",
        lambda: f"ganti rugi IDR {amount} terlalu besar gak sih",
        lambda: f"sdh transfer Rp {amount} ke BCA tgl {day:02d}-{month:02d}-{y}",
        lambda: f"no resi {bad} kok blm update",
        lambda: f"kode booking {bad}",
        lambda: f"ID pelanggan {bad} tagihan bulan ini",
        lambda: f"nomor kartu member {bad[:4]} {bad[4:8]} {bad[8:12]} {bad[12:]}",
        lambda: f"{bad} itu nomor apa ya min?",
        lambda: f"kode billing {digits(rng, 15)} sdh dibayar",
        lambda: f"resi J&T JP{digits(rng, 10)} / SiCepat 00{digits(rng, 10)}",
        lambda: f"resi anteraja 1000{digits(rng, 10)} katanya sdh diterima",
        lambda: f"mobil B {rng.randint(1000, 9999)} {rng.choice(['XYZ', 'KJT', 'UAB'])} yg nabrak",
        lambda: f"plat nomornya D {rng.randint(1000, 9999)} ABC pak",
        lambda: f"aplikasinya versi {rng.randint(1, 12)}.{rng.randint(0, 9)}.{minor} error terus",
        lambda: f"perkara No. {rng.randint(1, 999)}/Pdt.G/{y}/PN Jkt.Sel sdh putus?",
        lambda: f"putusan {rng.randint(1, 999)}/Pid.B/{y}/PN Bdg bisa banding?",
        lambda: f"SK Nomor 188.45/{rng.randint(100, 999)}/{y} ttg izin usaha",
        lambda: "UU 27/2022 ttg PDP berlaku kapan?",
        lambda: "Pasal 1320 KUHPerdata syarat sahnya perjanjian apa aja",
        lambda: f"PP No. {rng.randint(10, 99)} Tahun {rng.randint(2000, 2024)} masih berlaku?",
        lambda: f"kode pos {rng.randint(10000, 99999)}, lantai {rng.randint(2, 30)}",
        lambda: f"kode OTP {digits(rng, 6)} jgn dikasih ke siapa2 ya",
        lambda: f"harga naik {rng.randint(1, 30)},{rng.randint(1, 9)}% dari tahun lalu",
        lambda: "Yth. Bapak/Ibu, mohon maaf atas keterlambatan",
        lambda: "Ibu Kota Nusantara itu di Kaltim kan?",
        lambda: "Pak RT minta surat pengantar dulu",
        lambda: "Bu Lurah blm tanda tangan",
        lambda: "Kak, mau tanya soal cerai gugat",
        lambda: "Bapak Presiden udah teken perpresnya?",
        lambda: "Ibu Hakim menunda sidang",
        lambda: "Mas, ini gimana caranya daftar?",
        lambda: "makasih Pak 🙏",
        lambda: "Pak, Senin bisa ketemu?",
        lambda: "Baik Bu. Besok saya ke kantor",
        lambda: "Siap Pak Terima kasih",
        lambda: "Bapak Kepala Dinas sdh disposisi",
        lambda: "saya mau tanya soal hak asuh anak",
        lambda: "Saya Mau konsultasi soal PHK sepihak",
        lambda: "rekening koran bulan Juli sdh saya kirim",
        lambda: f"transfer {rng.randint(2, 5)} kali tp blm masuk",
        lambda: f"order {y % 100}{month:02d}{day:02d}{digits(rng, 7)} sdh sy transfer",
        lambda: f"gaji saya {rng.randint(3, 25)} jt, kena pajak brp?",
        lambda: f"tahun {y} saya pindah ke Bandung",
        lambda: f"umur {rng.randint(17, 80)} th, masih bisa jadi saksi?",
        lambda: (
            f"jam {rng.randint(7, 12):02d}.{minute} - {rng.randint(13, 21):02d}.00 kantor buka?"
        ),
        lambda: f"saya cuma punya kartu pegawai no {digits(rng, 5)}",
        lambda: f"berat {rng.randint(1, 99)}.{minor % 10} kg ongkir {rng.randint(10, 99)}.000",
    ]
    return [rng.choice(options)()]


# ------------------------------------------------------------------ lines


def single(piece: Callable[[random.Random], list[Piece]]) -> Callable[[random.Random], Line]:
    def make(rng: random.Random) -> Line:
        return Line((g(rng), *piece(rng), end(rng)))

    return make


def nik_twice(rng: random.Random) -> Line:
    wife, husband = nik_digits(rng, female=True), nik_digits(rng, female=False)
    return Line(("nik istri saya ", E("NIK", wife), ", yg suami ", E("NIK", husband)))


def account_holder(rng: random.Random) -> Line:
    return Line((g(rng), *account_piece(rng), *holder_piece(rng), end(rng)))


def wa_link(rng: random.Random) -> Line:
    number = "62" + rng.choice(MOBILE_PREFIXES)[1:] + digits(rng, 8)
    return Line(("chat aja lewat wa.me/", E("TELEPON", number), " ya"))


def two_phones(rng: random.Random) -> Line:
    return Line(("kontak: ", E("TELEPON", mobile(rng)), " / ", E("TELEPON", landline(rng))))


def named_email(rng: random.Random) -> Line:
    hon, [_, name] = rng.choice(["Pak", "Bu"]), honorific_name(rng)[:2]
    assert isinstance(name, E)
    return Line((f"email {hon} ", name, " itu ", E("EMAIL", email(rng, name.value)), " ya"))


def honorific_line(rng: random.Random) -> Line:
    shape = rng.randrange(8)
    pieces = honorific_name(rng)
    wrap = [
        ("", " sudah datang?"),
        ("mohon info dari ", ""),
        ("ditunggu konfirmasi ", " ya"),
        ("", " tidak hadir di sidang kemarin"),
        ("titip salam buat ", ""),
        ("berkas atas nama ", " sdh lengkap"),
        ("klien kami ", " minta jadwal ulang"),
        ("td sy ketemu ", " di pengadilan"),
    ][shape]
    return Line((g(rng), wrap[0], *pieces, wrap[1]))


def two_names(rng: random.Random) -> Line:
    return Line((*honorific_name(rng), " dan ", *honorific_name(rng), " jadi saksi ya"))


def mixed(rng: random.Random) -> Line:
    parts = rng.sample(
        [
            nik_piece,
            npwp_piece,
            phone_piece,
            email_piece,
            account_piece,
            honorific_name,
            intro_piece,
            negative,
        ],
        k=rng.choice([2, 3]),
    )
    pieces: list[Piece] = [g(rng)]
    for index, part in enumerate(parts):
        if index:
            pieces.append(rng.choice([", ", ". ", "\n", " dan ", " | "]))
        pieces.extend(part(rng))
    if negative not in parts:
        pieces.extend([rng.choice([". ", ", ", "\n"]), *negative(rng)])
    return Line(tuple(pieces))


def pure_negative(rng: random.Random) -> Line:
    return Line((g(rng), *negative(rng), end(rng)))


RECIPE: list[tuple[Callable[[random.Random], Line], int]] = [
    (single(nik_piece), 45),
    (nik_twice, 6),
    (single(npwp_piece), 40),
    (single(phone_piece), 70),
    (wa_link, 4),
    (two_phones, 6),
    (single(email_piece), 35),
    (named_email, 6),
    (single(account_piece), 25),
    (account_holder, 20),
    (honorific_line, 45),
    (two_names, 8),
    (single(intro_piece), 22),
    (known_line, 40),
    (mixed, 60),
    (pure_negative, 170),
]


def generate(seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    lines = [make(rng).to_json() for make, count in RECIPE for _ in range(count)]
    rng.shuffle(lines)
    return lines


def render(lines: list[dict[str, object]]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if corpus.jsonl is stale")
    args = parser.parse_args()
    text = render(generate())
    if args.check:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} lines to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
