"""FonnteClient against the fake Fonnte over real HTTP (fonnte.md §0, §1): form fields, the raw
token in `Authorization`, ids from `id[]`, and in-band failures with HTTP 200."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from wagate.domain import errors as e
from wagate.fakes.fonnte import FakeFonnte
from wagate.providers.fonnte.client import FonnteClient

DATA = Path(__file__).parent.parent / "data" / "payloads"
REQUESTS: dict[str, Any] = json.loads((DATA / "fonnte-send-request.json").read_text("utf-8"))
TOKEN = "tok"
USER = "6281200000001"


@dataclass
class Fonnte:
    base: str
    control: httpx.AsyncClient

    async def fail(self, **spec: Any) -> None:
        (await self.control.post("/_fake/fail", json=spec)).raise_for_status()

    async def requests(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = (
            await self.control.get("/_fake/requests", params={"kind": "send"})
        ).json()
        return listing


@pytest.fixture(scope="module")
async def fonnte_server(serve_app: Any) -> AsyncIterator[Fonnte]:
    async with (
        serve_app(FakeFonnte(token=TOKEN).app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as control,
    ):
        yield Fonnte(base=base, control=control)


@pytest.fixture
async def fonnte(fonnte_server: Fonnte) -> Fonnte:
    (await fonnte_server.control.delete("/_fake/requests")).raise_for_status()
    return fonnte_server


@pytest.fixture
async def client(fonnte: Fonnte) -> AsyncIterator[FonnteClient]:
    sender = FonnteClient(api_url=f"{fonnte.base}/send", token=TOKEN)
    yield sender
    await sender.aclose()


async def test_send_text_posts_form_fields_and_returns_the_id(
    fonnte: Fonnte, client: FonnteClient
) -> None:
    sent = await client.send_text(to=USER, body="Halo, pesanan Anda sudah kami terima.")
    [request] = await fonnte.requests()
    assert request["fields"] == {
        "target": USER,
        "message": "Halo, pesanan Anda sudah kami terima.",
        "countryCode": "0",  # canonical targets: Fonnte must not rewrite a leading 0
    }
    assert sent.provider_message_id == request["ids"][0]
    assert sent.provider_message_id.isdigit()
    assert sent.recipient == USER


async def test_raw_token_is_the_authorization_header(fonnte: Fonnte, client: FonnteClient) -> None:
    # The fake compares the whole header with the token: "Bearer tok" would not be authorized.
    await client.send_text(to=USER, body="x")
    [request] = await fonnte.requests()
    assert request["authorized"] is True


async def test_request_is_form_encoded_not_json(serve_app: Any) -> None:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen["headers"] = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen["body"] = body
        answer = json.dumps({"status": True, "id": ["1"], "target": [USER]}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": answer})

    async with serve_app(app) as base:
        sender = FonnteClient(api_url=f"{base}/send", token=TOKEN)
        try:
            await sender.send_text(to=USER, body="a b&c")
        finally:
            await sender.aclose()
    assert seen["headers"]["authorization"] == TOKEN
    assert seen["headers"]["content-type"].startswith("application/x-www-form-urlencoded")
    assert b"message=a+b%26c" in seen["body"]


async def test_reply_to_a_numeric_inbox_id_quotes_it(fonnte: Fonnte, client: FonnteClient) -> None:
    example = REQUESTS["reply_quoting_incoming"]
    await client.send_text(
        to=example["target"], body=example["message"], reply_to=example["inboxid"]
    )
    [request] = await fonnte.requests()
    assert request["fields"] == example


async def test_reply_to_a_non_numeric_id_is_not_sent_as_inboxid(
    fonnte: Fonnte, client: FonnteClient
) -> None:
    await client.send_text(to=USER, body="x", reply_to="6282200000000:abc")
    [request] = await fonnte.requests()
    assert "inboxid" not in request["fields"]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("request invalid on disconnected device", e.DeviceDisconnected),
        ("token invalid", e.AuthenticationFailed),
        ("target invalid", e.RecipientUnreachable),
        ("insufficient quota", e.QuotaExhausted),
        ("a reason nobody documented", e.ProviderUnavailable),
    ],
)
async def test_in_band_failure_reason_is_translated(
    fonnte: Fonnte, client: FonnteClient, reason: str, kind: type[e.SendError]
) -> None:
    await fonnte.fail(reason=reason)
    with pytest.raises(kind) as caught:
        await client.send_text(to=USER, body="x")
    assert type(caught.value) is kind


async def test_disconnected_device_is_transient(fonnte: Fonnte, client: FonnteClient) -> None:
    await fonnte.fail(reason="request invalid on disconnected device")
    with pytest.raises(e.TransientSendError):
        await client.send_text(to=USER, body="x")


async def test_wrong_token_is_authentication_failed(fonnte: Fonnte) -> None:
    wrong = FonnteClient(api_url=f"{fonnte.base}/send", token="Bearer tok")
    try:
        with pytest.raises(e.AuthenticationFailed):
            await wrong.send_text(to=USER, body="x")
    finally:
        await wrong.aclose()
    [request] = await fonnte.requests()
    assert request["authorized"] is False


async def test_server_error_status_is_provider_unavailable(
    fonnte: Fonnte, client: FonnteClient
) -> None:
    await fonnte.fail(reason="upstream", http_status=502)
    with pytest.raises(e.ProviderUnavailable, match="502"):
        await client.send_text(to=USER, body="x")


async def test_sends_succeed_again_after_the_planned_failures(
    fonnte: Fonnte, client: FonnteClient
) -> None:
    await fonnte.fail(reason="request invalid on disconnected device", times=2)
    for _ in range(2):
        with pytest.raises(e.DeviceDisconnected):
            await client.send_text(to=USER, body="x")
    sent = await client.send_text(to=USER, body="x")
    requests = await fonnte.requests()
    assert len(requests) == 3
    assert requests[-1]["ids"] == [sent.provider_message_id]


async def test_timeout_is_provider_unavailable(fonnte: Fonnte) -> None:
    slow = FonnteClient(api_url=f"{fonnte.base}/send", token=TOKEN, timeout=0.3)
    await fonnte.fail(reason="late", delay_seconds=1.0)
    try:
        with pytest.raises(e.ProviderUnavailable, match="timed out"):
            await slow.send_text(to=USER, body="x")
    finally:
        await slow.aclose()


async def test_connection_refused_is_provider_unavailable(closed_port: int) -> None:
    nowhere = FonnteClient(api_url=f"http://127.0.0.1:{closed_port}/send", token=TOKEN, timeout=2)
    try:
        with pytest.raises(e.ProviderUnavailable, match="unreachable"):
            await nowhere.send_text(to=USER, body="x")
    finally:
        await nowhere.aclose()


async def test_mark_read_is_unsupported_and_sends_nothing(
    fonnte: Fonnte, client: FonnteClient
) -> None:
    assert await client.mark_read(message_id="123456789", typing=True) is False
    assert await fonnte.requests() == []
