"""The matters a question names and the matters a knowledge base's documents name
(`domain.legal_topics`, issue 13): a question naming a matter no document names is declined."""

from __future__ import annotations

import pytest

from wagate.domain.legal_topics import asked_topics, named_topics, tokens, topics, written_topics


@pytest.mark.parametrize(
    ("question", "matter"),
    [
        ("syarat nikah di KUA apa aja?", "nikah_syarat"),
        ("Aku nak nikah bulan depan, syarat menikah di KUA apo bae?", "nikah_syarat"),
        ("cuti melahirkan brp bln? gaji tetap dibyr gk?", "cuti_melahirkan"),
        ("cuti untuk melahirkan brp lama", "cuti_melahirkan"),  # a filler word between
        ("upah lembur diitung gmna sih", "lembur"),
        ("honor ppat buat ajb brp persen dr harga tanah?", "honor_notaris"),
        ("thr telat dibayar prshn, dendanya brp?", "thr"),
        ("Cara mengangkat anak (adopsi) secara resmi gimana?", "adopsi"),
        ("ada caleg bagi2 amplop di kampung, lapor politik uang kmn?", "pemilu"),
        ("Jam berapa bole besuk tahanan di Rutan? ana mo antar makanan", "besuk"),
        ("ktp sy hilang, urus ktp baru di dukcapil syaratnya apa?", "ktp_urus"),
        ("syarat kerja ke Malaysia", "pekerja_migran"),
        ("mau nikahan tutup jalan depan rumah, izin apa dari polisi?", "izin_keramaian"),
        ("beli di marketplace, barang tidak dikirim, uang bisa kembali?", "penipuan_online"),
    ],
)
def test_a_question_names_the_matter_it_asks_about(question: str, matter: str) -> None:
    assert matter in asked_topics(question)


def test_a_question_names_a_phrase_only_with_its_words_together_and_in_order() -> None:
    # "syarat … nikah" apart is no question about the conditions of marrying.
    assert "nikah_syarat" not in asked_topics("brks yg hrs dibawa utk daftar cerai? buku nikah")
    assert "nikah_syarat" not in asked_topics("ongkos bikinin berkas isbat nikah di lbh brp")
    assert "ganti_nama" not in asked_topics("ambil motornya sebagai ganti, atau posting namanya")
    # "tidak kunjung" (never) is no visit; "kontrak" is not "kontrakan".
    assert "besuk" not in asked_topics("suami tidak kunjung datang ke sidang ikrar")
    assert "sewa_rumah" not in asked_topics("kontrak kerja ART harus tertulis gk?")


def test_a_story_is_read_by_its_asking_sentences() -> None:
    story = (
        "Saya kerja di pabrik sejak 2019, tiap hari lembur sampai malam. Bulan lalu saya "
        "di-PHK tanpa surat. Berapa pesangon yang harus saya terima?"
    )
    assert asked_topics(story) == {"pesangon"}  # the overtime is the story, not the question
    assert asked_topics("cuti melahirkan brp bln? gaji tetap dibayar gk?") == {"cuti_melahirkan"}
    assert "lembur" in asked_topics("Kerja lembur tiap hari. Upah lembur dihitung gimana?")


def test_a_document_names_a_matter_loosely_and_in_its_own_words() -> None:
    guide = tokens(
        "Biaya akta di notaris dihitung dari nilai objek. Dokumen untuk mendaftar di KUA: "
        "fotokopi KTP calon pengantin."
    )
    written = written_topics(guide)
    assert "honor_notaris" in written  # "biaya … notaris" within the window
    assert "nikah_syarat" in written  # "~daftar kua": a guide's words for it
    # The guide's words are not a client's: "daftar … KUA" apart names nothing asked.
    assert "nikah_syarat" not in named_topics(guide)


def test_affixed_forms_name_the_word_but_not_the_other_way_round() -> None:
    assert "poligami" in written_topics(tokens("Suami yang hendak beristri lebih dari seorang"))
    assert "lembur" in written_topics(tokens("Upah kerja lembur wajib dibayar."))
    assert "sewa_rumah" not in written_topics(tokens("Kontrak kerja dibuat tertulis."))
    # An office's outreach visit is no prison visit.
    assert "besuk" not in written_topics(tokens("Dalam kunjungan itu kami memberi penyuluhan."))
    assert written_topics(tokens("")) == frozenset()


def test_every_matter_has_a_name_and_a_phrase_a_question_can_name() -> None:
    names = [t.name for t in topics()]
    assert len(names) == len(set(names)) > 50
    assert all(t.phrases and all(t.phrases) for t in topics())


def test_a_clients_words_for_a_matter_may_stand_apart_and_name_it_only_in_a_question() -> None:
    assert "poligami" in asked_topics("suami sy mau nikah lagi diam2, bisa sy tolak?")
    assert "poligami" in asked_topics("Ana pe laki mo kawin lagi deng perempuan lain, perlu izin?")
    assert "poligami" not in asked_topics("setelah cerai kapan sy boleh nikah lagi?")
    # A divorce guide's "suami … menikah lagi" is remarrying or a ground, not a polygamy guide.
    guide = tokens("Setelah putusan, mantan istri dan suami dapat menikah lagi dengan orang lain.")
    assert "poligami" not in written_topics(guide)
    assert "poligami" in written_topics(tokens("Suami yang hendak beristri lebih dari seorang"))


def test_a_word_typed_without_its_vowels_names_the_phrase_word_but_not_a_name() -> None:
    assert "lembur" in asked_topics("uang lmbur dihitng gmn klo kerja hari minggu")
    # A court's acronym, a town, an organisation are not a phrase word short of vowels.
    assert asked_topics("SK pemda bs digugat ke ptun gk?") == frozenset()
    assert "merek" not in asked_topics("pekerja di Merauke gugat PHK ke mana")
    assert "remisi" not in asked_topics("blh sy usir penyewa pake ormas?")


def test_the_adoption_procedure_is_not_the_adopted_childs_share() -> None:
    # A guide on inheritance that names "anak angkat" answers an adopted child's share, not
    # how to adopt.
    guide = written_topics(tokens("Anak angkat dapat menerima wasiat wajibah paling banyak 1/3."))
    assert "anak_angkat" in guide and "adopsi" not in guide
    assert asked_topics("Anak yang kami adopsi bisa kebagian harta kami nanti?") == {"anak_angkat"}
    assert "adopsi" in asked_topics("Bagaimana prosedur pengangkatan anak melalui pengadilan?")


def test_the_police_are_no_insurance_policy() -> None:
    assert "asuransi" not in asked_topics("lapor polisi gmn caranya?")
    assert "asuransi" in asked_topics("klaim polis asuransi ditolak, gmn?")
