"""The fake Graph API signs webhooks like Meta (protocol §2): the header it sends must verify with
`check_signature` over the exact bytes a server receives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from wagate.fakes.meta import FakeGraphApi, deliver_webhook
from wagate.providers.meta.signature import SIGNATURE_HEADER, SignatureCheck, check_signature

DATA = Path(__file__).parent.parent / "data" / "payloads"
SECRET = "test_app_secret"
PAYLOAD: dict[str, Any] = json.loads((DATA / "meta-inbound-text.json").read_text("utf-8"))


class Echo:
    """Keeps what arrived, byte for byte."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> PlainTextResponse:
        self.received.append((await request.body(), dict(request.headers)))
        return PlainTextResponse("EVENT_RECEIVED")


@pytest.fixture
async def echo(serve_app: Any) -> AsyncIterator[tuple[Echo, str]]:
    receiver = Echo()
    async with serve_app(receiver.app) as base:
        yield receiver, f"{base}/hook"


@pytest.mark.parametrize(
    "payload",
    [PAYLOAD, {"text": 'Halo é 👍 \u2028 "quoted"', "n": [1, 2.5, None]}],
    ids=["golden", "unicode"],
)
async def test_delivered_signature_verifies_over_the_received_bytes(
    echo: tuple[Echo, str], payload: dict[str, Any]
) -> None:
    receiver, url = echo
    status, text = await deliver_webhook(url, payload, SECRET)
    assert (status, text) == (200, "EVENT_RECEIVED")
    [(body, headers)] = receiver.received
    assert check_signature(body, headers[SIGNATURE_HEADER], SECRET) is SignatureCheck.VALID
    assert check_signature(body, headers[SIGNATURE_HEADER], "other") is SignatureCheck.MISMATCH
    assert json.loads(body) == payload
    assert headers["content-type"] == "application/json"


async def test_delivery_with_a_caller_client_signs_the_same_way(echo: tuple[Echo, str]) -> None:
    receiver, url = echo
    async with httpx.AsyncClient(timeout=5) as own:
        status, _ = await deliver_webhook(url, PAYLOAD, SECRET, client=own)
    assert status == 200
    [(body, headers)] = receiver.received
    assert check_signature(body, headers[SIGNATURE_HEADER], SECRET) is SignatureCheck.VALID


async def test_fake_graph_control_endpoint_delivers_a_signed_webhook(
    echo: tuple[Echo, str], serve_app: Any
) -> None:
    receiver, url = echo
    async with serve_app(FakeGraphApi().app) as graph, httpx.AsyncClient(timeout=10) as control:
        answer = await control.post(
            f"{graph}/_fake/webhook", json={"url": url, "app_secret": SECRET, "payload": PAYLOAD}
        )
    assert answer.json() == {"status": 200, "body": "EVENT_RECEIVED"}
    [(body, headers)] = receiver.received
    assert check_signature(body, headers[SIGNATURE_HEADER], SECRET) is SignatureCheck.VALID
