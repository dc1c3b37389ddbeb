"""Small talk is answered, never declined (AI3): a strict knowledge base declines questions
its documents do not cover, not "halo, apa kabar?" (the sandbox's first message)."""

from __future__ import annotations

import pytest

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.small_talk import is_chatter, is_small_talk
from wagate.pipeline.conversation.knowledge import ConsultKnowledge, KnowledgePolicy
from wagate.testing.knowledge import MemoryKnowledgeBase


@pytest.mark.parametrize(
    "message",
    [
        "Halo, apa kabar?",
        "terima kasih ya",
        "ok siap",
        "Selamat pagi",
        "P",
        "makasih banyak kak",
        "Terima kasih banyak atas penjelasannya, sangat membantu.",
        "thanks atas jawabannya min, bermanfaat",
        "Assalamualaikum",
        "matur suwun",
        "hallo min",
        "Selamat tahun baru 2027 kak",
        "Selamat Hari Raya Idul Fitri, mohon maaf lahir dan batin untuk seluruh tim.",
        "makasih tim",
        # A wish names the office or anything else, up to its clause's end.
        "Selamat Tahun Baru 2027, semoga LBH Teluk Tomini semakin sukses melayani masyarakat.",
        "min, lg online gk?",
        "makasih banyak kaka, so jelas skali",
    ],
)
def test_greetings_thanks_and_acknowledgements_are_small_talk(message: str) -> None:
    assert is_small_talk(message)


@pytest.mark.parametrize(
    "message",
    [
        "harga bitcoin berapa",
        "cara cerai gmn",
        "resep rendang yang enak",
        "halo, sy mau tanya soal warisan",
        "tahun baru ini kontrak sy habis, dpt kompensasi?",
        "selamat tahun baru, pesangon sy kapan dibayar?",
        "semoga bisa dibantu, sy mau tanya soal cerai",  # the wish ends at its comma
        "semoga cepat selesai, suami sy kapan boleh dijenguk?",  # a question is no wish
    ],
)
def test_a_message_with_a_subject_is_not(message: str) -> None:
    assert not is_small_talk(message)


async def test_strict_declines_an_uncovered_question_but_not_a_greeting() -> None:
    base = MemoryKnowledgeBase()
    base.add_text("Panduan Perceraian", "# Cerai\n\nCerai gugat diajukan istri ke pengadilan.")
    consult = ConsultKnowledge(knowledge=base, policy=KnowledgePolicy(strict=True))
    assert (await consult("halo, apa kabar?")).declined is False
    assert (await consult("harga bitcoin hari ini berapa")).declined is True


async def test_each_question_of_a_burst_is_searched_on_its_own() -> None:
    base = MemoryKnowledgeBase(min_shared=1)
    base.add_text("Jam", "# Jam\n\nKantor buka hari Senin sampai Jumat.")
    base.add_text("Biaya", "# Biaya\n\nBiaya konsultasi pertama Rp100.000.")
    consult = ConsultKnowledge(knowledge=base, policy=KnowledgePolicy(passages=3))
    found = await consult("halo\nkantor buka kapan?\nbiaya konsultasi berapa?")
    assert {p.title for p in found.passages} == {"Jam", "Biaya"}


@pytest.mark.parametrize(
    "message", ["kapan?", "berapa?", "caranya?", "mohon bantuan", "mohon penjelasan", "info biaya?"]
)
def test_a_short_question_of_small_words_is_no_small_talk(message: str) -> None:
    assert not is_small_talk(message)


@pytest.mark.parametrize("message", ["belum", "sudah", "ya", "tidak"])
def test_a_bare_answer_is_small_talk_but_no_chatter(message: str) -> None:
    assert is_small_talk(message) and not is_chatter(message)


async def test_thanks_after_an_answer_is_not_searched_as_its_follow_up() -> None:
    base = MemoryKnowledgeBase(min_shared=1)
    base.add_text("Panduan Perceraian", "# Cerai\n\nCerai gugat diajukan istri ke pengadilan.")
    consult = ConsultKnowledge(knowledge=base, policy=KnowledgePolicy(strict=True))
    asked = [ChatTurn(role=Role.USER, content="cerai gugat diajukan ke mana?")]
    thanks = await consult("ok makasih kak", asked)
    assert (thanks.passages, thanks.declined) == ((), False)
    assert base.searches == []  # not even the follow-up was looked up
    # A bare answer still reads the question before it.
    answer = await consult("belum", asked)
    assert [p.title for p in answer.passages] == ["Panduan Perceraian"]
