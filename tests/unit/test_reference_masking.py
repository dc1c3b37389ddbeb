"""Knowledge-base passages are masked apart from the conversation (CP1, AI3): structured data
(numbers, e-mails) in them is hidden; their legal headings are not taken for people; and
nothing found in them becomes a known name of the conversation, hiding that word in the
client's own message (found through the gateway: "cara cerai gmn" reached the AI as
"cara [NAMA_3] gmn" after "## Cerai Gugat dan Cerai Talak" was read as two names)."""

from __future__ import annotations

from wagate.assistants.offline import answer_from
from wagate.domain.chat import ChatTurn, Role
from wagate.domain.knowledge import Passage, sources_line
from wagate.domain.knowledge_context import Reference, references_block, split_references
from wagate.domain.messages import Provider
from wagate.domain.privacy.masking import mask_reference
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.pipeline.conversation.assistant import Answer, AskAssistant
from wagate.pipeline.ports import Burst, Identity
from wagate.testing.assistant import ScriptedAssistant
from wagate.testing.conversations import MemoryVaultStore

GUIDE = Passage(
    document_id=1,
    source="perceraian.md",
    title="Panduan Perceraian",
    section="Cerai Gugat dan Cerai Talak",
    text=(
        "## Cerai Gugat dan Cerai Talak\n\nIstri mengajukan cerai gugat, suami cerai talak. "
        "Tanya petugas kami di 0812-3456-7890 atau konsultasi@lbh-contoh.or.id."
    ),
    score=1.0,
)


def test_a_passage_keeps_its_headings_and_hides_its_numbers_and_addresses() -> None:
    vault = PlaceholderVault()
    masked = mask_reference(references_block([GUIDE]), vault=vault)
    assert "Cerai Gugat dan Cerai Talak" in masked and "cerai gugat" in masked
    assert "0812-3456-7890" not in masked and "konsultasi@lbh-contoh.or.id" not in masked
    assert vault.names() == ()


def test_split_finds_the_block_and_leaves_text_without_one_alone() -> None:
    text = "Sistem.\n\n" + references_block([GUIDE]) + "\n\nakhir"
    before, block, after = split_references(text)
    assert (before, after) == ("Sistem.\n\n", "\n\nakhir") and block.startswith("<<<RUJUKAN>>>")
    assert split_references("tanpa rujukan") == ("tanpa rujukan", "", "")


async def test_the_clients_words_stay_theirs_and_the_conversation_learns_no_names() -> None:
    assistant = ScriptedAssistant()
    vaults = MemoryVaultStore()
    ask = AskAssistant(assistant=assistant, vaults=vaults)
    burst = Burst(
        conversation_id=7,
        provider=Provider.META,
        channel_id="1",
        contact_key="62811",
        messages=(),
        contact_name="Siti Aminah",
    )
    identity = Identity(contact_id=1, account=None, link_notice_at=None, rate_notice_at=None)
    prompt = [
        ChatTurn(role=Role.SYSTEM, content="Anda asisten.\n\n" + references_block([GUIDE])),
        ChatTurn(role=Role.USER, content="cara cerai gmn, sy Siti Aminah mau gugat suami"),
    ]
    answer = await ask(burst, identity, prompt)
    [sent] = assistant.prompts
    assert sent[1].content.startswith("cara cerai gmn, sy ")
    assert "mau gugat suami" in sent[1].content and "Siti Aminah" not in sent[1].content
    assert "Cerai Gugat dan Cerai Talak" in sent[0].content
    assert "0812-3456-7890" not in sent[0].content
    # The saved vault holds the client's name, not the document's words or numbers.
    saved = PlaceholderVault.from_dict(vaults.vaults[7])
    assert [name.lower() for name in saved.names()] == ["siti aminah"]
    assert isinstance(answer, Answer)
    assert "Siti Aminah" in answer.text  # the echoed question comes back unmasked


def test_the_sources_line_names_each_document_once_with_its_sections() -> None:
    def passage(title: str, section: str) -> Passage:
        return Passage(
            document_id=1, source="x.md", title=title, section=section, text="t", score=1.0
        )

    line = sources_line(
        [
            passage("Jam Layanan", "Jam Buka Kantor"),
            passage("Jam Layanan", "Alamat"),
            passage("Biaya", ""),
            passage("Ketiga", "Tidak disebut"),
        ]
    )
    assert line == "Sumber: Jam Layanan, bagian Jam Buka Kantor; Alamat · Biaya"


def test_the_offline_answer_takes_each_question_of_a_burst_to_its_own_passage() -> None:
    hours = Reference(number=1, citation="Jam", text="Kantor buka Senin sampai Jumat pukul 8.")
    fees = Reference(number=2, citation="Biaya", text="Biaya konsultasi pertama Rp150.000.")
    answer = answer_from([hours, fees], "halo\njam buka kantor kapan?\nbiaya konsultasi brp?")
    assert "Senin" in answer and "Rp150.000" in answer
    single = answer_from([hours, fees], "jam buka kantor kapan?")
    assert "Senin" in single and "Rp150.000" not in single
