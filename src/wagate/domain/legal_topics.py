"""The matters an Indonesian legal-aid office is asked about, each by the names clients and
guides give it (issue 13, `KB_STRICT`).

A question beside a covered topic shares nearly every word with some passage: "syarat
nikah di KUA" with a divorce guide that names the KUA and the marriage book, "honor PPAT"
with a land guide that names the PPAT and the deed. Word statistics cannot tell those from
a question the guide answers. What can: the question names a *matter* — marriage
registration, a PPAT's fee, overtime pay, adoption — and no document of the base names that
matter at all. So this is a list of matters, each with the phrases that name it; the search
declines a question that names one the tenant's documents never name (`absent_topics`).

Written from what legal-aid offices are asked (family, inheritance, labour, land, criminal
procedure, population documents, vehicles, consumer credit, business permits, health), not
from any one office's guides: a phrase must name its matter wherever it appears — "cuti
melahirkan" is maternity leave in any document — and a matter is named by every phrase a
document would use for it ("THR", "tunjangan hari raya"), else a base that covers it in other
words would decline its questions. Words are matched in their affixed forms
(`chat_words.word_forms`: "menikah" names "nikah"). A question names a phrase tightly — its
words in order, at most a filler word between ("cuti untuk melahirkan") — and a document
loosely, its words within `KB_WINDOW` tokens in any order ("biaya akta di notaris" names
"biaya notaris"): a wrong "named" in a document only lets a question through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from wagate.domain.chat_words import asking_sentences, is_dictionary_word, normalise, word_forms
from wagate.domain.spelling import skeleton

# One matter per line: its name, then the phrases naming it, in lower case as normalised text
# reads (chat forms are read as their written words first: "brp" → "berapa"). A phrase after
# "~" names the matter only in a document: how a guide words it, not what a client asks
# ("melarikan diri" in a guide on hit-and-run; a client who writes it means something else);
# one after "!" only in a question, its words up to `ASKED_ONLY_APART` words apart.
_TOPICS = """
nikah_syarat: syarat nikah, syarat menikah, syarat perkawinan, daftar nikah, pendaftaran nikah,
    berkas nikah, persyaratan nikah, persyaratan perkawinan, pendaftaran kehendak nikah, ~daftar
    kua, ~kehendak nikah
isbat_nikah: isbat, itsbat, itsbat nikah
poligami: poligami, istri kedua, beristri lebih dari seorang, izin beristri, !suami nikah
    lagi, !suami kawin lagi, !suami menikah lagi, !suami beristri lagi, !laki kawin lagi, !laki
    nikah lagi
nikah_beda_agama: beda agama, berbeda agama, lain agama, antaragama
nikah_siri: siri, nikah bawah tangan, perkawinan bawah tangan, tidak tercatat, ~belum tercatat,
    ~belum dicatat, ~tidak dicatat, ~tidak dicatatkan
dispensasi_kawin: dispensasi
hak_asuh: hak asuh, hadhanah, hadanah, pemeliharaan anak, pengasuhan anak, asuh anak
harta_bersama: harta bersama, gono gini, gonogini, harta gono
perjanjian_kawin: perjanjian kawin, perjanjian perkawinan, perjanjian pranikah, pisah harta
adopsi: pengangkatan anak, mengangkat anak, prosedur adopsi, syarat adopsi, cara adopsi, proses
    adopsi, mengadopsi anak
anak_angkat: adopsi, diadopsi, anak angkat, ~pengangkatan anak, ~mengangkat anak
perwalian: perwalian
ganti_nama: ganti nama, mengganti nama, perubahan nama, ubah nama, pergantian nama, penggantian
    nama
akta_kematian: akta kematian
kk_pecah: pecah kk, pisah kk, pecah kartu keluarga
paspor: paspor
visa: visa, izin tinggal, kitas
kewarganegaraan: kewarganegaraan, naturalisasi, dwi kewarganegaraan
sim: sim, surat izin mengemudi
stnk_bpkb: stnk, bpkb
pajak_kendaraan: pajak kendaraan, pajak motor, pajak mobil, samsat, pkb
tilang: tilang
skck: skck, surat keterangan catatan kepolisian
jasa_raharja: jasa raharja
lembur: lembur, kerja hari libur, masuk hari libur
cuti_melahirkan: cuti melahirkan, cuti hamil, cuti bersalin, istirahat melahirkan, cuti
    keguguran, ~sebelum melahirkan, ~sesudah melahirkan, ~setelah melahirkan, ~istirahat keguguran
cuti_tahunan: cuti tahunan
cuti_haid: cuti haid, istirahat haid
thr: thr, tunjangan hari raya
upah_minimum: ump, umk, umr, upah minimum
jht: jht, jaminan hari tua
jkp: jkp, jaminan kehilangan pekerjaan
bpjs_ketenagakerjaan: bpjs ketenagakerjaan, bpjs tk, jamsostek, jaminan sosial ketenagakerjaan
bpjs_kesehatan: bpjs kesehatan, jaminan kesehatan nasional, kartu indonesia sehat
pesangon: pesangon
mogok: mogok
serikat_pekerja: serikat pekerja, serikat buruh
ptsl: ptsl
ajb: ajb, akta jual beli
ppat: ppat, pejabat pembuat akta tanah
bphtb: bphtb
pbb: pbb, pajak bumi
girik: girik, letter c, petok
pbg_imb: imb, pbg, izin mendirikan bangunan, persetujuan bangunan gedung
honor_notaris: honor notaris, honorarium notaris, biaya notaris, tarif notaris, ongkos notaris,
    honor ppat, honorarium ppat, biaya ppat, tarif ppat, ongkos ppat
grasi: grasi
remisi: remisi
bebas_bersyarat: pembebasan bersyarat, bebas bersyarat, cuti bersyarat, asimilasi
peninjauan_kembali: peninjauan kembali
kasasi: kasasi
praperadilan: praperadilan
besuk: besuk, jenguk, jam kunjungan, kunjungan tahanan, kunjungan keluarga, ~berkunjung,
    ~mengunjungi, ~dikunjungi
narkoba: narkoba, narkotika, sabu, ganja
pencemaran_nama_baik: pencemaran nama baik, nama baik, fitnah
pembunuhan: pembunuhan, dibunuh, membunuh
kartu_kredit: kartu kredit, chargeback
asuransi: asuransi, premi, polis asuransi
slik: slik, bi checking
arisan: arisan
investasi_bodong: investasi bodong, investasi ilegal, robot trading
sertifikat_halal: halal
merek: merek, haki, hki, paten, hak cipta
izin_usaha: nib, izin usaha, oss
pendirian_badan: pendirian pt, pendirian cv, akta pendirian, pendirian yayasan, mendirikan
    yayasan, mendirikan pt, mendirikan cv, perseroan terbatas
pajak_penghasilan: spt, npwp, pph, pajak penghasilan
malpraktik: malpraktik, malpraktek, salah diagnosis, salah diagnosa, kelalaian medis
cpns: cpns, pendaftaran pns, seleksi asn
advokat_profesi: pkpa, ujian advokat, ujian profesi advokat, menjadi advokat, jadi advokat
lowongan: lowongan, rekrutmen, magang, relawan, sukarelawan
donasi: donasi, sumbangan
sewa_aula: aula, ruang rapat
bansos: bansos, bantuan sosial, pkh, blt
pemilu: pemilu, kpu, bawaslu, pilkada, caleg, politik uang, serangan fajar
perundungan: bully, perundungan, dibully
tabrak_lari: tabrak lari, ~melarikan diri, ~meninggalkan korban
listrik: pln, token listrik
air_bersih: pdam
wasiat: wasiat
hibah: hibah
faraid: faraid, faraidh, ~waris islam, ~kewarisan islam
surat_waris: surat keterangan waris, keterangan ahli waris, skaw, penetapan ahli waris
sewa_rumah: sewa rumah, kontrakan, rumah sewa, indekos, kos kosan, kamar sewa, sewa kamar,
    deposit sewa, jaminan sewa
rujuk: rujuk
mahar: mahar, maskawin, mas kawin
pembatalan_perkawinan: pembatalan perkawinan, pembatalan nikah, membatalkan perkawinan
perkawinan_campuran: perkawinan campuran, menikah dengan wna, nikah dengan wna
perzinaan: zina, perzinaan, perzinahan, perselingkuhan, selingkuh
pengakuan_anak: pengakuan anak, pengesahan anak, anak luar kawin
wakaf: wakaf
sidang_keliling: sidang keliling, sidang di luar gedung, zitting plaats, ~sidang terpadu, ~isbat
    terpadu, ~pelayanan terpadu
hak_tanggungan: hak tanggungan, roya
hgb_hgu: hgb, hgu, hak guna bangunan, hak guna usaha
pecah_sertifikat: pecah sertifikat, pemecahan sertifikat, pemecahan bidang, pecah bidang
tanah_ulayat: ulayat, tanah adat
pengadaan_tanah: pengadaan tanah, pembebasan lahan, ~ganti rugi, ~ganti kerugian, ~kompensasi
penggelapan: penggelapan
pemerasan: pemerasan, diperas
judi: judi, perjudian, judol
korupsi: korupsi, gratifikasi
pungli: pungli, pungutan liar
penangguhan_penahanan: penangguhan penahanan, penangguhan
keadilan_restoratif: keadilan restoratif, restorative justice, restoratif
lpsk: lpsk, perlindungan saksi
rehabilitasi: rehabilitasi
sp3: sp3, penghentian penyidikan
wanprestasi: wanprestasi, ~ingkar janji, ~cidera janji, ~tidak menepati
somasi: somasi
gugatan_sederhana: gugatan sederhana
cek_kosong: cek kosong, bilyet giro, giro kosong
garansi: garansi, masa jaminan
paylater: paylater
etle: etle, tilang elektronik
balik_nama_kendaraan: balik nama kendaraan, balik nama motor, balik nama mobil, mutasi kendaraan
plat_nomor: plat nomor, pelat nomor, nomor polisi
pirt: pirt, bpom, izin edar, ~irt, ~sppirt, ~pangan industri rumah tangga
kur: kur, kredit usaha rakyat
waralaba: waralaba, franchise
kia: kartu identitas anak
surat_pindah: surat pindah, pindah domisili, pindah datang
ppdb: ppdb, zonasi, penerimaan peserta didik
kip: kip, kartu indonesia pintar, beasiswa
dtks: dtks, data terpadu kesejahteraan sosial
deportasi: deportasi, dideportasi
data_pribadi: data pribadi, pelindungan data, perlindungan data
kbgo: kbgo, revenge porn, kekerasan berbasis gender online, penyebaran konten intim
propam: propam, kode etik polisi
komnas_ham: komnas ham, pelanggaran ham
ombudsman: ombudsman, maladministrasi
gadai: gadai, pegadaian
lelang: lelang
rentenir: rentenir, lintah darat, bank emok, bank keliling
outsourcing: outsourcing, alih daya
pkwt: pkwt, karyawan kontrak, pekerja kontrak, perjanjian kerja waktu tertentu
kecelakaan_kerja: kecelakaan kerja, jkk
izin_keramaian: izin keramaian, izin acara, penutupan jalan, !tutup jalan, !menutup jalan
ktp_urus: ktp baru, ktp rusak, membuat ktp, mengurus ktp, rekam ktp, perekaman ktp, cetak ktp,
    !ktp hilang, ~kehilangan ktp, ~ktp yang hilang
pekerja_migran: bp2mi, bp3mi, p3mi, !syarat kerja luar negeri, !daftar kerja luar negeri, !syarat
    kerja malaysia, !syarat kerja taiwan, !syarat kerja hongkong, !syarat kerja singapura,
    !syarat kerja arab, !syarat kerja korea, !syarat kerja jepang, ~pekerja migran
peradilan_anak: diversi, peradilan anak, peradilan pidana anak, lpka, anak berhadapan dengan
    hukum, anak berkonflik dengan hukum
penipuan_online: penipuan online, belanja online, !barang tidak dikirim, !barang belum dikirim
pensiun: pensiun, purnatugas
njop: njop, nilai jual objek pajak
visum: visum
prakerja: prakerja
izin_pertambangan_rakyat: izin pertambangan rakyat, ipr, wilayah pertambangan rakyat, wpr
ekspor_impor: ekspor, impor, karantina, bea cukai
bom_ikan: bom ikan, bahan peledak, potasium, setrum ikan, illegal fishing
cerai: cerai, perceraian, talak
waris: waris, warisan, ahli waris, pewaris
phk: phk, pemutusan hubungan kerja, dipecat
kdrt: kdrt, kekerasan dalam rumah tangga
sertifikat_tanah: sertifikat, sertipikat
utang: utang, hutang, piutang
pinjol: pinjol, pinjaman online
leasing: leasing, fidusia, kredit motor, kredit kendaraan
konsumen: konsumen, bpsk
pidana_proses: laporan polisi, lapor polisi, ditahan, ditangkap, penahanan, penangkapan,
    tersangka
lingkungan: pencemaran lingkungan, limbah, lingkungan hidup, sungai tercemar
nafkah: nafkah
kekerasan_seksual: pelecehan, kekerasan seksual, pemerkosaan, perkosaan, pencabulan
"""

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    phrases: tuple[tuple[str, ...], ...]  # each phrase's words, in order
    written_only: tuple[tuple[str, ...], ...] = ()  # how a document may name it too
    # How a client may name it, a few words apart ("suami mau nikah lagi"), and a document
    # does not (a divorce guide's "suami … menikah lagi" is about remarrying, or a ground).
    asked_only: tuple[tuple[str, ...], ...] = ()


@cache
def topics() -> tuple[Topic, ...]:
    out = []
    # A line that starts with spaces goes on with the matter above it.
    for line in re.sub(r"\n\s+", " ", _TOPICS.strip()).splitlines():
        name, _, phrases = line.partition(":")
        listed = [p.strip() for p in phrases.split(",") if p.strip()]
        out.append(
            Topic(
                name.strip(),
                tuple(tuple(p.split()) for p in listed if p[0] not in "~!"),
                tuple(tuple(p[1:].split()) for p in listed if p.startswith("~")),
                tuple(tuple(p[1:].split()) for p in listed if p.startswith("!")),
            )
        )
    return tuple(out)


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# Words a tight phrase may have between its words in a question ("cuti untuk melahirkan").
_FILLERS = frozenset(["di", "untuk", "utk", "buat", "yang", "yg", "si"])
KB_WINDOW = 4  # a document names a phrase when its words stand within this many tokens
ASKED_ONLY_APART = 2  # a "!" phrase's words at most this many words of any kind apart


@cache
def _phrase_words() -> frozenset[str]:
    return frozenset(
        w
        for t in topics()
        for phrase in (*t.phrases, *t.written_only, *t.asked_only)
        for w in phrase
    )


@lru_cache(maxsize=65536)
def _named_words(token: str) -> tuple[str, ...]:
    """The phrase words `token` names: itself or a word it is an affixed form of."""
    return tuple(_phrase_words().intersection(word_forms(token)))


def _forms_index(words: Sequence[str]) -> dict[str, list[int]]:
    """Where each phrase word stands: a token names a phrase word when it is that word or an
    affixed form of it ("menikah" names "nikah"; "kontrak" does not name "kontrakan")."""
    index: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        for form in _named_words(w):
            index.setdefault(form, []).append(i)
    return index


def _asked(
    words: Sequence[str], phrase: tuple[str, ...], index: dict[str, list[int]], apart: int = 0
) -> bool:
    """The phrase in order, each next word right after the last or one filler word on (or
    up to `apart` words of any kind on)."""
    for start in index.get(phrase[0], ()):
        at = start
        for word in phrase[1:]:
            nxt = next(
                (
                    p
                    for p in index.get(word, ())
                    if at < p <= at + 1 + apart or (p == at + 2 and words[at + 1] in _FILLERS)
                ),
                None,
            )
            if nxt is None:
                break
            at = nxt
        else:
            return True
    return False


def _written(phrase: tuple[str, ...], index: dict[str, list[int]]) -> bool:
    """The phrase's words all within `KB_WINDOW` tokens, in any order."""
    spots = [index.get(word, []) for word in phrase]
    if not all(spots):
        return False
    if len(phrase) == 1:
        return True
    for start in spots[0]:
        if all(any(abs(p - start) < KB_WINDOW for p in s) for s in spots[1:]):
            return True
    return False


def named_topics(words: Sequence[str]) -> frozenset[str]:
    """The matters a question's tokens name (its phrases tight); a word typed without some of
    its vowels ("lmbur", "pngadilan") names the phrase word of those consonants."""
    index = _forms_index(words)
    for i, w in enumerate(words):
        if (
            len(w) >= MIN_TYPO_LENGTH
            and not _named_words(w)
            and not is_dictionary_word(w)
            and (meant := _by_skeleton().get(skeleton(w)))
            and len(w) < len(meant)  # vowels dropped, not a name sharing the consonants
        ):
            index.setdefault(meant, []).append(i)
    by_first = _asked_by_first_word()
    return frozenset(
        name
        for first in index
        for name, phrase, apart in by_first.get(first, ())
        if _asked(words, phrase, index, apart)
    )


MIN_TYPO_LENGTH = 4  # a shorter word's consonants name too many words


@cache
def _by_skeleton() -> dict[str, str]:
    """The phrase words of five letters and four consonants or more a question may name by
    their consonants alone, when no other phrase word has the same ones ("paten" has too few:
    "ptun" is a court)."""
    seen: dict[str, set[str]] = {}
    for t in topics():
        for phrase in (*t.phrases, *t.asked_only):
            for w in phrase:
                if len(w) >= 5 and len(skeleton(w)) >= 4:
                    seen.setdefault(skeleton(w), set()).add(w)
    return {c: next(iter(ws)) for c, ws in seen.items() if len(ws) == 1}


@cache
def _asked_by_first_word() -> dict[str, list[tuple[str, tuple[str, ...], int]]]:
    """The phrases a question may name, by their first word (with the words any kind allowed
    between its words): a question is read only for the phrases one of its words begins."""
    out: dict[str, list[tuple[str, tuple[str, ...], int]]] = {}
    for t in topics():
        for phrase in t.phrases:
            out.setdefault(phrase[0], []).append((t.name, phrase, 0))
        for phrase in t.asked_only:
            out.setdefault(phrase[0], []).append((t.name, phrase, ASKED_ONLY_APART))
    return out


def asked_topics(question: str) -> frozenset[str]:
    """The matters a question names; in a message of several sentences, those its asking
    sentences name — the ones with a question mark, else the last (`chat_words.
    asking_sentences`): "Saya TKW di Hongkong … Bisakah saya menggugat dari luar negeri?" asks
    about the suit, not about migrant work; "cuti melahirkan brp bln? gaji tetap dibayar?"
    asks both."""
    return named_topics(tokens(normalise(" . ".join(asking_sentences(question)))))


def written_topics(words: Sequence[str]) -> frozenset[str]:
    """The matters a document's tokens name (its phrases loose; a client's "!" phrases not:
    a divorce guide writes "suami … menikah lagi" of remarrying, or as a ground, and a guide
    on polygamy names it "poligami" or "beristri lebih dari seorang")."""
    index = _forms_index(words)
    if not index:
        return frozenset()
    return frozenset(
        t.name
        for t in topics()
        if any(_written(phrase, index) for phrase in (*t.phrases, *t.written_only))
    )
