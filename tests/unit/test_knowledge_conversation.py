"""The knowledge base in the conversation (issue 13, AI3/AI4), on the in-memory ports: passages
join the prompt masked, the answer names its sources, a strict knowledge base declines what it
does not cover without asking the AI, and the offline assistant answers from the passages."""

from __future__ import annotations

import re

import pytest

from tests.unit.test_converse import World, world
from wagate.assistants.offline import (
    DEFAULT_MESSAGE,
    GREETING,
    INTRO,
    OfflineAssistant,
    _sentences,
    answer_from,
)
from wagate.domain.chat import ChatTurn, Role
from wagate.domain.knowledge import Passage
from wagate.domain.knowledge_context import (
    OPENING,
    Reference,
    read_references,
    references_block,
)
from wagate.pipeline.conversation.knowledge import (
    DEFAULT_DECLINE_TEXT,
    STATS_TTL_SECONDS,
    ConsultKnowledge,
    KnowledgePolicy,
    Retrieval,
    with_sources,
)
from wagate.pipeline.converse import Converse, ConversePolicy, Outcome
from wagate.pipeline.ports import KnowledgeAdmin, KnowledgeSearch
from wagate.testing import MemoryKnowledgeBase

DIVORCE = """# Bab II Gugatan Cerai

Gugatan cerai diajukan ke Pengadilan Agama bagi yang beragama Islam. Syarat gugatan cerai:
fotokopi KTP, buku nikah asli, dan surat gugatan. Hubungi paralegal kami di 0812-3456-7890.

# Bab III Biaya Perkara

Biaya perkara cerai di Pengadilan Agama sekitar satu juta rupiah, tergantung panggilan."""

SEVERANCE = """# Pasal 5 Pesangon

Pesangon dihitung dari masa kerja. Pekerja dengan masa kerja tiga tahun mendapat pesangon
empat bulan upah."""


def knowledge() -> MemoryKnowledgeBase:
    base = MemoryKnowledgeBase()
    base.add_text("Panduan Perceraian", DIVORCE)
    base.add_text("Panduan Pesangon", SEVERANCE)
    return base


def with_knowledge(
    base: KnowledgeSearch, *, assistant: object = None, strict: bool | None = None
) -> World:
    """The shared conversation world with a knowledge base (and, optionally, another
    assistant) plugged in the way wiring does it."""
    w = world()
    old = w.converse
    policy = ConversePolicy(
        identity=old.policy.identity,
        rate_limit=old.policy.rate_limit,
        system_prompt=old.policy.system_prompt,
        notices=old.policy.notices,
        knowledge=KnowledgePolicy(passages=2, strict=strict),
    )
    w.converse = Converse(
        store=old.store,
        identities=old.identities,
        sessions=old.sessions,
        assistant=assistant or old.assistant,  # type: ignore[arg-type]
        vaults=old.vaults,
        deliver=old.deliver,
        providers=old.providers,
        debounce=old.debounce,
        backoff=old.backoff,
        policy=policy,
        clock=old.clock,
        audit=old.audit,
        jitter=old.jitter,
        knowledge=base,
    )
    return w


# --- the block that carries passages through the prompt ---------------------------------------


def test_passages_written_into_the_prompt_read_back_the_same() -> None:
    passages = [
        Passage(
            document_id=1,
            source="a.md",
            title="Panduan\nCerai",
            section="Bab II",
            text="Baris satu.\n\nBaris dua.",
            score=2.0,
        ),
        Passage(
            document_id=2, source="b.md", title="Pesangon", section="", text="Teks.", score=1.0
        ),
    ]
    block = references_block(passages)
    refs = read_references(f"Anda asisten.\n\n{block}")
    assert [(r.number, r.citation, r.text) for r in refs] == [
        (1, "Panduan Cerai, bagian Bab II", "Baris satu.\n\nBaris dua."),
        (2, "Pesangon", "Teks."),
    ]
    assert references_block([]) == ""
    assert read_references("no block here") == []


# --- step 4b: consult the knowledge base ------------------------------------------------------


async def test_the_best_passages_are_found_up_to_the_policys_number() -> None:
    consult = ConsultKnowledge(knowledge=knowledge(), policy=KnowledgePolicy(passages=1))
    found = await consult("syarat gugatan cerai apa saja?")
    assert [p.section for p in found.passages] == ["Bab II Gugatan Cerai"]
    assert not found.declined
    assert found.sources == "Sumber: Panduan Perceraian, bagian Bab II Gugatan Cerai"


@pytest.mark.parametrize(
    ("strict", "loaded", "declined"),
    [
        (None, True, True),  # on by default once the knowledge base holds passages
        (None, False, False),  # an empty knowledge base refuses nothing
        (False, True, False),
        (True, False, True),
    ],
)
async def test_nothing_found_declines_only_when_strict(
    strict: bool | None, loaded: bool, declined: bool
) -> None:
    base = knowledge() if loaded else MemoryKnowledgeBase()
    consult = ConsultKnowledge(knowledge=base, policy=KnowledgePolicy(strict=strict))
    found = await consult("resep rendang padang yang enak")
    assert found.passages == ()
    assert found.declined is declined


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="KB_PASSAGES"):
        KnowledgePolicy(passages=0)
    with pytest.raises(ValueError, match="KB_DECLINE_TEXT"):
        KnowledgePolicy(decline_text="  ")


def test_the_sources_line_is_added_once() -> None:
    passage = Passage(document_id=1, source="a", title="A", section="", text="t", score=1)
    retrieval = Retrieval(passages=[passage])
    assert with_sources("Jawaban.", retrieval) == "Jawaban.\n\nSumber: A"
    assert with_sources("Jawaban.\n\nSumber: A", retrieval) == "Jawaban.\n\nSumber: A"
    assert with_sources("Jawaban.", Retrieval()) == "Jawaban."


# --- the whole conversation -------------------------------------------------------------------


async def test_passages_reach_the_model_masked_and_the_answer_names_its_sources() -> None:
    w = with_knowledge(knowledge())
    w.assistant.script = ["Siapkan KTP dan buku nikah."]
    w.say("Apa syarat gugatan cerai? nomor saya 0813-9999-1111")
    assert await w.run() is Outcome.ANSWERED
    system = w.assistant.prompts[0][0]
    assert system.role is Role.SYSTEM and OPENING in system.content
    assert "Syarat gugatan cerai" in system.content
    # The phone number inside the passage was masked with the rest of the prompt.
    assert "0812-3456-7890" not in system.content
    assert re.search(r"\[[A-Z_]+_\d+\]", system.content)
    assert w.provider.sent == [
        "[AI]\n\nSiapkan KTP dan buku nikah.\n\n"
        "Sumber: Panduan Perceraian, bagian Bab II Gugatan Cerai\n\n[bukan nasihat hukum]"
    ]
    run = next(e for e in w.audit.events if e.action == "run.answered")
    assert run.details["knowledge_passages"] == 1
    assert run.details["knowledge_documents"] == [1]


async def test_a_question_the_documents_do_not_cover_is_declined_without_the_ai() -> None:
    w = with_knowledge(knowledge())
    w.say("resep rendang padang yang enak")
    assert await w.run() is Outcome.ANSWERED
    assert w.assistant.prompts == []  # no AI call: nothing to make up
    assert w.provider.sent == [f"[AI]\n\n{DEFAULT_DECLINE_TEXT}\n\n[bukan nasihat hukum]"]
    run = next(e for e in w.audit.events if e.action == "run.answered")
    assert run.details["knowledge"] == "declined"
    assert w.store.bursts[1].messages == []
    # The decline is the session's answer: the next question sees it as history.
    w.assistant.script = ["Ya."]
    w.say("syarat gugatan cerai?")
    await w.run()
    history = [t.content for t in w.assistant.prompts[0][1:]]
    assert history == [
        "resep rendang padang yang enak",
        DEFAULT_DECLINE_TEXT,
        "syarat gugatan cerai?",
    ]


async def test_without_strictness_the_model_answers_unaided() -> None:
    w = with_knowledge(knowledge(), strict=False)
    w.assistant.script = ["Coba tanya koki."]
    w.say("resep rendang padang yang enak")
    assert await w.run() is Outcome.ANSWERED
    assert OPENING not in w.assistant.prompts[0][0].content
    assert w.provider.sent == ["[AI]\n\nCoba tanya koki.\n\n[bukan nasihat hukum]"]


async def test_an_empty_knowledge_base_changes_nothing() -> None:
    w = with_knowledge(MemoryKnowledgeBase())
    w.assistant.script = ["Halo juga."]
    w.say("halo")
    assert await w.run() is Outcome.ANSWERED
    assert w.provider.sent == ["[AI]\n\nHalo juga.\n\n[bukan nasihat hukum]"]


async def test_the_offline_assistant_answers_from_the_documents_with_sources() -> None:
    w = with_knowledge(knowledge(), assistant=OfflineAssistant())
    w.say("Apa syarat gugatan cerai?")
    assert await w.run() is Outcome.ANSWERED
    (sent,) = w.provider.sent
    assert sent.startswith(f"[AI]\n\n{INTRO}\n\nGugatan cerai diajukan ke Pengadilan Agama")
    # The masked number in the passage came back unmasked in the answer.
    assert "0812-3456-7890" in sent
    assert "Sumber: Panduan Perceraian, bagian Bab II Gugatan Cerai" in sent
    assert sent.endswith("[bukan nasihat hukum]")


# --- the offline assistant on its own ---------------------------------------------------------


async def test_the_offline_assistant_without_passages_says_it_is_not_configured() -> None:
    reply = await OfflineAssistant().reply(
        [
            ChatTurn(role=Role.SYSTEM, content="Anda asisten."),
            ChatTurn(role=Role.USER, content="tolong hitungkan pajak mobil saya"),
        ]
    )
    assert reply.text == DEFAULT_MESSAGE and reply.model == "offline"


async def test_the_offline_assistant_greets_a_greeting() -> None:
    reply = await OfflineAssistant().reply(
        [
            ChatTurn(role=Role.SYSTEM, content="Anda asisten."),
            ChatTurn(role=Role.USER, content="halo"),
        ]
    )
    assert reply.text == GREETING


def _long_reference(middle: str, *, fillers: int = 40) -> list[Reference]:
    """One passage too long to send whole: `middle` between two runs of unrelated text."""
    filler = " ".join(f"Kalimat pengisi nomor {n} tentang hal lain." for n in range(fillers))
    text = f"{filler}{middle}{filler}"
    passage = Passage(document_id=1, source="a", title="A", section="", text=text, score=1)
    return read_references(references_block([passage]))


def test_a_long_passage_is_trimmed_to_the_sentences_about_the_question() -> None:
    refs = _long_reference(" Syarat gugatan cerai adalah buku nikah dan KTP. ")
    answer = answer_from(refs, "apa syarat gugatan cerai?")
    assert "Syarat gugatan cerai adalah buku nikah dan KTP." in answer
    assert len(answer) <= len(INTRO) + 2 + 900
    assert answer.startswith(INTRO)


def test_a_trimmed_passage_keeps_its_list_items_on_their_own_lines() -> None:
    refs = _long_reference(
        "\nGolongan | Biaya konsultasi\n- Warga tidak mampu: biaya konsultasi gratis\n"
        "- Pekerja: biaya konsultasi Rp50.000\n",
        fillers=30,
    )
    lines = answer_from(refs, "biaya konsultasi brp?").splitlines()
    assert "- Warga tidak mampu: biaya konsultasi gratis" in lines
    assert "- Pekerja: biaya konsultasi Rp50.000" in lines


def test_an_abbreviation_does_not_end_the_sentence_an_answer_keeps() -> None:
    refs = _long_reference(" Alamat kantor kami di Jl. Sultan Thaha No. 45, Kota Jambi. ")
    answer = answer_from(refs, "alamat kantor dimana?")
    assert "Alamat kantor kami di Jl. Sultan Thaha No. 45, Kota Jambi." in answer


@pytest.mark.parametrize(
    ("line", "sentences"),
    [
        ("Kantor di Jl. Sultan Thaha No. 45. Buka jam 8.", 2),
        ("Pasal 5 huruf b. Setelah itu pulang.", 2),  # a lower-case letter is no initial
        ("Bawa KTP, KK, dll. Kemudian datang.", 2),  # "dll." ends sentences
        ("Ditandatangani H. Ahmad. Lalu dikirim.", 2),
    ],
)
def test_sentences_end_where_an_abbreviation_does_not_hold_them(line: str, sentences: int) -> None:
    assert len(_sentences(line)) == sentences


def test_the_runner_up_joins_only_when_it_speaks_to_the_question() -> None:
    def ref(text: str, n: int) -> Passage:
        return Passage(document_id=n, source="s", title=f"T{n}", section="", text=text, score=1)

    refs = read_references(
        references_block(
            [
                ref("Syarat gugatan cerai: buku nikah.", 1),
                ref("Biaya gugatan cerai sekitar satu juta.", 2),
                ref("Jam buka kantor pukul delapan.", 3),
            ]
        )
    )
    answer = answer_from(refs, "syarat dan biaya gugatan cerai?")
    assert "buku nikah" in answer and "satu juta" in answer
    answer = answer_from([refs[0], refs[2]], "syarat gugatan cerai?")
    assert "Jam buka" not in answer


def test_the_memory_knowledge_base_satisfies_the_ports() -> None:
    base: KnowledgeAdmin = MemoryKnowledgeBase()
    assert base is not None


async def test_a_short_follow_up_is_read_with_the_previous_question() -> None:
    history = [
        ChatTurn(role=Role.USER, content="syarat gugatan cerai apa?"),
        ChatTurn(role=Role.ASSISTANT, content="KTP dan buku nikah."),
    ]
    consult = ConsultKnowledge(knowledge=knowledge(), policy=KnowledgePolicy(strict=True))
    found = await consult("terus biayanya?", history)
    assert found.passages and not found.declined
    # A longer, unrelated question stands alone: declined, not answered from the old topic.
    found = await consult("kalau resep rendang padang yang enak itu seperti apa ya?", history)
    assert found.declined and not found.passages
    assert (await consult("terus biayanya?")).declined  # nothing to follow up on


async def test_the_strict_default_reads_the_size_once_per_ttl() -> None:
    """Issue 18: a question nothing answers asked the knowledge base's size every run; it is
    read again only after STATS_TTL_SECONDS, so a base loaded meanwhile is seen by then."""

    class Counting(MemoryKnowledgeBase):
        reads = 0

        async def stats(self) -> dict[str, object]:
            self.reads += 1
            return await super().stats()

    base = Counting()
    now = [100.0]
    consult = ConsultKnowledge(knowledge=base, policy=KnowledgePolicy(), clock=lambda: now[0])
    assert (await consult("resep rendang padang yang enak")).declined is False
    assert (await consult("resep soto betawi yang enak")).declined is False
    assert base.reads == 1
    base.add_text("Perceraian", "Gugatan cerai diajukan ke pengadilan agama.")
    now[0] += STATS_TTL_SECONDS - 0.1
    assert (await consult("resep rendang padang yang enak")).declined is False
    now[0] += 0.2
    assert (await consult("resep rendang padang yang enak")).declined is True
    assert base.reads == 2
