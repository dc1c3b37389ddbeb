"""Voice notes and photos in the conversation (MD1, issue 16 item 2), on in-memory ports: a
transcript is the person's words (masked, triaged — a spoken emergency is red — and searched
with); a failed transcription is explained; with vision on, a photo reaches the model with its
turn, never an identity document's, never in a red conversation; with vision off, as before."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.test_converse import World, world
from wagate.domain.chat import ChatImage, Role
from wagate.domain.conversation import Notices
from wagate.domain.file_types import by_name
from wagate.domain.policy import PHOTO_ATTACHED, BurstMessage, triage
from wagate.domain.privacy.identity_documents import looks_like_identity_document
from wagate.domain.review import DEFAULT_URGENT_TEXT
from wagate.domain.transcription import transcribable, voice_filename
from wagate.pipeline.converse import Outcome
from wagate.testing import MemoryHandover
from wagate.triage_rules.factory import build_zone_triage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPOKEN_RED = "tolong suami saya sedang memukul saya sekarang saya dikunci di kamar"
KTP_OCR = "PROVINSI DKI JAKARTA\nNIK : 3174012345678901\nNama : BUDI SANTOSO"


def _message(i: int, **fields: object) -> BurstMessage:
    base: dict[str, object] = {"id": i, "kind": "media", "text": None, "received_at": T0}
    return BurstMessage(**(base | fields))  # type: ignore[arg-type]


def _sort(*messages: BurstMessage, vision: bool = False):  # type: ignore[no-untyped-def]
    return triage(messages, max_chars=1000, rate_limit=10, earlier_arrivals=[], vision=vision)


# ------------------------------------------------------------------ pure rules


def test_a_transcript_is_a_spoken_block_and_the_persons_own_words() -> None:
    sorted_ = _sort(_message(1, media="stored", media_type="audio", attachment="saya  di-PHK"))
    assert sorted_.answerable and sorted_.notices == ()
    assert sorted_.user_turn == "[Pesan suara (transkrip):]\nsaya di-PHK\n[Akhir pesan suara]"
    assert sorted_.spoken == ("saya di-PHK",)


def test_a_voice_note_without_a_transcript_asks_to_write_and_a_failed_one_says_so() -> None:
    assert _sort(_message(1, media="stored", media_type="audio")).notices == ("audio_received",)
    failed = _sort(_message(1, media="transcription_failed", media_type="audio"))
    assert failed.notices == ("audio_failed",) and not failed.answerable


def test_a_transcript_longer_than_a_message_is_not_refused_as_too_long() -> None:
    long = "kata " * 400  # 2,000 characters: twice MAX_MESSAGE_CHARS here
    sorted_ = _sort(_message(1, media="stored", media_type="audio", attachment=long))
    assert sorted_.too_long == () and sorted_.answerable


def test_with_vision_a_photo_alone_is_a_question_and_without_it_is_acknowledged() -> None:
    photo = _message(7, media="stored", media_type="image")
    seen = _sort(photo, vision=True)
    assert seen.images == (7,) and seen.answerable and seen.notices == ()
    assert seen.user_turn == PHOTO_ATTACHED
    unseen = _sort(photo)
    assert unseen.images == () and not unseen.answerable
    assert unseen.notices == ("media_received",)


def test_vision_skips_stickers_documents_and_unsettled_photos() -> None:
    sorted_ = _sort(
        _message(1, media="stored", media_type="sticker"),
        _message(2, media="stored", media_type="document", attachment="isi"),
        _message(3, media="too_large", media_type="image"),
        _message(4, media="pending", media_type="image"),
        vision=True,
    )
    assert sorted_.images == ()


def test_a_photo_of_an_identity_document_is_withheld_but_its_text_is_read() -> None:
    sorted_ = _sort(
        _message(1, media="stored", media_type="image", attachment=KTP_OCR),
        _message(2, media="stored", media_type="image", attachment="Surat panggilan sidang"),
        vision=True,
    )
    assert sorted_.withheld == (1,) and sorted_.images == (2,)
    assert "3174012345678901" in sorted_.user_turn  # masked later, with the rest of the turn


@pytest.mark.parametrize(
    "text",
    [
        KTP_OCR,
        "KARTU TANDA PENDUDUK",
        "KARTU KELUARGA No. 3174010101010001",
        "NPWP: 09.254.294.3-407.000",
        "REPUBLIK INDONESIA PASPOR",
        "nomor induk 3174016502900003 tertera",
    ],
)
def test_identity_documents_are_recognised_in_ocr_text(text: str) -> None:
    assert looks_like_identity_document(text)


@pytest.mark.parametrize(
    "text",
    [None, "", "Surat panggilan sidang Pengadilan Negeri", "Hubungi kami di 0812 3456 7890"],
)
def test_other_photos_are_not_identity_documents(text: str | None) -> None:
    assert not looks_like_identity_document(text)


def test_only_audio_sent_as_audio_is_transcribed_under_a_neutral_name() -> None:
    assert transcribable("audio", by_name("ogg"))
    assert transcribable("audio", by_name("mp4"))  # a voice note in an unbranded container
    assert not transcribable("document", by_name("ogg"))
    assert not transcribable("audio", by_name("jpeg"))
    assert voice_filename(by_name("ogg")) == "voice.ogg"


# ------------------------------------------------------------------ the conversation


def _file(w: World, *, media: str, media_type: str, attachment: str | None = None) -> int:
    message = w.store.receive(None, at=w.clock.now, kind="media")
    burst = w.store.bursts[1]
    w.store.bursts[1] = replace(
        burst,
        messages=[
            replace(m, media=media, media_type=media_type, attachment=attachment)
            if m.id == message.id
            else m
            for m in burst.messages
        ],
    )
    return message.id


@dataclasses.dataclass
class Photos:
    """The `TurnImages` port in memory: which ids were asked for."""

    asked: list[list[int]] = dataclasses.field(default_factory=list)

    async def images(self, message_ids: Sequence[int]) -> list[ChatImage]:
        self.asked.append(list(message_ids))
        return [ChatImage(mime_type="image/jpeg", data=f"photo-{i}".encode()) for i in message_ids]


def _with_rules(w: World, *, photos: Photos | None = None) -> MemoryHandover:
    class _Triage:
        triage_rules_file: Path | None = None
        triage_ai = False
        triage_ai_timeout_seconds = 1.0
        triage_model = True  # as a gateway runs by default

    handover = MemoryHandover()
    w.converse = dataclasses.replace(
        w.converse,
        zone_triage=build_zone_triage(_Triage(), None),  # the packaged rules
        handover=handover,
        images=photos,
    )
    return handover


async def test_a_spoken_emergency_is_red_and_never_reaches_the_ai() -> None:
    w = world()
    handover = _with_rules(w)
    _file(w, media="stored", media_type="audio", attachment=SPOKEN_RED)
    assert await w.run() is Outcome.URGENT
    assert w.assistant.prompts == []
    assert w.provider.sent == [DEFAULT_URGENT_TEXT]
    assert 1 in handover.open_reasons()


async def test_a_spoken_question_is_answered_masked_with_the_transcript_in_the_prompt() -> None:
    w = world()
    _with_rules(w)
    _file(
        w,
        media="stored",
        media_type="audio",
        attachment="nama saya Budi Santoso NIK 3174012345678901, apa syarat cerai?",
    )
    assert await w.run() is Outcome.ANSWERED
    [prompt] = w.assistant.prompts
    user = prompt[-1]
    assert user.role is Role.USER and "[Pesan suara (transkrip):]" in user.content
    assert "apa syarat cerai?" in user.content
    assert "3174012345678901" not in user.content and "[NIK_1]" in user.content


async def test_a_failed_transcription_is_explained_without_the_ai() -> None:
    w = world()
    w.converse.triage = replace(w.converse.triage, notices=Notices(audio_failed="[tulis saja]"))
    _file(w, media="transcription_failed", media_type="audio")
    assert await w.run() is Outcome.NO_QUESTION
    assert w.provider.sent == ["[tulis saja]"] and w.assistant.prompts == []


async def test_with_vision_the_photo_goes_with_the_last_turn_and_the_run_counts_it() -> None:
    w = world()
    photos = Photos()
    _with_rules(w, photos=photos)
    w.converse.__post_init__()  # the triage step reads whether vision is on
    photo = _file(w, media="stored", media_type="image")
    assert await w.run() is Outcome.ANSWERED
    assert photos.asked == [[photo]]
    [prompt] = w.assistant.prompts
    assert [t.images for t in prompt[:-1]] == [()] * (len(prompt) - 1)
    assert prompt[-1].images == (ChatImage(mime_type="image/jpeg", data=f"photo-{photo}".encode()),)
    assert prompt[-1].content == PHOTO_ATTACHED
    run = next(e for e in w.audit.events if e.action == "run.answered")
    assert run.details["vision_images"] == 1


async def test_an_identity_document_photo_is_never_loaded_for_the_model() -> None:
    w = world()
    photos = Photos()
    _with_rules(w, photos=photos)
    w.converse.__post_init__()
    _file(w, media="stored", media_type="image", attachment=KTP_OCR)
    assert await w.run() is Outcome.ANSWERED
    assert photos.asked == []
    [prompt] = w.assistant.prompts
    assert prompt[-1].images == ()
    assert "3174012345678901" not in prompt[-1].content  # its OCR text went, masked
    run = next(e for e in w.audit.events if e.action == "run.answered")
    assert run.details["vision_withheld"] == 1 and "vision_images" not in run.details


async def test_a_photo_in_a_red_turn_is_never_loaded() -> None:
    w = world()
    photos = Photos()
    _with_rules(w, photos=photos)
    w.converse.__post_init__()
    w.say(SPOKEN_RED)
    _file(w, media="stored", media_type="image")
    assert await w.run() is Outcome.URGENT
    assert photos.asked == [] and w.assistant.prompts == []
