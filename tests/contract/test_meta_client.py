"""MetaClient against the fake Graph API over real HTTP: request shapes from
meta-send-request-examples.json, error codes injected through /_fake/fail (protocol §7, §9)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from wagate.domain import errors as e
from wagate.fakes.meta import FakeGraphApi
from wagate.providers.meta.client import MetaClient

DATA = Path(__file__).parent.parent / "data" / "payloads"
EXAMPLES: dict[str, Any] = json.loads(
    (DATA / "meta-send-request-examples.json").read_text(encoding="utf-8")
)
TOKEN = "EAAG-contract-token"
PHONE_NUMBER_ID = "200000000000001"
USER = EXAMPLES["text"]["to"]


@dataclass
class Graph:
    base: str
    control: httpx.AsyncClient

    async def fail(self, **spec: Any) -> None:
        (await self.control.post("/_fake/fail", json=spec)).raise_for_status()

    async def requests(self, kind: str) -> list[dict[str, Any]]:
        answer = await self.control.get("/_fake/requests", params={"kind": kind})
        listing: list[dict[str, Any]] = answer.json()
        return listing


@pytest.fixture(scope="module")
async def graph_server(serve_app: Any) -> AsyncIterator[Graph]:
    async with (
        serve_app(FakeGraphApi(access_token=TOKEN).app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as control,
    ):
        yield Graph(base=base, control=control)


@pytest.fixture
async def graph(graph_server: Graph) -> Graph:
    (await graph_server.control.delete("/_fake/requests")).raise_for_status()
    return graph_server


@pytest.fixture
async def client(graph: Graph) -> AsyncIterator[MetaClient]:
    meta = MetaClient(
        graph_url=f"{graph.base}/v22.0", access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID
    )
    yield meta
    await meta.aclose()


async def test_send_text_returns_the_wamid_the_fake_recorded(
    graph: Graph, client: MetaClient
) -> None:
    sent = await client.send_text(to=USER, body=EXAMPLES["text"]["text"]["body"])
    [request] = await graph.requests("send")
    assert sent.provider_message_id == request["wamid"]
    assert sent.provider_message_id.startswith("wamid.")
    assert sent.recipient == USER
    assert request["phone_number_id"] == PHONE_NUMBER_ID


async def test_send_text_body_is_the_documented_text_example(
    graph: Graph, client: MetaClient
) -> None:
    example = EXAMPLES["text"]
    await client.send_text(to=example["to"], body=example["text"]["body"])
    [request] = await graph.requests("send")
    assert request["body"] == example


async def test_reply_to_adds_the_context_message_id(graph: Graph, client: MetaClient) -> None:
    example = EXAMPLES["text_reply_with_context"]
    await client.send_text(
        to=example["to"], body=example["text"]["body"], reply_to=example["context"]["message_id"]
    )
    [request] = await graph.requests("send")
    assert request["body"]["context"] == example["context"]
    assert request["body"]["text"]["body"] == example["text"]["body"]
    assert request["body"]["type"] == "text"


async def test_tracker_travels_as_biz_opaque_callback_data(
    graph: Graph, client: MetaClient
) -> None:
    await client.send_text(to=USER, body="x", tracker="idem-42")
    [request] = await graph.requests("send")
    assert request["body"]["biz_opaque_callback_data"] == "idem-42"


async def test_send_without_reply_or_tracker_has_neither_field(
    graph: Graph, client: MetaClient
) -> None:
    await client.send_text(to=USER, body="x")
    [request] = await graph.requests("send")
    assert "context" not in request["body"]
    assert "biz_opaque_callback_data" not in request["body"]


@pytest.mark.parametrize(
    ("typing", "example"),
    [(True, "mark_as_read_with_typing_indicator"), (False, "mark_as_read")],
)
async def test_mark_read_sends_the_documented_body(
    graph: Graph, client: MetaClient, typing: bool, example: str
) -> None:
    expected = EXAMPLES[example]
    assert await client.mark_read(message_id=expected["message_id"], typing=typing) is True
    [request] = await graph.requests("read")
    assert request["body"] == expected
    assert await graph.requests("send") == []


async def test_bearer_token_is_sent(graph: Graph, client: MetaClient) -> None:
    await client.send_text(to=USER, body="x")
    [request] = await graph.requests("send")
    assert request["authorized"] is True


async def test_wrong_token_is_authentication_failed(graph: Graph) -> None:
    wrong = MetaClient(
        graph_url=f"{graph.base}/v22.0", access_token="expired", phone_number_id=PHONE_NUMBER_ID
    )
    try:
        with pytest.raises(e.AuthenticationFailed) as caught:
            await wrong.send_text(to=USER, body="x")
    finally:
        await wrong.aclose()
    assert caught.value.code == "190"
    [request] = await graph.requests("send")
    assert request["authorized"] is False


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (131056, e.PairRateLimited),
        (130429, e.RateLimited),
        (190, e.AuthenticationFailed),
        (131047, e.WindowClosed),
        (131026, e.RecipientUnreachable),
    ],
)
async def test_injected_graph_error_is_translated(
    graph: Graph, client: MetaClient, code: int, kind: type[e.SendError]
) -> None:
    await graph.fail(code=code)
    with pytest.raises(kind) as caught:
        await client.send_text(to=USER, body="x")
    assert type(caught.value) is kind
    assert caught.value.code == str(code)


async def test_server_error_without_code_is_provider_unavailable(
    graph: Graph, client: MetaClient
) -> None:
    await graph.fail(http_status=500)
    with pytest.raises(e.ProviderUnavailable):
        await client.send_text(to=USER, body="x")


async def test_read_failure_does_not_affect_sends(graph: Graph, client: MetaClient) -> None:
    await graph.fail(code=131000, kind="read")
    await client.send_text(to=USER, body="x")
    with pytest.raises(e.ProviderUnavailable):
        await client.mark_read(message_id="wamid.TEST_REPLY_0001")


async def test_sends_succeed_again_after_the_planned_failures(
    graph: Graph, client: MetaClient
) -> None:
    await graph.fail(code=130429, times=2)
    for _ in range(2):
        with pytest.raises(e.RateLimited):
            await client.send_text(to=USER, body="x")
    sent = await client.send_text(to=USER, body="x")
    requests = await graph.requests("send")
    assert len(requests) == 3
    assert [r.get("failed") for r in requests] == [400, 400, None]
    assert requests[-1]["wamid"] == sent.provider_message_id


async def test_answer_slower_than_the_timeout_is_provider_unavailable(graph: Graph) -> None:
    slow = MetaClient(
        graph_url=f"{graph.base}/v22.0",
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        timeout=0.3,
    )
    await graph.fail(delay_seconds=1.0)
    try:
        with pytest.raises(e.ProviderUnavailable, match="timed out"):
            await slow.send_text(to=USER, body="x")
    finally:
        await slow.aclose()


async def test_connection_refused_is_provider_unavailable(closed_port: int) -> None:
    nowhere = MetaClient(
        graph_url=f"http://127.0.0.1:{closed_port}/v22.0",
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        timeout=2,
    )
    try:
        with pytest.raises(e.ProviderUnavailable, match="unreachable"):
            await nowhere.send_text(to=USER, body="x")
    finally:
        await nowhere.aclose()
