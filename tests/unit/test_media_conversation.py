"""Files in the conversation (MD1): the burst waits for a file being fetched; a stored file is
acknowledged, a refused or lost one explained; a document's text joins the person's turn,
masked like their words, and the knowledge base is searched with their own words only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.unit.test_converse import World, world
from wagate.domain.chat import Role
from wagate.domain.conversation import Notices
from wagate.domain.media import MediaLimits
from wagate.domain.policy import BurstMessage, triage
from wagate.pipeline.conversation.triage import TriageStep
from wagate.pipeline.converse import Outcome
from wagate.pipeline.ports import Burst
from wagate.testing import MemoryConversationStore, MemoryIdentityStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _file(
    w: World,
    *,
    media: str,
    media_type: str = "image",
    caption: str | None = None,
    attachment: str | None = None,
) -> None:
    message = w.store.receive(caption, at=w.clock.now, kind="media")
    burst = w.store.bursts[1]
    messages = [
        replace(m, media=media, media_type=media_type, attachment=attachment)
        if m.id == message.id
        else m
        for m in burst.messages
    ]
    w.store.bursts[1] = replace(burst, messages=messages)


def _message(i: int, **fields: object) -> BurstMessage:
    base: dict[str, object] = {"id": i, "kind": "media", "text": None, "received_at": T0}
    return BurstMessage(**(base | fields))  # type: ignore[arg-type]


def _sort(*messages: BurstMessage) -> tuple[str, ...]:
    return triage(messages, max_chars=1000, rate_limit=10, earlier_arrivals=[]).notices


def test_each_outcome_of_a_file_has_its_notice() -> None:
    assert _sort(_message(1, media="stored", media_type="image")) == ("media_received",)
    assert _sort(_message(1, media="stored", media_type="audio")) == ("audio_received",)
    assert _sort(_message(1, media="too_large", media_type="image")) == ("media_too_large",)
    assert _sort(_message(1, media="executable")) == ("media_refused",)
    assert _sort(_message(1, media="type_not_accepted")) == ("media_refused",)
    assert _sort(_message(1, media="type_mismatch")) == ("media_mismatch",)
    assert _sort(_message(1, media="unavailable")) == ("media_unavailable",)
    assert _sort(_message(1, media="unsupported")) == ("non_text",)
    # A file row-less media message (stored before files were kept): as before.
    assert _sort(_message(1)) == ("non_text",)


def test_a_refusal_is_told_even_beside_a_question_and_a_caption_is_a_question() -> None:
    question = BurstMessage(id=2, kind="text", text="Bagaimana ini?", received_at=T0)
    sorted_ = triage(
        [_message(1, media="too_large", text="lihat ini"), question],
        max_chars=1000,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert sorted_.notices == ("media_too_large",)
    assert sorted_.for_ai == ("Bagaimana ini?",)  # the refused file's caption is not asked
    captioned = triage(
        [_message(1, media="stored", text="Apakah KTP ini sah?")],
        max_chars=1000,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert captioned.for_ai == ("Apakah KTP ini sah?",) and captioned.notices == ()


def test_a_documents_text_joins_the_turn_as_a_delimited_block() -> None:
    sorted_ = triage(
        [
            _message(1, media="stored", media_type="document", attachment="Surat   kuasa\x00"),
            BurstMessage(id=2, kind="text", text="Apa artinya?", received_at=T0),
        ],
        max_chars=1000,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert sorted_.answerable and sorted_.notices == ()
    assert sorted_.user_turn == (
        "Apa artinya?\n\n[Isi dokumen yang dikirim:]\nSurat kuasa\n[Akhir dokumen]"
    )
    alone = triage(
        [_message(1, media="stored", media_type="image", attachment="KARTU TANDA PENDUDUK")],
        max_chars=1000,
        rate_limit=10,
        earlier_arrivals=[],
    )
    assert alone.answerable and alone.notices == ()  # the AI answers about it
    assert alone.user_turn.startswith("[Isi foto yang dikirim:]")


async def test_the_too_large_notice_names_the_kinds_limit() -> None:
    store = MemoryConversationStore()
    step = TriageStep(
        store=store,
        identities=MemoryIdentityStore(),
        notices=Notices(media_too_large="batas {limit_mb} MB"),
        max_chars=1000,
        rate_limit=10,
        media_limits=MediaLimits(image=5 * 1024 * 1024),
    )
    message = store.receive(None, at=T0, kind="media")
    message = replace(message, media="too_large", media_type="image")
    burst: Burst = replace(store.bursts[1], messages=[message])
    identity = await MemoryIdentityStore().resolve(burst, create_account=True)
    triaged = await step(burst, identity, [message], T0)
    assert [d.text for d in triaged.notices] == ["batas 5 MB"]


async def test_a_burst_waits_for_a_file_still_being_fetched_then_answers_once() -> None:
    w = world()
    w.assistant.script = ["Foto KTP Anda sudah kami terima."]
    _file(w, media="pending", caption="ini KTP saya, sah?")
    assert await w.run() is Outcome.WAITING
    [(conversation, at, _)] = w.store.deferred
    assert conversation == 1 and at > w.clock.now  # looked at again (or woken by the fetch)
    assert w.provider.sent == [] and w.assistant.prompts == []
    # The fetch settled the file: the same burst is answered, once.
    w.store.bursts[1] = replace(
        w.store.bursts[1],
        messages=[replace(m, media="stored") for m in w.store.bursts[1].messages],
    )
    assert await w.run() is Outcome.ANSWERED
    assert len(w.provider.sent) == 1
    assert await w.run() is Outcome.NOTHING_TO_DO


@pytest.mark.parametrize(
    ("media", "expected"),
    [("stored", "[berkas diterima]"), ("unavailable", "[unduh gagal]")],
)
async def test_a_file_without_words_gets_its_notice_and_no_ai(media: str, expected: str) -> None:
    w = world()
    notices = Notices(media_received="[berkas diterima]", media_unavailable="[unduh gagal]")
    w.converse.triage = replace(w.converse.triage, notices=notices)
    _file(w, media=media)
    assert await w.run() is Outcome.NO_QUESTION
    assert w.provider.sent == [expected]
    assert w.assistant.prompts == []


async def test_a_documents_text_reaches_the_ai_masked_and_comes_back_restored() -> None:
    w = world()
    w.assistant.script = ["Dokumen atas nama pemegang NIK tersebut sah."]
    _file(
        w,
        media="stored",
        media_type="document",
        caption="Tolong cek surat ini",
        attachment="SURAT KUASA\nNIK: 3174012345678901\nNama: Budi Santoso",
    )
    assert await w.run() is Outcome.ANSWERED
    [prompt] = w.assistant.prompts
    user = next(t.content for t in prompt if t.role is Role.USER)
    assert "Tolong cek surat ini" in user and "[Isi dokumen yang dikirim:]" in user
    assert "3174012345678901" not in user  # masked like everything the person writes
    assert "[NIK_1]" in user
