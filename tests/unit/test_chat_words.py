"""The chat-word normaliser (issue 13): what clients type becomes words documents use."""

from __future__ import annotations

import pytest

from wagate.domain.chat_words import (
    EVERYDAY_TOPIC,
    FAMILIAR_TOPIC,
    GENERIC,
    SHARED_TOPIC,
    STOPWORDS,
    asked_clause,
    content_words,
    derived_from,
    fold,
    formal_form,
    is_dictionary_word,
    named_at,
    normalise,
    topic_weight,
    verb_root,
    word_forms,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cerai gmn caranya", "cerai bagaimana cara"),  # a possessive: dropped
        ("pesangon sy brp", "pesangon saya berapa"),
        ("klo mau bikin surat waris hrs ke mn?", "kalau mau membuat surat waris harus ke mana"),
        ("tolonggggg min!!!", "tolong min"),
        ("anak2 sy udh gede", "anak anak saya sudah besar"),
        ("PHK", "phk pemutusan hubungan kerja"),
        ("Pasal 5 ayat (2)", "pasal 5 ayat 2"),
        ("Perceraian ＰＡＳＡＬ café", "perceraian pasal cafe"),
        ("", ""),
    ],
)
def test_normalise_expands_chat_words(typed: str, expected: str) -> None:
    assert normalise(typed) == expected


def test_content_words_drop_what_names_no_topic_and_keep_order() -> None:
    assert content_words("cerai gmn caranya min?") == ["cerai"]
    assert content_words("pesangon sy brp kalo di phk") == [
        "pesangon",
        "phk",
        "pemutusan",
        "hubungan",
        "kerja",
    ]
    assert content_words("halo min, makasih ya") == []
    assert content_words("waris waris WARIS") == ["waris"]


def test_an_expansion_keeps_the_colloquial_word_documents_also_use() -> None:
    assert "gaji" in content_words("gaji sy dipotong")
    assert "upah" in content_words("gaji sy dipotong")


def test_stopwords_and_generic_words_are_lower_case_words() -> None:
    for word in STOPWORDS | GENERIC:
        assert word == fold(word) and word.isalnum(), word
    assert "cerai" not in STOPWORDS and "cerai" not in GENERIC


def test_a_possessive_on_a_chat_word_is_seen_through() -> None:
    assert normalise("bojoku wes lungo") == "suami istri sudah pergi"
    assert normalise("duwitmu") == "uang"
    # a possessive on a dictionary word is dropped: the stemmer leaves it on short roots
    assert normalise("anaknya haknya") == "anak hak"
    assert normalise("nugrohonya") == "nugrohonya"  # not on a name


def test_topic_weight_says_how_much_a_word_tells_about_the_topic() -> None:
    assert topic_weight("tahun") == topic_weight("jutaan") == topic_weight("2026") == 0
    assert topic_weight("anak") == topic_weight("tiket") == EVERYDAY_TOPIC  # common roots
    assert topic_weight("penahanan") == FAMILIAR_TOPIC  # an affixed form of "tahan"
    assert topic_weight("syaratnya") == topic_weight("syarat")  # a possessive adds nothing
    assert topic_weight("talak") == topic_weight("somasi") == 1.0  # rare or no tier word
    assert 0 < EVERYDAY_TOPIC < SHARED_TOPIC <= FAMILIAR_TOPIC < 1


def test_real_words_are_told_from_typos_and_chat_forms() -> None:
    assert is_dictionary_word("paspor") and is_dictionary_word("kereta")
    assert not is_dictionary_word("percerain") and not is_dictionary_word("ngabarin")
    assert derived_from("perceraian") == "cerai"
    assert derived_from("anak") is None


def test_everyday_words_are_rewritten_to_the_forms_documents_use() -> None:
    assert content_words("mantan sy gk ngebolehin ketemu anak") == [
        "mantan",
        "bekas",
        "membolehkan",  # the written form of the spoken "ngebolehin"
        "bertemu",
        "anak",
    ]
    assert "berdamai" in content_words("bs damai aja gk?")  # the stemmer cuts "damai" short


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("nagih", "menagih"),  # a bare nasal for meN-
        ("ngancam", "mengancam"),
        ("milih", "memilih"),
        ("nyebarin", "menyebarkan"),  # and -in for -kan
        ("dilaporin", "dilaporkan"),
        ("ngajuin", "mengajukan"),
        ("ngebolehin", "membolehkan"),  # nge- before a short root
        ("ngelarang", "melarang"),
        ("ngajuke", "mengajukan"),  # Javanese -ke
        ("dipake", "dipakai"),  # spoken -e for -ai, not Javanese -ke ("dipakan")
        ("ketipu", "tertipu"),  # spoken passive ke- for ter-
        ("kebakar", "terbakar"),
        ("ketabrak", "tertabrak"),
    ],
)
def test_a_spoken_verb_form_becomes_the_written_one(spoken: str, written: str) -> None:
    assert formal_form(spoken) == written
    assert normalise(spoken) == written


@pytest.mark.parametrize(
    "word",
    ["nugroho", "nomer", "indomaret", "main", "ingin", "kawin", "ngab", "kebakaran", "kecelakaan"],
)
def test_names_real_words_and_short_forms_are_no_spoken_verbs(word: str) -> None:
    """Only a candidate that is a dictionary word or an affixed form of one is taken: a name
    or a brand stays itself, and so does a real word that merely looks like a spoken form."""
    assert formal_form(word) is None


def test_general_chat_shortenings_are_expanded() -> None:
    assert normalise("msh jd pny emg dtg sbg tmn pake sampe ilang malem") == (
        "masih jadi punya memang datang sebagai teman pakai sampai hilang malam"
    )
    assert content_words("temen minjem duit, gk dibalikin") == [
        "teman",
        "meminjam",
        "uang",
        "dibalikkan",
    ]


def test_javanese_and_english_function_words_name_no_topic() -> None:
    assert content_words("nek arep pegatan nang ndi?") == ["cerai"]
    assert content_words("is there a safe house for victims") == ["safe", "rumah", "victims"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cerai di PA atau PN", "cerai di pengadilan agama atau pengadilan negeri"),
        ("iya pa", "iya pa"),  # lower case: as often "pak" as the religious court
        ("gaji UMR", "gaji upah upah minimum"),
        ("umr anak sy", "umur anak saya"),
    ],
)
def test_abbreviations_typed_in_capitals_are_read_as_their_words(typed: str, expected: str) -> None:
    assert normalise(typed) == expected


@pytest.mark.parametrize(
    "typed", ["bantuan cuma-cuma", "bantuan cuma2", "bantuan cuma cuma", "bantuan tanpa bayar"]
)
def test_free_of_charge_in_everyday_words_is_gratis(typed: str) -> None:
    assert normalise(typed) == "bantuan gratis"


def test_sundanese_function_words_and_everyday_words_for_legal_terms() -> None:
    assert content_words("abdi teu tiasa sumping, kumaha?") == ["sumping"]
    assert normalise("mawa budak") == "membawa anak budak"
    assert "perselisihan" in normalise("sering cekcok")
    assert "keberatan" in normalise("mau protes")
    assert "penagih" in normalise("dc nya dateng")


def test_english_words_of_a_legal_question_become_indonesian() -> None:
    assert content_words("can the finance company repossess my car") == [
        "pembiayaan",
        "leasing",
        "perusahaan",
        "tarik",
        "eksekusi",
        "mobil",
    ]


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("dituduh", "tuduh"),
        ("menafkahi", "nafkah"),
        ("menggelapkan", "gelap"),
        ("nerima", "terima"),  # spoken: a bare nasal for meN-
        ("ninggalin", "tinggal"),  # spoken -in
        ("balikin", "balik"),  # spoken -in on a bare root
        ("semalam", "malam"),
    ],
)
def test_a_verb_form_is_read_back_to_its_root(word: str, root: str) -> None:
    assert verb_root(word) == root


@pytest.mark.parametrize("word", ["paspor", "visa", "merek", "beras", "dinas", "mesin", "nota"])
def test_nouns_are_no_verb_forms(word: str) -> None:
    """Short remains ("rek", "ras", "nas") are no roots: a noun that happens to start like
    a prefix stays a noun."""
    assert verb_root(word) is None


def test_laughter_and_chat_acknowledgements_name_no_topic() -> None:
    assert content_words("wkwkwk oke siap") == []
    assert content_words("hahaha hehe makasih") == []
    assert content_words("soal utang biar sah") == ["utang", "sah"]


def test_a_stopword_keeps_its_possessive() -> None:
    """ "katanya" (so they say) is a stopword; cut to "kata" it would name a topic."""
    assert content_words("krn katanya dipinjam") == ["dipinjam"]


def test_everyday_chat_words_for_migrant_work_and_written_agreements() -> None:
    assert content_words("umur min jd tki brp") == ["umur", "tki", "pekerja", "migran"]
    assert content_words("tdk ada hitam di atas putih") == ["perjanjian", "tertulis"]
    assert "adik" in GENERIC


def test_the_sentence_that_asks_is_the_last_with_a_question_mark() -> None:
    story = "Tetangga saya utang 8 juta. Saya kesal. Apa boleh? Makasih."
    assert asked_clause(story) == "Apa boleh?"
    assert asked_clause("Suami ditahan. Berapa lama boleh ditahan") == "Berapa lama boleh ditahan"
    assert asked_clause("cerai gmn caranya?") is None  # one sentence: all of it asks


@pytest.mark.parametrize(
    ("typed", "also"),
    [("hgb brp tahun", "bangunan"), ("SHM hilang", "milik"), ("telat gaji", "terlambat")],
)
def test_land_and_labour_abbreviations_are_read_in_any_case(typed: str, also: str) -> None:
    assert also in normalise(typed).split()


def test_named_at_finds_a_word_in_its_affixed_forms_only() -> None:
    tokens = ["penagih", "datang", "menagih", "lalu", "tagihan", "dikirim", "ke", "tagline"]
    assert named_at(tokens, word_forms("tagih")) == [0, 2, 4]
    assert named_at(tokens, frozenset()) == []


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("Ado dak biayo konsultasi? berapo?", "ada tidak biaya konsultasi berapa"),
        ("cak mano caronyo ngurus surat tanah", "seperti mana cara mengurus surat tanah"),
        ("katonyo dio lah kabur kemano", "katanya dia lah kabur kemana"),
        ("kami nak bagi rato galo", "kami mau bagi rata semua"),
    ],
)
def test_sumatran_malay_is_read_as_indonesian(typed: str, read: str) -> None:
    assert normalise(typed) == read


def test_a_word_ending_in_o_stays_when_it_is_a_word_or_a_name() -> None:
    assert normalise("foto kilo solo") == "foto kilo solo"  # words in their own right
    # Written with a capital after the first word: a place, not a dialect's -o.
    assert normalise("pinjam di Muara Bungo, bungonyo 20 persen") == (
        "pinjam di muara bungo bunga 20 persen"
    )
    assert "bajo" in normalise("sy kerja di Labuan Bajo").split()
    assert normalise("xyzo") == "xyzo"  # no word ends in -a there either
