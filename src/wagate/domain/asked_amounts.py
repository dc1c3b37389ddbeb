"""A question that asks "how much / how long / how many" is answered only by a passage that
holds a number near what it asks about (AI3, `KB_STRICT`).

"iuran BPJS kesehatan kelas 3 brp sebulan?", "UMK Kupang 2026 berapa?", "berapa honor PPAT?":
the documents name BPJS, the minimum wage, the PPAT, and words alone rank those passages
first — but none gives the figure asked, and an answer without it is a guess dressed as a
citation. A figure is something a passage plainly holds or does not: digits, or a number
written as a word ("tiga bulan", "separuh"; "gratis", "tidak dipungut biaya" and "cuma-cuma"
answer a fee asked), within a few words of a word the
question asks about ("iuran … Rp42.000", "paling lama 14 hari kerja"). A passage that
gives a figure for something else (the severance table, when the minimum wage is asked)
holds no number near the asked word, and the question is declined.

Pure: it reads the question's normalised words and the passages' text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from wagate.domain.chat_words import (
    content_words,
    named_at,
    normalise,
    topic_weight,
    word_forms,
)

WINDOW = 8  # words between an asked word and a figure in the passage
_ASKS = re.compile(r"\bberapa\b")
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER_TEXT = """
satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas belas puluh ratus ribu
juta miliar triliun persen setengah separuh seperempat sepertiga seratus seribu sejuta
sehari seminggu sepekan sebulan setahun seperlima puluhan ratusan ribuan gratis nol prodeo
"""
# Free of charge said in words: read as "gratis" before the words are split.
_FREE = re.compile(
    r"\b(?:tidak|tanpa) (?:dipungut|dikenakan|dikenai|ada) (?:biaya|bayaran|pungutan)\b"
    r"|\b(?:tanpa|bebas) biaya\b|\bcuma[ -]cuma\b|\btidak berbayar\b"
    r"|\bditanggung (?:oleh )?(?:negara|pemerintah|pemda|bpjs|apbn|apbd|perusahaan|pengusaha)\b"
)
# A rule's number and year ("13/2003", "PP 35/2021") and a list item's or clause's number at
# a line's start ("1. Surat gugatan", "(2) Pengusaha wajib …") are no figures: removed
# before the words are split. A fraction stays: "1/25" of the monthly wage is a day's.
_NOT_FIGURES = re.compile(r"\b\d{1,4}/(?:19|20)\d{2}\b|^\s*\(?\d{1,2}[.)](?=\s)", re.MULTILINE)
# A number after these names a rule, a year or a list item, not a figure: "Pasal 156",
# "UU Nomor 13 Tahun 2003", "ayat (2)".
_REFERENCE_WORDS = frozenset(
    {"pasal", "ayat", "uu", "undang", "nomor", "no", "tahun", "bab", "pp", "perpres",
     "permen", "perda", "huruf", "angka", "perma", "permenaker", "kepmen", "kepmenaker",
     "keppres", "inpres", "perppu", "pergub", "perbup", "perwali", "sema", "perkap"}
)  # fmt: skip
_NUMBER_WORDS = frozenset(_NUMBER_TEXT.split())
_SENTENCE = re.compile(r"(?<!\d)\.(?!\d)|[;\n]")  # not the dots of "Rp 3.500.000"
# What a price, fee or charge is asked by: its answer is an amount of money ("Rp50.000", "dua
# juta", "2%", "gratis"), not any number — "HET pupuk urea brp per kg?" beside a passage that
# gives the fertiliser quota in hectares, "biaya SIM brp?" beside a lane's "30 hari". Wages
# are not among them: "upah lembur brp" is answered by "1,5 kali upah sejam", severance by
# "9 bulan upah".
_MONEY_WORDS = frozenset(
    {"biaya", "harga", "tarif", "ongkos", "iuran", "denda", "honor", "honorarium", "premi",
     "het", "njop", "rupiah", "sewa", "modal", "fee", "tiket", "retribusi", "royalti",
     "santunan", "ongkir", "mahar", "nominal"}
)  # fmt: skip
# Not the thing priced: the price words, and words any passage may hold beside a price
# ("biaya bikin paspor di kantor imigrasi skrg": the office's fee table says "di kantor").
_NOT_THINGS = _MONEY_WORDS | frozenset(
    {"kantor", "membuat", "mengurus", "sekarang", "resmi", "baru", "bayar", "membayar"}
)
# A price per unit of goods or distance: "brp per kg", "per meter", "per liter".
_PER_UNIT = re.compile(
    r"\bper (?:kg|kilo|kilogram|meter|m2|km|kamu|liter|ton|ekor|lembar|orang)\b"
    r"|\bse(?:kilo|kg|liter|meter|ekor)\b"
)
_MONEY_AFTER_NUMBER = frozenset(
    {"rupiah", "ribu", "juta", "miliar", "triliun", "rb", "jt", "persen"}
)  # fmt: skip
_MONEY_TOKENS = frozenset(
    {"rupiah", "ribu", "juta", "miliar", "triliun", "seribu", "sejuta", "gratis", "prodeo",
     "persen"}
)  # fmt: skip
_ASKED_THING_MIN = 0.3  # topic weight of a word that names what is asked about


def asks_for_an_amount(question: str) -> bool:
    """The question asks how much, how long or how many ("brp", "berapa lama"), or is a
    price and its thing and nothing else ("harga sewa motor harian", "biaya cerai?")."""
    text = normalise(question)
    return _ASKS_AN_AMOUNT.search(text) is not None or _price_led(text)


# "berapa" after a rule's name asks which rule ("perma RJ nomor brp?", "pasal berapa"): its
# answer is a reference ("Perma 1/2024"), which no figure check reads as a figure.
_ASKS_AN_AMOUNT = re.compile(r"(?<!\bpasal )(?<!\bayat )(?<!\bnomor )(?<!\bno )\bberapa\b")


# A short question that starts with a price word and asks nothing else about it asks the
# price: "tarif notaris akta jual beli", "biaya cerai?". Not "biaya perkara siapa yang
# bayar?", "biaya bisa dicicil?", "syarat dan biaya cerai".
_PRICE_LED_WORDS = 6
_OTHER_QUESTION = frozenset(
    {"apa", "apakah", "bagaimana", "gimana", "siapa", "kapan", "mana", "dimana", "kenapa",
     "mengapa", "bisa", "boleh", "bisakah", "dapat", "syarat", "cara", "caranya", "ditanggung",
     "tanggung", "gratis", "naik", "turun", "mahal", "murah", "dicicil", "cicil", "termasuk",
     "bayar", "membayar", "dibayar", "wajib", "harus", "perlu", "tidak", "belum", "kalau"}
)  # fmt: skip


def _price_led(text: str) -> bool:
    words = [w.removesuffix("nya") for w in _WORD.findall(text)]
    return (
        1 < len(words) <= _PRICE_LED_WORDS
        and words[0] in _MONEY_WORDS
        and words[0] not in {"rupiah", "modal", "santunan", "mahar", "sewa", "tiket"}
        and not _OTHER_QUESTION.intersection(words)
        and "berapa" not in words  # then the clause says what is asked ("denda brp hari")
    )


# "berapa <unit>": the unit the answer's number must carry (a number before the unit word,
# or a currency sign before the number: "RM1.500", "Rp50.000").
_DURATION = frozenset({"hari", "minggu", "pekan", "bulan", "tahun"})
# A duration in one word ("sehari", "sebulan") is a number and its unit at once.
_DURATION_WORDS = frozenset({"sehari", "seminggu", "sepekan", "sebulan", "setahun"})
_UNITS = {
    "persen": frozenset({"persen"}),
    "ringgit": frozenset({"ringgit", "rm"}),
    "dolar": frozenset({"dolar", "dollar", "usd"}),
    "rupiah": frozenset({"rupiah", "rp", "ribu", "juta", "miliar"}),
    "juta": frozenset({"rupiah", "rp", "juta", "miliar"}),
    "gram": frozenset({"gram", "gr"}),
    # A duration asked in days, weeks, months or years is answered by one in any of them
    # ("jht cair brp hari?" by "paling lama 5 hari kerja" or "dua minggu", not by the
    # "Hari" of "Jaminan Hari Tua"); "brp bulan gaji" by "9 bulan upah".
    **dict.fromkeys(("hari", "minggu", "pekan", "bulan", "tahun"), _DURATION),
}  # not "berapa kali": "sidang cerai brp kali?" is answered by "tiga sampai enam sidang"
_MONEY_NEAR_ASKING = 10  # words between "berapa" and the price word, in one clause
_CLAUSE_END = re.compile(r"[.?!;,\n]+")
# "pasal berapa", "zona berapa", "golongan berapa": which one, not how much.
_NOT_MONEY_BEFORE = frozenset(
    {"pasal", "ayat", "nomor", "no", "jam", "umur", "usia", "zona", "golongan", "kelas",
     "lantai", "tahap", "gelombang", "ke", "tingkat", "ruang", "loket"}
)  # fmt: skip
_NOT_MONEY_AFTER = frozenset(
    {"lama", "kali", "hari", "minggu", "bulan", "tahun", "jam", "orang", "anak", "lembar"}
)


def asks_for_money(question: str, also: Iterable[str] = ()) -> bool:
    """The amount asked (`asks_for_an_amount` holds too) is a price, fee or charge ("biaya
    … brp", "tarif … berapa", "brp per kg"): a price word a few words from "berapa", which
    asks no duration or count ("denda telat brp hari?" is answered by days); `also`: the
    document words the search read the question's words as ("biyaya" → "biaya")."""
    also = frozenset(also) & _MONEY_WORDS
    if _price_led(normalise(question)):
        return True
    return any(_clause_asks_a_price(clause, also) for clause in _CLAUSE_END.split(question))


def _clause_asks_a_price(clause: str, also: frozenset[str]) -> bool:
    text = normalise(clause)
    if _ASKS.search(text) is None:
        return False
    if _PER_UNIT.search(text) is not None:
        return True
    words = [w.removesuffix("nya") for w in _WORD.findall(text)]
    money_at = [i for i, w in enumerate(words) if w in _MONEY_WORDS]
    if also and not money_at:
        money_at = [0]  # the search read a misspelt word of the clause as a price word
    for i, word in enumerate(words):
        if word != "berapa":
            continue
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if before in _NOT_MONEY_BEFORE or after in _NOT_MONEY_AFTER:
            continue  # "pasal berapa", "berapa lama", "berapa kali": no price
        if any(abs(i - j) <= _MONEY_NEAR_ASKING for j in money_at):
            return True
    return False


def asked_unit(question: str) -> frozenset[str]:
    """The unit "berapa" asks its figure in ("berapa persen", "brp ringgit", "brp kali
    upah"): the words that must follow a number of the answer; empty when none is named."""
    words = _WORD.findall(normalise(question))
    for i, word in enumerate(words[:-1]):
        if word == "berapa" and words[i + 1] in _UNITS:
            if i and words[i - 1] in {"jam", "pukul"}:
                continue  # "buka jam brapa hari jumat": a time of day, then the day
            return _UNITS[words[i + 1]]
    return frozenset()


def gives_the_unit(text: str, unit: frozenset[str]) -> bool:
    """A number of the passage is followed by `unit` ("2,5 persen", "RM1.500", "1,5 kali")."""
    if not unit:
        return True
    tokens = _WORD.findall(_NOT_FIGURES.sub(" ", text.lower().replace("%", " persen")))
    return any(
        (
            (token[0].isdigit() or token in _NUMBER_WORDS)
            and i + 1 < len(tokens)
            and tokens[i + 1] in unit
        )
        or (token in unit and i + 1 < len(tokens) and tokens[i + 1][:1].isdigit())
        or any(token.startswith(u) and token[len(u) : len(u) + 1].isdigit() for u in unit)
        or (unit is _DURATION and (token in _DURATION_WORDS or _hours_given(tokens, i)))
        for i, token in enumerate(tokens)
    )


# Words an acronym's spelled-out name may hold that give it no letter ("Bea Perolehan Hak
# atas Tanah dan Bangunan" is BPHTB).
_ACRONYM_GLUE = frozenset({"atas", "dan", "dari", "di", "ke", "untuk", "yang", "bagi", "dalam"})


def names_the_acronym(text: str, acronym: str) -> bool:
    """`text` names `acronym` (lower-case): as typed ("JKP"), or spelled out, its letters the
    initials of consecutive words ("Jaminan Kehilangan Pekerjaan")."""
    tokens = _WORD.findall(text.lower())
    if acronym in tokens:
        return True
    letters = [c for c in acronym if c.isalpha()]
    if len(letters) < 2:
        return False
    for start, token in enumerate(tokens):
        if token[0] != letters[0]:
            continue
        matched, i = 1, start + 1
        while matched < len(letters) and i < len(tokens):
            if tokens[i][0] == letters[matched]:
                matched += 1
            elif tokens[i] not in _ACRONYM_GLUE:
                break
            i += 1
        if matched == len(letters):
            return True
    return False


def _hours_given(tokens: Sequence[str], index: int) -> bool:
    """A number of hours answers a duration asked in days ("1 x 24 jam", "48 jam")."""
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return tokens[index][:1].isdigit() and following == "jam"


def asked_about(question: str, also: Iterable[str] = ()) -> list[str]:
    """The words naming what the figure is of: the question's topic words, and `also` (the
    document words the search read them as: a typo's correction, a related word)."""
    words = [*content_words(question), *also]
    return list(
        dict.fromkeys(w for w in words if w != "berapa" and topic_weight(w) >= _ASKED_THING_MIN)
    )


def holds_a_figure_near(
    text: str, asked: Sequence[str], section: str = "", *, money: bool = False
) -> bool:
    """A number within `WINDOW` words of one of the asked words (in any affixed form), or
    anywhere in a passage whose own heading (the section path's last part) names one ("6.
    Lama Proses": the section is about it, and its body need not repeat the word). A number
    naming a rule or a year ("Pasal 156", "Tahun 2003") is no figure. With `money` (a price
    or fee asked) only an amount of money is: rupiah, thousands, millions, a percentage, free."""
    heading_words = _WORD.findall(section.rpartition("›")[2].lower())  # its own, not its chapter's
    if money and (things := [w for w in asked if w not in _NOT_THINGS and len(w) > 2]):
        # The price of what is asked about, not any price: "biaya PTSL brp" is not answered
        # by the office's fee table, whose "biaya" stands beside its own services.
        if named_at(heading_words, _MONEY_WORDS) and any(
            named_at(heading_words, word_forms(w)) for w in things
        ):
            # A section on exactly this price ("Biaya Pendampingan Perkara" for "biaya
            # pengacara dampingin sidang brp?") answers it, with a figure or without one
            # ("disepakati dalam perjanjian jasa hukum").
            return True
        asked = things
    if not asked or not any(len(w) > 2 for w in asked):
        return True  # nothing to place the figure by: no judgement
    wanted = frozenset().union(*map(word_forms, asked))
    free = _FREE.sub(lambda found: f"{found.group()} gratis", text.lower()).replace("%", " persen")
    tokens = _WORD.findall(_NOT_FIGURES.sub(" ", free))
    is_figure = _is_money if money else _is_figure
    at_number = [i for i in range(len(tokens)) if is_figure(tokens, i)]
    if not at_number:
        return False
    if named_at(heading_words, wanted):
        return True
    if not money:
        return any(abs(i - j) <= WINDOW for i in named_at(tokens, wanted) for j in at_number)
    # A price beside two of the things priced (one when one is asked): "biaya cerai di
    # pengadilan agama brp" is not answered by "pendampingan di pengadilan Rp3.500.000".
    # A thing the passage's title or chapter names is beside every figure of it: the
    # divorce guide's deposit table need not repeat "cerai" for "panjar biaya cerai brp?".
    needed = min(2, len(asked))
    path_words = _WORD.findall(section.lower())
    # At most one: a title naming two things ("Rumah Rusak Gempa dan Asuransi") does not
    # make every figure of the guide the price asked ("premi asuransi gempa brp setahun?").
    in_path = min(1, sum(bool(named_at(path_words, word_forms(w))) for w in asked))
    places = [
        named_at(tokens, word_forms(w)) for w in asked if not named_at(path_words, word_forms(w))
    ]
    if any(
        in_path + sum(any(abs(i - j) <= WINDOW for i in at) for at in places) >= needed
        for j in at_number
    ):
        return True
    # A price and its things in one sentence or table row, however far apart: "Pendampingan
    # perkara di pengadilan | sesuai kesepakatan, paling banyak Rp 3.500.000".
    for words in (_WORD.findall(part) for part in _SENTENCE.split(free)):
        if any(_is_money(words, i) for i in range(len(words))) and (
            sum(bool(named_at(words, word_forms(w))) for w in asked) >= needed
        ):
            return True
    return False


def _is_figure(tokens: Sequence[str], index: int) -> bool:
    token = tokens[index]
    if token in _NUMBER_WORDS or (token.startswith("rp") and token[2:3].isdigit()):
        return True  # "tiga", "gratis", "Rp50000"
    if not token[0].isdigit():
        return False
    return index == 0 or tokens[index - 1] not in _REFERENCE_WORDS


def _is_money(tokens: Sequence[str], index: int) -> bool:
    word = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    if word in _MONEY_TOKENS or (word.startswith("rp") and word[2:3].isdigit()):
        return True  # "Rp50000", "dua juta", "gratis", "2 persen"
    if word == "rp":
        return following[:1].isdigit()  # "Rp 50.000"
    return word[0].isdigit() and following in _MONEY_AFTER_NUMBER  # "50 ribu", "2,5 persen"
