"""MetaClient's Flow message (FL1) against the fake Graph API over real HTTP: the request has
the shape of the protocol's `interactive_flow` example and Meta's OpenAPI description (version
3, a Flow by id, the button, `navigate` to the first screen, no empty `data`), and a Flow
message missing what Meta requires is refused by the fake as Meta refuses it (error 100)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wagate.domain import errors as e
from wagate.domain.case_intake import IntakeFlow
from wagate.domain.provider_port import FlowSender
from wagate.fakes.meta import FakeGraphApi
from wagate.providers.meta.client import MetaClient

DATA = Path(__file__).parent.parent / "data" / "payloads"
EXAMPLE: dict[str, Any] = json.loads(
    (DATA / "meta-send-request-examples.json").read_text(encoding="utf-8")
)["interactive_flow"]
TOKEN = "EAAG-contract-token"
PHONE_NUMBER_ID = "200000000000001"
USER = "6281200000001"
FLOW = IntakeFlow(flow_id="400000000000001").invitation("run:1:2:intake_flow")


@pytest.fixture(scope="module")
async def graph(serve_app: Any) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    async with (
        serve_app(FakeGraphApi(access_token=TOKEN).app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as control,
    ):
        yield base, control


@pytest.fixture
async def client(graph: tuple[str, httpx.AsyncClient]) -> AsyncIterator[MetaClient]:
    base, control = graph
    (await control.delete("/_fake/requests")).raise_for_status()
    meta = MetaClient(
        graph_url=f"{base}/v22.0", access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID
    )
    yield meta
    await meta.aclose()


async def test_a_flow_message_has_the_documented_shape_and_is_accepted(
    graph: tuple[str, httpx.AsyncClient], client: MetaClient
) -> None:
    assert isinstance(client, FlowSender) and client.capabilities.flows
    sent = await client.send_flow(to=USER, flow=FLOW, tracker="run:1:2:intake_flow")
    [request] = (await graph[1].get("/_fake/requests", params={"kind": "send"})).json()
    assert request["wamid"] == sent.provider_message_id and request["outcome"] == "accepted"
    body = request["body"]
    assert body["biz_opaque_callback_data"] == "run:1:2:intake_flow"
    assert {k: body[k] for k in ("messaging_product", "to", "type")} == {
        k: EXAMPLE[k] for k in ("messaging_product", "to", "type")
    }
    interactive = body["interactive"]
    assert interactive["type"] == EXAMPLE["interactive"]["type"] == "flow"
    assert interactive["body"] == {"text": FLOW.body}
    assert interactive["action"]["name"] == "flow"
    parameters = interactive["action"]["parameters"]
    documented = set(EXAMPLE["interactive"]["action"]["parameters"])
    assert set(parameters) <= documented | {"mode"}
    assert parameters == {
        "flow_message_version": "3",
        "flow_id": "400000000000001",
        "flow_token": FLOW.flow_token,
        "flow_cta": "Isi formulir",
        "flow_action": "navigate",
        "flow_action_payload": {"screen": "DATA_DIRI"},
        "mode": "published",
    }


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda p: p.pop("flow_id"), "flow_id"),
        (lambda p: p.update(flow_name="intake"), "flow_id"),
        (lambda p: p.update(flow_message_version="2"), "flow_message_version"),
        (lambda p: p.pop("flow_action_payload"), "screen"),
        (lambda p: p.update(flow_cta=""), "flow_cta"),
    ],
)
async def test_the_fake_refuses_a_flow_message_meta_would_refuse(
    graph: tuple[str, httpx.AsyncClient], change: Any, detail: str
) -> None:
    _, control = graph
    body = json.loads(json.dumps(EXAMPLE))
    change(body["interactive"]["action"]["parameters"])
    answer = await control.post(
        f"/v22.0/{PHONE_NUMBER_ID}/messages",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 100 and detail in error["error_data"]["details"]


async def test_the_documented_example_itself_is_accepted(
    graph: tuple[str, httpx.AsyncClient],
) -> None:
    _, control = graph
    answer = await control.post(
        f"/v22.0/{PHONE_NUMBER_ID}/messages",
        json=EXAMPLE,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200 and answer.json()["messages"][0]["id"]


async def test_a_refused_flow_message_is_a_permanent_error_for_delivery(
    graph: tuple[str, httpx.AsyncClient], client: MetaClient
) -> None:
    _, control = graph
    spec = {"kind": "send", "code": 100, "times": 1, "http_status": 400}
    (await control.post("/_fake/fail", json=spec)).raise_for_status()
    with pytest.raises(e.PermanentSendError):
        await client.send_flow(to=USER, flow=FLOW)
