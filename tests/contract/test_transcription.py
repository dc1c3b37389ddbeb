"""The transcription client against the fake OpenAI server over real HTTP on loopback: the
multipart request OpenAI documents, and which failures are worth another try."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from wagate.assistants.transcription import OpenAICompatibleTranscriber
from wagate.domain.transcription import TranscriptionFailed
from wagate.fakes.openai import FakeOpenAI

AUDIO = b"OggS" + bytes(range(200))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(api_key="test-key")
    port = _free_port()
    running = uvicorn.Server(
        uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(running.serve())
    while not running.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield fake, f"http://127.0.0.1:{port}"
    running.should_exit = True
    await task


@pytest.fixture
async def peer(server: tuple[FakeOpenAI, str]) -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake, url = server
    async with httpx.AsyncClient(base_url=url) as control:
        (await control.post("/_fake/reset")).raise_for_status()
    yield fake, url


def _client(url: str, **options: object) -> OpenAICompatibleTranscriber:
    settings: dict[str, object] = {
        "base_url": f"{url}/v1",
        "api_key": "test-key",
        "model": "whisper-1",
    }
    return OpenAICompatibleTranscriber(**(settings | options))  # type: ignore[arg-type]


async def test_the_request_is_openais_multipart_and_the_text_comes_back(
    peer: tuple[FakeOpenAI, str],
) -> None:
    fake, url = peer
    async with httpx.AsyncClient(base_url=url) as control:
        planned = await control.post("/_fake/transcription", json={"text": "apa kabar"})
        planned.raise_for_status()
    client = _client(url)
    try:
        text = await client.transcribe(AUDIO, filename="voice.ogg", mime_type="audio/ogg")
    finally:
        await client.aclose()
    assert text == "apa kabar"
    [asked] = fake.recorder.listing("transcription")
    assert asked["path"] == "/v1/audio/transcriptions"
    assert (asked["model"], asked["language"], asked["response_format"]) == (
        "whisper-1",
        "id",
        "json",
    )
    assert (asked["filename"], asked["content_type"]) == ("voice.ogg", "audio/ogg")
    assert asked["sha256"] == hashlib.sha256(AUDIO).hexdigest()


async def test_without_a_language_the_model_guesses_and_the_default_answer_is_stable(
    peer: tuple[FakeOpenAI, str],
) -> None:
    fake, url = peer
    client = _client(url, language=None)
    try:
        first = await client.transcribe(AUDIO, filename="voice.ogg", mime_type="audio/ogg")
        second = await client.transcribe(AUDIO, filename="voice.ogg", mime_type="audio/ogg")
    finally:
        await client.aclose()
    assert (
        first
        == second
        == f"TRANSCRIPT[whisper-1] {len(AUDIO)} bytes " + (hashlib.sha256(AUDIO).hexdigest()[:8])
    )
    assert [r["language"] for r in fake.recorder.listing("transcription")] == [None, None]


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (429, True), (400, False), (404, False)]
)
async def test_server_errors_may_pass_and_refusals_will_not(
    peer: tuple[FakeOpenAI, str], status: int, retry: bool
) -> None:
    _, url = peer
    async with httpx.AsyncClient(base_url=url) as control:
        planned = await control.post(
            "/_fake/fail", json={"model": "whisper-1", "http_status": status}
        )
        planned.raise_for_status()
    client = _client(url)
    try:
        with pytest.raises(TranscriptionFailed) as failed:
            await client.transcribe(AUDIO, filename="voice.ogg", mime_type="audio/ogg")
    finally:
        await client.aclose()
    assert failed.value.retry is retry and f"HTTP {status}" in str(failed.value)


async def test_a_wrong_key_is_a_refusal(peer: tuple[FakeOpenAI, str]) -> None:
    _, url = peer
    client = _client(url, api_key="wrong")
    try:
        with pytest.raises(TranscriptionFailed) as failed:
            await client.transcribe(AUDIO, filename="voice.ogg", mime_type="audio/ogg")
    finally:
        await client.aclose()
    assert failed.value.retry is False


async def test_a_timeout_and_a_dead_server_are_worth_another_try(
    peer: tuple[FakeOpenAI, str],
) -> None:
    _, url = peer
    async with httpx.AsyncClient(base_url=url) as control:
        planned = await control.post(
            "/_fake/fail", json={"model": "whisper-1", "delay_seconds": 1.0}
        )
        planned.raise_for_status()
    slow = _client(url, timeout_seconds=0.2)
    dead = _client(f"http://127.0.0.1:{_free_port()}")
    try:
        for client in (slow, dead):
            with pytest.raises(TranscriptionFailed) as failed:
                await client.transcribe(AUDIO, filename="voice.ogg", mime_type="audio/ogg")
            assert failed.value.retry is True
    finally:
        await slow.aclose()
        await dead.aclose()
