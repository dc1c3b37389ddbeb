"""The fakes' fast lane (fakes/fast_lane.py) answers its routes exactly as the Starlette routes
behind it would, and leaves every other request to them."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from starlette.routing import Match

from wagate.fakes.fast_lane import FastLane
from wagate.fakes.meta import FakeGraphApi
from wagate.fakes.openai import FakeOpenAI

# Paths around the Graph API's messages route: some it takes, some Starlette alone serves.
GRAPH_PATHS = [
    "/v22.0/106540352242922/messages",
    "/106540352242922/messages",
    "/abc/messages",
    "/v22.0/abc/messages",
    "/v22.0//messages",
    "//messages",
    "/106540352242922/messages/",
    "/v22.0/106540352242922/messages/extra",
    "/v22.0/106540352242922/media",
    "/_fake/requests",
    "/_media/messages",
    "/x/y/z/messages",
    "/１２/messages",  # full-width digits: not Starlette's [0-9]+
]
AI_PATHS = ["/v1/chat/completions", "/chat/completions", "/v2/chat/completions", "/v1/models"]


def starlette_match(app: FastLane, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The endpoint (by name) and path parameters Starlette's router picks, if it fully matches."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in app.fallback.router.routes:  # type: ignore[attr-defined]
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route.endpoint.__name__, child["path_params"]
    return None


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("path", GRAPH_PATHS)
def test_graph_fast_lane_takes_exactly_what_starlette_routes_to_messages(
    method: str, path: str
) -> None:
    fake = FakeGraphApi()
    lane = fake.app
    assert isinstance(lane, FastLane)
    taken = fake._fast_route(method, path[1:].split("/"))
    expected = starlette_match(lane, method, path)
    if expected is not None and expected[0] == "_messages":
        assert taken is not None
        assert taken[1] == {"phone_number_id": expected[1]["phone_number_id"]}
        assert type(taken[1]["phone_number_id"]) is type(expected[1]["phone_number_id"])
    else:
        assert taken is None


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("path", AI_PATHS)
def test_ai_fast_lane_takes_exactly_the_chat_routes(method: str, path: str) -> None:
    fake = FakeOpenAI()
    taken = fake._fast_route(method, path[1:].split("/"))
    expected = starlette_match(fake.app, method, path)  # type: ignore[arg-type]
    if expected is not None and expected[0] == "_chat":
        assert taken is not None and taken[1] == {"path": path}
    else:
        assert taken is None


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], Any]:
    body = orjson.loads(response.content) if response.content else None
    if isinstance(body, dict):  # ids differ from call to call, nothing else may
        for message in body.get("messages", []):
            message["id"] = "wamid"
        body.pop("id", None)
        body.pop("created", None)
    return response.status_code, sorted(response.headers.items()), body


GRAPH_BODIES: list[tuple[str, bytes]] = [
    (
        "good",
        orjson.dumps({"messaging_product": "whatsapp", "to": "628123", "text": {"body": "hi"}}),
    ),
    ("good", orjson.dumps({"messaging_product": "whatsapp", "status": "read", "message_id": "w"})),
    (
        "wrong",
        orjson.dumps({"messaging_product": "whatsapp", "to": "628123", "text": {"body": "hi"}}),
    ),
    ("good", b"{not json"),
    ("good", orjson.dumps({"to": "1", "type": "image", "image": {"id": "unknown"}})),
]


@pytest.mark.parametrize(("token", "body"), GRAPH_BODIES)
async def test_graph_answers_alike_on_both_lanes(token: str, body: bytes) -> None:
    fake = FakeGraphApi(access_token="good")
    assert isinstance(fake.app, FastLane)
    answers = []
    for app in (fake.app, fake.app.fallback):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://graph"
        ) as client:
            response = await client.post(
                "/v22.0/1065/messages", content=body, headers={"Authorization": f"Bearer {token}"}
            )
            answers.append(_comparable(response))
    assert answers[0] == answers[1]
    fast, slow = fake.recorder.listing(None)[-2:] if body != b"{not json" else ({}, {})
    assert {k: v for k, v in fast.items() if k not in ("seq", "at", "responded_at", "wamid")} == {
        k: v for k, v in slow.items() if k not in ("seq", "at", "responded_at", "wamid")
    }


async def test_graph_answers_a_chaos_refusal_alike_on_both_lanes() -> None:
    fake = FakeGraphApi()
    assert isinstance(fake.app, FastLane)
    body = orjson.dumps({"messaging_product": "whatsapp", "to": "628123", "text": {"body": "x"}})
    answers = []
    for app in (fake.app, fake.app.fallback):
        fake.chaos = None
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://graph"
        ) as client:
            for rates in ({"429": 1.0}, {"timeout_refused": 1.0}, {"500_accepted": 1.0}):
                await client.post("/_fake/chaos", json={"rates": rates, "timeout_seconds": 0})
                response = await client.post("/v22.0/1065/messages", content=body)
                answers.append(_comparable(response))
    assert answers[:3] == answers[3:]
    assert [a[0] for a in answers[:3]] == [429, 504, 500]
    assert ("retry-after", "1") in answers[0][1]
    assert answers[1][2] is None and ("content-length", "0") in answers[1][1]


async def test_ai_answers_alike_on_both_lanes() -> None:
    fake = FakeOpenAI(api_key="key")
    assert isinstance(fake.app, FastLane)
    request = {"model": "fake-large", "messages": [{"role": "user", "content": "halo"}]}
    answers = []
    for app in (fake.app, fake.app.fallback):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ai"
        ) as client:
            for key, body in (("key", request), ("bad", request), ("key", {"model": "m"})):
                response = await client.post(
                    "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
                )
                answers.append(_comparable(response))
    assert answers[:3] == answers[3:]
    assert [a[0] for a in answers[:3]] == [200, 401, 400]
    assert answers[0][2]["choices"][0]["message"]["content"] == "ECHO[fake-large] halo (turns=1)"
    assert [e["path"] for e in fake.recorder.listing("chat")] == ["/v1/chat/completions"] * 6
