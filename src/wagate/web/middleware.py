"""The web edge, one pure ASGI layer (cheap on the hot path): request ids, nosniff, the body
limit and budget, and the webhooks' hot door."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wagate.web.webhooks import WebhookRoutes

log = structlog.get_logger(__name__)

_NOSNIFF = (b"x-content-type-options", b"nosniff")


class Edge:
    """The one ASGI layer in front of the application (issue 18 folded three into it): binds a
    request id to every log line, marks every answer nosniff, enforces the body limit and
    budget, and hands webhook routes to their hot door before the application.

    Request id: the caller's X-Request-ID (64 characters at most) or a new random one.

    Body limit: 413 for bodies over `max_bytes`, whether announced by Content-Length or
    streamed. The body is read here, up to the limit, before the application runs: an
    oversized stream is refused cleanly instead of failing half-way through a handler. Bodies
    are small (1 MiB by default), so holding one in memory costs nothing the handler would not
    spend anyway. Unfinished bodies share one budget, `max_pending_bytes` (the larger of each
    body's announced length and what it has sent so far): a crowd of slow clients gets 503s
    instead of growing the server's memory. The read timeouts of `web.server` end each such
    body eventually.

    Webhooks: a request `webhooks` finds (a configured route and method) is answered by it
    from the body read here; everything else goes to `app` with the body replayed.

    Routes that take large files as a stream (`streamed_limits`: an operator's upload of up to
    100 MB) are not held here: their body passes through as it arrives, counted, and the
    receive that would go past the limit raises `BodyTooLarge` for the handler to answer 413
    (a Content-Length over the limit is refused before the handler runs).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_pending_bytes: int = 64 * 1024 * 1024,
        path_limits: Mapping[str, int] | None = None,
        webhooks: WebhookRoutes | None = None,
        streamed_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Routes that take files (a knowledge-base upload) get their own, larger limit.
        self.path_limits = dict(path_limits or {})
        self.streamed_limits = dict(streamed_limits or {})
        self.max_pending_bytes = max_pending_bytes
        self.pending_bytes = 0
        self.webhooks = webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        streamed = self.streamed_limits.get(scope["path"])
        announced = 0
        limit = streamed or self.path_limits.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
            elif name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = -1
        structlog.contextvars.clear_contextvars()
        # 128 random bits as hex, as uuid4().hex was, for a fraction of its cost.
        structlog.contextvars.bind_contextvars(request_id=request_id or os.urandom(16).hex())
        if announced < 0:
            await _reject(send, 400, "invalid Content-Length")
            return
        if announced > limit:
            await self._too_large(scope, send, announced)
            return
        if streamed is not None:
            await self.app(scope, _counted(receive, streamed, scope), _nosniff(send))
            return
        reader = _BodyReader(self, announced, limit)
        try:
            body = await reader.read(scope, receive, send)
        finally:
            reader.release()
        if body is None:
            return
        webhooks = self.webhooks
        found = webhooks.find(scope) if webhooks is not None else None
        if found is not None:
            assert webhooks is not None
            handler, path_params = found
            await webhooks.serve(handler, path_params, scope, body, send)
            return
        buffered: Message | None = {"type": "http.request", "body": body, "more_body": False}

        async def replay() -> Message:
            nonlocal buffered
            if buffered is not None:
                message, buffered = buffered, None
                return message
            return await receive()

        await self.app(scope, replay, _nosniff(send))

    async def _too_large(self, scope: Scope, send: Send, size: int) -> None:
        log.warning("request.rejected", reason="too_large", path=scope["path"], size=size)
        await _reject(send, 413, "request body too large")


def _nosniff(send: Send) -> Send:
    async def send_nosniff(message: Message) -> None:
        # Nothing we answer is meant to be sniffed into HTML (hub.challenge is echoed).
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), _NOSNIFF]
            message = {**message, "headers": headers}
        await send(message)

    return send_nosniff


class BodyTooLarge(Exception):
    """A streamed body went past its route's limit (raised by its receive)."""


def _counted(receive: Receive, limit: int, scope: Scope) -> Receive:
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                log.warning("request.rejected", reason="too_large", path=scope["path"], size=seen)
                raise BodyTooLarge(f"request body over {limit} bytes")
        return message

    return counting


class _BodyReader:
    """One body being read, and its share of the shared pending budget."""

    def __init__(self, limit: Edge, announced: int, max_bytes: int) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.held = 0
        self.announced = announced

    def _hold(self, size: int) -> bool:
        wanted = max(size, self.announced)
        extra = wanted - self.held
        if extra > 0 and self.limit.pending_bytes + extra > self.limit.max_pending_bytes:
            return False
        if extra > 0:
            self.limit.pending_bytes += extra
            self.held = wanted
        return True

    def release(self) -> None:
        self.limit.pending_bytes -= self.held
        self.held = 0

    async def read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once an answer (413, 503) was sent or the client left."""
        if not self._hold(0):
            await self._busy(scope, send)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away before sending its body: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self.limit._too_large(scope, send, size)
                return None
            if not self._hold(size):
                await self._busy(scope, send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _busy(self, scope: Scope, send: Send) -> None:
        log.warning("request.rejected", reason="pending_bodies", path=scope["path"])
        await _reject(send, 503, "too many unfinished request bodies; retry later")


async def _reject(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        _NOSNIFF,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
