"""Voice notes and photos end to end (MD1, issue 16 item 2): real gateway processes, the fake
Graph API serving the files, the fake OpenAI server transcribing and answering over HTTP, a
real PostgreSQL.

What is proved: a voice note whose transcript is an emergency gets the holding reply and
never reaches the chat model; a calm one is answered with the transcript in the prompt; a
gateway without a transcription model asks the person to write; a transcription that keeps
failing is tried again from the queue, then the person is told (the file stays); a photo
reaches the vision model only on a gateway that has one, and only for a tenant that has not
turned vision off (AI_VISION_ENABLED, a tenant setting)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import API_TOKEN, FakePeer, Gateway, fresh_database, tag, wait_until
from tests.e2e.test_media import _download, _jpeg, _media_message, _register, _sent_to, _settled
from wagate.domain.review import DEFAULT_URGENT_TEXT

TRANSCRIPTION_MODEL = "whisper-fake"
VISION_MODEL = "fake-vision"


def _voice(marker: str) -> bytes:
    """An Ogg page header, then bytes of this test's own (so its requests can be told apart)."""
    return b"OggS\x00\x02" + marker.encode() * 64


@pytest.fixture(scope="module")
def listening(workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer) -> Iterator[Gateway]:
    """A gateway with a transcription model and a vision model on the fake AI endpoint."""
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            AI_TRANSCRIPTION_MODEL=TRANSCRIPTION_MODEL,
            AI_TRANSCRIPTION_ATTEMPTS="2",
            AI_VISION_MODEL=VISION_MODEL,
        ).start()
        try:
            yield gateway
        finally:
            gateway.stop()


def _send_voice(gateway: Gateway, fake_meta: FakePeer, sender: str, audio: bytes) -> None:
    media_id = _register(fake_meta, audio, mime_type="audio/ogg; codecs=opus")
    _, payload = _media_message(
        sender, "audio", {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    )
    assert gateway.post_meta(payload).status_code == 200


def _plan_transcript(fake_ai: FakePeer, text: str) -> None:
    httpx.post(f"{fake_ai.url}/_fake/transcription", json={"text": text}).raise_for_status()


def _transcriptions_of(fake_ai: FakePeer, audio: bytes) -> list[dict[str, Any]]:
    digest = hashlib.sha256(audio).hexdigest()
    return [r for r in fake_ai.requests("transcription") if r["sha256"] == digest]


def _chats_about(fake_ai: FakePeer, marker: str) -> list[dict[str, Any]]:
    """Chat and classification requests whose last user turn carries `marker`."""
    found = []
    for request in fake_ai.requests():
        if request["kind"] not in ("chat", "classify"):
            continue
        users = [m for m in request["body"]["messages"] if m.get("role") == "user"]
        if users and marker in str(users[-1].get("content")):
            found.append(request)
    return found


def test_a_spoken_emergency_gets_the_holding_reply_and_never_reaches_the_ai(
    listening: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    audio = _voice(f"red-{sender}")
    _plan_transcript(fake_ai, "tolong, suami saya sedang memukul saya sekarang, saya dikunci")
    _send_voice(listening, fake_meta, sender, audio)
    [reply] = wait_until(lambda: _sent_to(fake_meta, sender), timeout=60)
    assert reply == DEFAULT_URGENT_TEXT
    [file] = _settled(listening, sender, 1)
    assert (file["status"], file["problem"], file["hasText"]) == ("stored", None, True)
    [asked] = _transcriptions_of(fake_ai, audio)
    assert (asked["model"], asked["language"], asked["filename"]) == (
        TRANSCRIPTION_MODEL,
        "id",
        "voice.ogg",
    )
    assert _chats_about(fake_ai, "memukul") == []  # neither an answer nor a classification
    conversation = listening.conversation_for(sender)
    assert conversation is not None
    held = listening.api("/api/conversations", held="true")["items"]
    assert conversation["id"] in [h["conversationId"] for h in held]


def test_a_calm_voice_note_is_answered_with_its_transcript_in_the_prompt(
    listening: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    marker = tag(sender)
    audio = _voice(f"green-{sender}")
    _plan_transcript(fake_ai, f"berapa biaya konsultasi pertama {marker}")
    _send_voice(listening, fake_meta, sender, audio)
    [answer] = wait_until(
        lambda: [r for r in _chats_about(fake_ai, marker) if r["kind"] == "chat"], timeout=60
    )
    question = answer["body"]["messages"][-1]["content"]
    assert question.startswith("[Pesan suara (transkrip):]")
    assert f"berapa biaya konsultasi pertama {marker}" in question
    assert answer["model"] == "model-a" and answer["images"] == []
    texts = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)
    assert any(marker in text for text in texts)  # the echo of the transcript came back
    assert not any("tuliskan" in text for text in texts)


def test_without_a_transcription_model_the_person_is_asked_to_write(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    audio = _voice(f"none-{sender}")
    _send_voice(gateway, fake_meta, sender, audio)
    [file] = _settled(gateway, sender, 1)
    assert (file["status"], file["hasText"]) == ("stored", False)
    [notice] = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)
    assert "mohon tuliskan pertanyaan Anda" in notice
    assert _transcriptions_of(fake_ai, audio) == []


def test_a_failing_transcription_is_retried_then_the_person_is_told_and_the_file_kept(
    listening: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    audio = _voice(f"fail-{sender}")
    fake_ai.fail(model=TRANSCRIPTION_MODEL, http_status=500, times=2)
    _send_voice(listening, fake_meta, sender, audio)
    [file] = _settled(listening, sender, 1)
    assert (file["status"], file["problem"], file["hasText"]) == (
        "stored",
        "transcription_failed",
        False,
    )
    attempts = _transcriptions_of(fake_ai, audio)
    assert [a.get("failed") for a in attempts] == [500, 500]  # AI_TRANSCRIPTION_ATTEMPTS=2
    [notice] = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)
    assert "belum dapat kami dengarkan" in notice
    assert _download(listening, file["id"]).content == audio  # nothing lost
    downloads = [r for r in fake_meta.requests("media_download")]
    time.sleep(2)  # a second notice, if there were one, would have gone by now
    assert len(_sent_to(fake_meta, sender)) == 1
    assert len(fake_meta.requests("media_download")) == len(downloads)


def test_a_photo_reaches_the_vision_model_only_where_one_is_configured(
    listening: Gateway, gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    other = sender[:-1] + ("5" if sender[-1] != "5" else "6")
    for target, person in ((listening, sender), (gateway, other)):
        photo = _jpeg((90 + int(person[-2:]), 60))
        media_id = _register(fake_meta, photo, mime_type="image/jpeg")
        marker = tag(person)
        _, payload = _media_message(
            person,
            "image",
            {"id": media_id, "mime_type": "image/jpeg", "caption": f"apa ini sah? {marker}"},
        )
        assert target.post_meta(payload).status_code == 200
        [answer] = wait_until(
            lambda marker=marker: [r for r in _chats_about(fake_ai, marker) if r["kind"] == "chat"],
            timeout=60,
        )
        if target is listening:
            assert answer["model"] == VISION_MODEL
            assert answer["images"] == [
                {
                    "role": "user",
                    "mime_type": "image/jpeg",
                    "size": len(photo),
                    "sha256": hashlib.sha256(photo).hexdigest(),
                }
            ]
        else:
            assert answer["model"] == "model-a" and answer["images"] == []
            assert "base64" not in str(answer["body"])
        wait_until(lambda person=person: _sent_to(fake_meta, person), timeout=30)


def _ask_about_a_photo(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, person: str, size: tuple[int, int]
) -> dict[str, Any]:
    """Send a captioned photo from `person`; the chat request that answered it."""
    photo = _jpeg(size)
    media_id = _register(fake_meta, photo, mime_type="image/jpeg")
    marker = tag(person)
    _, payload = _media_message(
        person,
        "image",
        {"id": media_id, "mime_type": "image/jpeg", "caption": f"apa ini sah? {marker}"},
    )
    assert gateway.post_meta(payload).status_code == 200
    [answer] = wait_until(
        lambda: [r for r in _chats_about(fake_ai, marker) if r["kind"] == "chat"], timeout=60
    )
    wait_until(lambda: _sent_to(fake_meta, person), timeout=30)  # and the person was answered
    return answer


def test_a_tenant_that_turns_vision_off_sends_no_photo_to_the_vision_model(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    """The platform has a vision model; the firm (here the default tenant) turns it off with
    its `ai_vision_enabled` setting, then goes back to the platform's choice."""
    admin = {"Authorization": f"Bearer {API_TOKEN}"}
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            AI_VISION_MODEL=VISION_MODEL,
        ).start()
        try:

            def set_vision(value: bool | None) -> None:
                changed = gateway.http.patch(
                    "/api/tenants/default",
                    json={"settings": {"ai_vision_enabled": value}},
                    headers=admin,
                )
                assert changed.status_code == 200, changed.text
                # A restart builds the tenant's services from its settings at once (a running
                # process picks the change up within seconds; a test should not guess when).
                gateway.stop()
                gateway.start()

            set_vision(False)
            shown = gateway.http.get("/api/tenants/default", headers=admin).json()
            assert shown["settings"] == {"ai_vision_enabled": False}
            blind = _ask_about_a_photo(gateway, fake_meta, fake_ai, sender, (97, 61))
            assert blind["model"] == "model-a" and blind["images"] == []
            assert "base64" not in str(blind["body"])

            set_vision(None)  # back to the platform's: on
            other = sender[:-1] + ("5" if sender[-1] != "5" else "6")
            seen = _ask_about_a_photo(gateway, fake_meta, fake_ai, other, (98, 62))
            assert seen["model"] == VISION_MODEL
            assert [image["mime_type"] for image in seen["images"]] == ["image/jpeg"]
        finally:
            gateway.stop()
