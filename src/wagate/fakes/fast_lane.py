"""A lean ASGI lane in front of a fake's Starlette app, for the routes a benchmark floods.

Why: the fakes share the machine with the gateway in every benchmark, and on the hot routes
(the Graph API's `POST /{phone}/messages`, the AI's `POST /chat/completions`) Starlette's
middleware stack, router, `Request` and `JSONResponse` cost more CPU than the fake's own work.
The lane matches those few paths itself, reads the body straight from `receive`, calls the
same handler the Starlette route calls and sends the answer rendered with orjson. Everything
else (control endpoints, uploads, media, lifespan) goes to the Starlette app unchanged, and
the Starlette routes for the hot paths stay: both lanes answer alike (`Answer.response()`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON = (b"content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a fake answers: a status, a JSON payload (None: no body at all) and extra headers."""

    status: int
    payload: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    def raw(self) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The headers and body as Starlette's Response would send them (its order and rules:
        the extra headers, then content-length, then content-type when there is a body)."""
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        body = b"" if self.payload is None else orjson.dumps(self.payload)
        if not (self.status < 200 or self.status in (204, 304)):
            headers.append((b"content-length", str(len(body)).encode("latin-1")))
        if self.payload is not None:
            headers.append(_JSON)
        return headers, body

    def response(self) -> Response:
        """The same answer for a Starlette route."""
        headers, body = self.raw()
        response = Response(status_code=self.status)
        response.body = body
        response.raw_headers = headers
        return response


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request on the fast lane: its path parameters, headers and whole body."""

    params: dict[str, Any]
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> str:
        """The first value of a header (`name` in lower case), as Starlette's Headers.get."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return ""

    def bearer(self) -> str:
        return self.header(b"authorization").removeprefix("Bearer ").strip()


Handler = Callable[[Incoming], Awaitable[Answer]]
# Given the method and the path's segments (split on "/", the leading empty one dropped):
# the handler and the path parameters, or None to leave the request to the Starlette app.
Router = Callable[[str, list[str]], tuple[Handler, dict[str, Any]] | None]


class FastLane:
    def __init__(self, fallback: AsgiApp, route: Router) -> None:
        self.fallback = fallback
        self._route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A root_path would change how Starlette sees the path: leave such setups to it.
        if scope["type"] == "http" and not scope.get("root_path"):
            found = self._route(scope["method"], scope["path"][1:].split("/"))
            if found is not None:
                handler, params = found
                body = await _whole_body(receive)
                if body is None:
                    return  # the client went away before sending it all: nobody to answer
                answer = await handler(Incoming(params, scope["headers"], body))
                headers, content = answer.raw()
                await send(
                    {"type": "http.response.start", "status": answer.status, "headers": headers}
                )
                await send({"type": "http.response.body", "body": content})
                return
        await self.fallback(scope, receive, send)


async def _whole_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
