"""Issue 10 case 4: unfinished request bodies share one memory budget; a crowd of slow clients
gets 503s instead of growing the server, and a finished or abandoned body gives its share back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from wagate.web.middleware import Edge


async def _echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": message["body"]})


def _scope(length: int | None) -> dict[str, Any]:
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    return {"type": "http", "path": "/webhook/whatsapp", "headers": headers}


class _Client:
    """A request whose body arrives when the test says so."""

    def __init__(self) -> None:
        self.chunks: asyncio.Queue[Message] = asyncio.Queue()
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return await self.chunks.get()

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None


async def test_unfinished_bodies_share_a_budget_and_give_it_back() -> None:
    limit = Edge(_echo_app, max_bytes=4096, max_pending_bytes=5000)
    slow = [_Client() for _ in range(2)]
    tasks = [asyncio.create_task(limit(_scope(2000), c.receive, c.send)) for c in slow]
    await asyncio.sleep(0)
    assert limit.pending_bytes == 4000  # announced lengths are held up front

    third = _Client()
    await limit(_scope(2000), third.receive, third.send)
    assert third.status == 503

    unannounced = _Client()
    task = asyncio.create_task(limit(_scope(None), unannounced.receive, unannounced.send))
    await unannounced.chunks.put({"type": "http.request", "body": b"x" * 1500, "more_body": True})
    await task
    assert unannounced.status == 503  # streamed past the budget

    await slow[0].chunks.put({"type": "http.request", "body": b"a" * 2000, "more_body": False})
    await slow[1].chunks.put({"type": "http.disconnect"})
    await asyncio.gather(*tasks)
    assert slow[0].status == 200
    assert slow[1].status is None  # the client left: nothing to answer
    assert limit.pending_bytes == 0

    fourth = _Client()
    await fourth.chunks.put({"type": "http.request", "body": b"b" * 2000, "more_body": False})
    await limit(_scope(2000), fourth.receive, fourth.send)
    assert fourth.status == 200


async def test_a_streamed_route_passes_its_body_through_counted_and_refuses_past_its_limit() -> (
    None
):
    """An operator's upload route: nothing is held by the middleware (the app sees the first
    piece before the body has ended) and nothing counts against the shared budget; the receive
    that goes past the route's limit raises BodyTooLarge; a Content-Length over it is 413."""
    from wagate.web.middleware import BodyTooLarge

    seen: list[int] = []

    async def streaming_app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limit = Edge(
        streaming_app, max_bytes=1024, max_pending_bytes=2048, streamed_limits={"/up": 10_000}
    )
    scope = {"type": "http", "path": "/up", "headers": []}
    client = _Client()
    task = asyncio.create_task(limit(scope, client.receive, client.send))
    await client.chunks.put({"type": "http.request", "body": b"x" * 6000, "more_body": True})
    await asyncio.sleep(0.01)
    assert seen == [6000] and limit.pending_bytes == 0  # passed on before the body ended
    await client.chunks.put({"type": "http.request", "body": b"x" * 3000, "more_body": False})
    await task
    assert client.status == 202

    over = _Client()
    task = asyncio.create_task(limit(scope, over.receive, over.send))
    await over.chunks.put({"type": "http.request", "body": b"x" * 10_001, "more_body": False})
    with pytest.raises(BodyTooLarge):
        await task
    announced = _Client()
    headers = [(b"content-length", b"10001")]
    await limit({**scope, "headers": headers}, announced.receive, announced.send)
    assert announced.status == 413
