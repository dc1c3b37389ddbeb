"""The OpenAI-compatible assistant against the fake OpenAI server over real HTTP on loopback
(an in-process transport does not honour the SDK's timeouts), and the offline assistant."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import structlog.testing
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.contract.conftest import serve
from wagate.assistants.base import Assistant
from wagate.assistants.offline import OfflineAssistant
from wagate.assistants.openai_compatible import OpenAICompatibleAssistant
from wagate.domain.chat import AssistantUnavailable, ChatImage, ChatTurn, Role
from wagate.fakes.openai import FakeOpenAI

PROMPT = "Berapa saldo rekening 1234567890 atas nama Budi?"
TURNS = [
    ChatTurn(role=Role.SYSTEM, content="Anda asisten layanan pelanggan."),
    ChatTurn(role=Role.USER, content="Halo"),
    ChatTurn(role=Role.ASSISTANT, content="Halo, ada yang bisa dibantu?"),
    ChatTurn(role=Role.USER, content=PROMPT),
]


@dataclass
class Peer:
    fake: FakeOpenAI
    url: str
    control: httpx.AsyncClient

    async def fail(self, **spec: Any) -> None:
        (await self.control.post("/_fake/fail", json=spec)).raise_for_status()

    async def plan_reply(self, **spec: Any) -> None:
        (await self.control.post("/_fake/reply", json=spec)).raise_for_status()

    async def requests(self) -> list[dict[str, Any]]:
        answer = await self.control.get("/_fake/requests", params={"kind": "chat"})
        listing: list[dict[str, Any]] = answer.json()
        return listing

    def assistant(self, *models: str, timeout: float = 5.0, **options: Any) -> Assistant:
        return OpenAICompatibleAssistant(
            base_url=f"{self.url}/v1",
            api_key="test-key",
            model=models[0],
            fallback_models=models[1:],
            timeout_seconds=timeout,
            **options,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Peer]:
    fake = FakeOpenAI()
    port = _free_port()
    config = uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    while not running.started:
        if task.done():
            task.result()  # surfaces why the server could not start
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as control:
        yield Peer(fake=fake, url=url, control=control)
    running.should_exit = True
    await task


@pytest.fixture
async def peer(server: Peer) -> AsyncIterator[Peer]:
    (await server.control.post("/_fake/reset")).raise_for_status()
    yield server


async def test_request_carries_the_turns_in_order_and_the_chosen_model(peer: Peer) -> None:
    assistant = peer.assistant("fake-large", "fake-small")
    try:
        await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    [request] = await peer.requests()
    assert request["model"] == "fake-large"
    assert request["body"]["messages"] == [
        {"role": turn.role.value, "content": turn.content} for turn in TURNS
    ]
    assert "temperature" not in request["body"]
    assert "max_tokens" not in request["body"]


async def test_echo_answer_comes_back_with_the_model_that_answered(peer: Peer) -> None:
    assistant = peer.assistant("fake-large")
    try:
        reply = await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    assert reply.text == f"ECHO[fake-large] {PROMPT} (turns=3)"
    assert (reply.model, reply.attempts) == ("fake-large", 1)


async def test_temperature_and_max_tokens_are_sent_when_set(peer: Peer) -> None:
    assistant = peer.assistant("fake-large", temperature=0.2, max_tokens=300)
    try:
        await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    [request] = await peer.requests()
    assert (request["body"]["temperature"], request["body"]["max_tokens"]) == (0.2, 300)


async def test_answer_is_stripped_and_markdown_kept(peer: Peer) -> None:
    await peer.plan_reply(text="\n  **Jam buka**: 08.00–16.00\n- Senin\n- Selasa  \n")
    assistant = peer.assistant("fake-large")
    try:
        reply = await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    assert reply.text == "**Jam buka**: 08.00–16.00\n- Senin\n- Selasa"


async def test_slow_first_model_times_out_and_the_second_answers(peer: Peer) -> None:
    await peer.fail(model="fake-large", delay_seconds=2)
    assistant = peer.assistant("fake-large", "fake-small", timeout=0.5)
    try:
        with structlog.testing.capture_logs() as logs:
            reply = await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    assert (reply.model, reply.attempts) == ("fake-small", 2)
    assert (logs[0]["error_type"], logs[0]["reason"]) == ("APITimeoutError", "timeout")
    assert logs[0]["elapsed_ms"] < 1500
    assert reply.text.startswith("ECHO[fake-small] ")
    assert [r["model"] for r in await peer.requests()] == ["fake-large", "fake-small"]


@pytest.mark.parametrize("http_status", [500, 503, 429, 400, 401, 403, 404])
async def test_an_error_status_on_the_first_model_falls_back(peer: Peer, http_status: int) -> None:
    await peer.fail(model="fake-large", http_status=http_status)
    assistant = peer.assistant("fake-large", "fake-small")
    try:
        reply = await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    assert (reply.model, reply.attempts) == ("fake-small", 2)
    requests = await peer.requests()
    assert [(r["model"], r.get("failed")) for r in requests] == [
        ("fake-large", http_status),
        ("fake-small", None),
    ]


@pytest.mark.parametrize("text", ["", "   \n ", None], ids=["empty", "blank", "null"])
async def test_an_empty_answer_falls_back(peer: Peer, text: str | None) -> None:
    await peer.plan_reply(model="fake-large", text=text)
    assistant = peer.assistant("fake-large", "fake-small")
    try:
        reply = await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    assert (reply.model, reply.attempts) == ("fake-small", 2)


async def test_all_models_failing_is_unavailable_naming_models_not_the_prompt(peer: Peer) -> None:
    await peer.fail(model="fake-large", http_status=500)
    await peer.fail(model="fake-small", http_status=429)
    await peer.plan_reply(model="fake-tiny", text="")
    assistant = peer.assistant("fake-large", "fake-small", "fake-tiny")
    try:
        with pytest.raises(AssistantUnavailable) as raised:
            await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    message = str(raised.value)
    for expected in ("fake-large: InternalServerError", "fake-small: RateLimitError"):
        assert expected in message
    assert "fake-tiny: EmptyAnswer" in message
    assert all(turn.content not in message for turn in TURNS)
    assert len(await peer.requests()) == 3


async def test_an_unreachable_server_is_unavailable() -> None:
    assistant = OpenAICompatibleAssistant(
        base_url=f"http://127.0.0.1:{_free_port()}/v1",
        api_key="",
        model="a",
        fallback_models=["b"],
        timeout_seconds=2,
    )
    try:
        with pytest.raises(AssistantUnavailable, match=r"a: APIConnectionError.*b: APIConn"):
            await assistant.reply(TURNS)
    finally:
        await assistant.aclose()


async def test_a_wrong_api_key_falls_through_every_model(server: Peer) -> None:
    server.fake.api_key = "the-right-key"
    assistant = server.assistant("fake-large", "fake-small")
    try:
        with pytest.raises(AssistantUnavailable, match="fake-small: AuthenticationError"):
            await assistant.reply(TURNS)
    finally:
        server.fake.api_key = None
        await assistant.aclose()


async def test_logs_name_models_and_errors_but_never_message_text(peer: Peer) -> None:
    await peer.fail(model="fake-large", http_status=404)
    assistant = peer.assistant("fake-large", "fake-small")
    try:
        with structlog.testing.capture_logs() as logs:
            await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    events = [(e["event"], e.get("model"), e.get("error_type")) for e in logs]
    assert events == [
        ("assistant.fallback", "fake-large", "NotFoundError"),
        ("assistant.answered", "fake-small", None),
    ]
    assert logs[0]["log_level"] == "error"  # a wrong model name needs an operator
    assert logs[1]["attempts"] == 2
    logged = repr(logs)
    assert all(turn.content not in logged for turn in TURNS)
    assert "ECHO" not in logged


async def test_fake_refuses_streaming_in_openai_error_shape(peer: Peer) -> None:
    answer = await peer.control.post(
        "/v1/chat/completions",
        json={
            "model": "fake-large",
            "stream": True,
            "messages": [{"role": "user", "content": "x"}],
        },
    )
    assert answer.status_code == 400
    assert set(answer.json()["error"]) >= {"message", "type", "code"}


async def test_fake_answers_on_the_unversioned_path_and_lists_models(peer: Peer) -> None:
    answer = await peer.control.post(
        "/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "dua kata"}]},
    )
    body = answer.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == "ECHO[m] dua kata (turns=1)"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}
    models = (await peer.control.get("/v1/models")).json()
    assert [m["id"] for m in models["data"]] == list(peer.fake.models)


async def test_offline_assistant_says_in_indonesian_that_no_ai_is_configured() -> None:
    assistant: Assistant = OfflineAssistant()
    reply = await assistant.reply(TURNS)
    await assistant.aclose()
    assert reply.model == "offline"
    assert reply.text.startswith("Maaf") and "belum dikonfigurasi" in reply.text


async def test_offline_assistant_message_can_be_overridden() -> None:
    reply = await OfflineAssistant(message="Layanan otomatis sedang libur.").reply(TURNS)
    assert (reply.text, reply.model) == ("Layanan otomatis sedang libur.", "offline")


# ------------------------------------------------------------------ photos (AI_VISION_MODEL)

PHOTO = ChatImage(mime_type="image/png", data=b"\x89PNG\r\n\x1a\n" + bytes(64))
WITH_PHOTO = [*TURNS[:-1], ChatTurn(role=Role.USER, content=PROMPT, images=(PHOTO,))]


async def test_a_photo_goes_to_the_vision_model_as_an_image_url_part(peer: Peer) -> None:
    assistant = peer.assistant("fake-large", vision_model="fake-vision")
    try:
        reply = await assistant.reply(WITH_PHOTO)
    finally:
        await assistant.aclose()
    assert (reply.model, reply.attempts) == ("fake-vision", 1)
    [request] = await peer.requests()
    assert request["model"] == "fake-vision"
    last = request["body"]["messages"][-1]
    assert last["content"][0] == {"type": "text", "text": PROMPT}
    assert last["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert request["images"] == [
        {
            "role": "user",
            "mime_type": "image/png",
            "size": len(PHOTO.data),
            "sha256": hashlib.sha256(PHOTO.data).hexdigest(),
        }
    ]
    # Earlier turns stay plain text.
    assert all(isinstance(m["content"], str) for m in request["body"]["messages"][:-1])


async def test_when_the_vision_model_fails_the_text_models_answer_without_the_photo(
    peer: Peer,
) -> None:
    await peer.fail(model="fake-vision", http_status=500)
    assistant = peer.assistant("fake-large", vision_model="fake-vision")
    try:
        reply = await assistant.reply(WITH_PHOTO)
    finally:
        await assistant.aclose()
    assert (reply.model, reply.attempts) == ("fake-large", 2)
    vision, text = await peer.requests()
    assert vision["model"] == "fake-vision" and vision["failed"] == 500
    assert text["model"] == "fake-large" and text["images"] == []
    assert text["body"]["messages"][-1] == {"role": "user", "content": PROMPT}


async def test_without_a_vision_model_a_photo_never_leaves(peer: Peer) -> None:
    assistant = peer.assistant("fake-large")
    try:
        await assistant.reply(WITH_PHOTO)
    finally:
        await assistant.aclose()
    [request] = await peer.requests()
    assert request["images"] == [] and "base64" not in str(request["body"])


async def test_a_turn_without_photos_never_asks_the_vision_model(peer: Peer) -> None:
    assistant = peer.assistant("fake-large", vision_model="fake-vision")
    try:
        reply = await assistant.reply(TURNS)
    finally:
        await assistant.aclose()
    assert reply.model == "fake-large"
    assert [r["model"] for r in await peer.requests()] == ["fake-large"]


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b'{"choices": "none"}',
        b'{"choices": [{"message": {"content": 7}}]}',
    ],
    ids=["not-json", "no-list", "not-text"],
)
async def test_a_success_that_is_not_a_chat_completion_falls_back(body: bytes) -> None:
    async def completions(request: Request) -> Response:
        model = orjson.loads(await request.body())["model"]
        if model == "broken":
            return Response(body, media_type="application/json")
        answer = {"choices": [{"message": {"role": "assistant", "content": "baik"}}]}
        return JSONResponse(answer)

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    async with serve(app) as url:
        assistant = OpenAICompatibleAssistant(
            base_url=f"{url}/v1", api_key="k", model="broken", fallback_models=["good"]
        )
        try:
            with structlog.testing.capture_logs() as logs:
                reply = await assistant.reply(TURNS)
        finally:
            await assistant.aclose()
    assert (reply.text, reply.model, reply.attempts) == ("baik", "good", 2)
    assert (logs[0]["error_type"], logs[0]["reason"]) == (
        "APIResponseValidationError",
        "invalid_response",
    )
