"""Pure ASGI middleware (cheap on the hot path): body-size limit and budget, request ids,
nosniff."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)


class BodyLimit:
    """413 for bodies over `max_bytes`, whether announced by Content-Length or streamed.

    The body is read here, up to the limit, before the application runs: an oversized stream is
    refused cleanly instead of failing half-way through a handler. Bodies are small (1 MiB by
    default), so holding one in memory costs nothing the handler would not spend anyway.

    Routes that take large files as a stream (`streamed_limits`: an operator's upload of up to
    100 MB) are not held here: their body passes through as it arrives, counted, and the
    receive that would go past the limit raises `BodyTooLarge` for the handler to answer 413
    (a Content-Length over the limit is refused before the handler runs).

    Unfinished bodies share one budget, `max_pending_bytes` (the larger of each body's announced
    length and what it has sent so far): a crowd of slow clients gets 503s instead of growing the
    server's memory. The read timeouts of `web.server` end each such body eventually.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_pending_bytes: int = 64 * 1024 * 1024,
        path_limits: Mapping[str, int] | None = None,
        streamed_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Routes that take files (a knowledge-base upload) get their own, larger limit.
        self.path_limits = dict(path_limits or {})
        self.streamed_limits = dict(streamed_limits or {})
        self.max_pending_bytes = max_pending_bytes
        self.pending_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streamed = self.streamed_limits.get(scope["path"])
        limit = streamed or self.path_limits.get(scope["path"], self.max_bytes)
        announced = 0
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    await _reject(send, 400, "invalid Content-Length")
                    return
                if announced > limit:
                    await self._too_large(scope, send, announced)
                    return
        if streamed is not None:
            await self.app(scope, _counted(receive, streamed, scope), send)
            return
        reader = _BodyReader(self, announced, limit)
        try:
            body = await reader.read(scope, receive, send)
        finally:
            reader.release()
        if body is None:
            return
        buffered: Message | None = {"type": "http.request", "body": body, "more_body": False}

        async def replay() -> Message:
            nonlocal buffered
            if buffered is not None:
                message, buffered = buffered, None
                return message
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send, size: int) -> None:
        log.warning("request.rejected", reason="too_large", path=scope["path"], size=size)
        await _reject(send, 413, "request body too large")


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

    def __init__(self, limit: BodyLimit, announced: int, max_bytes: int) -> None:
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


class RequestContext:
    """Binds a request id (the caller's X-Request-ID or a new one) to every log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id or uuid.uuid4().hex)

        async def send_nosniff(message: Message) -> None:
            # Nothing we answer is meant to be sniffed into HTML (hub.challenge is echoed).
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_nosniff)


async def _reject(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
