"""One keep-alive HTTP/1.1 connection: an asyncio protocol with llhttp (httptools, the parser
uvicorn already uses) reading the answers, one request at a time.

Everything here happens in the event loop's callbacks: no task, no stream object, no poll of
the socket before each reuse — the loop tells us when the peer closes an idle connection.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any, cast

import httptools
import httpx

from wagate.http_client.response import HttpResponse

# Statuses that never have a body, whatever their headers say.
_NO_BODY = frozenset({204, 304})
# Headers that delimit a body; without either, it runs until the connection closes.
_FRAMING = frozenset({b"content-length", b"transfer-encoding"})
_FRAMING_LENGTHS = frozenset(len(name) for name in _FRAMING)


class Http11Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._framed = False  # the answer names its length (Content-Length or Transfer-Encoding)
        self._body: list[bytes] = []
        self._received = False  # any byte of the current answer
        self._until_eof = False  # the answer's body ends when the connection does
        self._keep_alive = False  # the answer lets us send the next request on this connection
        self.closed = False
        self.reusable = False  # the last exchange completed and the peer keeps the connection
        self.idle_since = 0.0

    # ------------------------------------------------------------------ asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            # Bytes nobody asked for (or after a timeout): the connection's state is unknown.
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP answer: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too: connection_lost follows

    @property
    def usable(self) -> bool:
        """Open for a next request. The peer's FIN leaves the transport closing at once but
        `closed` false until `connection_lost` runs on a later loop pass: a request handed
        the connection in between would fail as "may have left" though nothing was sent."""
        transport = self._transport
        return not self.closed and transport is not None and not transport.is_closing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if exc is None and self._until_eof and self._status:
            self._complete()  # a body delimited by the end of the connection (HTTP/1.0 style)
        elif isinstance(exc, OSError):
            self._fail(httpx.ReadError(str(exc) or type(exc).__name__))
        elif not self._received:
            # The request may have reached the server: what httpx says in this case.
            self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))
        else:
            self._fail(httpx.RemoteProtocolError("peer closed connection mid-answer"))

    # ------------------------------------------------------------------ llhttp's callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        # Noted as the headers arrive rather than by a pass over them all afterwards.
        if len(name) in _FRAMING_LENGTHS and name.lower() in _FRAMING:
            self._framed = True

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._until_eof = self._status not in _NO_BODY and self._status >= 200 and not self._framed
        self._keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer (we never ask for one): skip it
            self._status, self._headers, self._framed = 0, [], False
            return
        self._complete()

    # ------------------------------------------------------------------ the exchange

    async def exchange(self, request: bytes, within: float) -> HttpResponse:
        """Write one whole request and wait for its answer, at most `within` seconds. A timeout
        aborts the connection: the request was (maybe) sent, so it is a read timeout, outcome
        unknown."""
        transport = self._transport
        if transport is None or self.closed or transport.is_closing():
            raise httpx.RemoteProtocolError("connection closed before the request")
        waiter: asyncio.Future[HttpResponse] = self._loop.create_future()
        self._waiter = waiter
        self._status, self._headers, self._body, self._framed = 0, [], [], False
        self._received = self._until_eof = self._keep_alive = self.reusable = False
        self._timer = self._loop.call_later(within, self._time_out, within)
        try:
            transport.write(request)
            return await waiter
        finally:
            self._timer.cancel()
            self._waiter = None
            if not (waiter.done() and not waiter.cancelled() and waiter.exception() is None):
                self.close()  # timed out, cancelled or failed: never reuse a connection mid-way

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.abort()

    def _time_out(self, seconds: float) -> None:
        self._fail(httpx.ReadTimeout(f"no complete answer within {seconds:g} s"))
        self.close()

    def _fail(self, error: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def _complete(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in self._headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        try:
            content = _decoded(b"".join(self._body), headers.get("content-encoding"))
        except httpx.DecodingError as exc:
            waiter.set_exception(exc)
            return
        self.reusable = not self.closed and not self._until_eof and self._keep_alive
        self._body = []
        waiter.set_result(HttpResponse(self._status, headers, content))


def _decoded(body: bytes, encoding: Any) -> bytes:
    """We ask for no compression; a server that compresses anyway is decoded (gzip, deflate)."""
    if not encoding or not body or encoding == "identity":
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    except zlib.error as exc:
        raise httpx.DecodingError(f"{encoding} body does not decode: {exc}") from exc
    raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}")
