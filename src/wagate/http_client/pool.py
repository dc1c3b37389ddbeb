"""The lean client: keep-alive HTTP/1.1 connections to one origin, reused last-in first-out.

Why not httpx here: per answered message the worker makes three requests (read receipt with
typing, the AI call, the send), and httpx spent 0.7–1.2 ms of CPU on each against a loopback
fake, more with more connections open (its pool polls every idle socket before each request).
This client does the same exchange in a few tens of microseconds (benchmarks/http_clients.py).
What it keeps from httpx: TLS verified with the same trust store (`httpx.create_ssl_context`:
certifi, or SSL_CERT_FILE / SSL_CERT_DIR), at most `max_connections` at once (then
`PoolTimeout`), idle connections dropped after `keepalive_expiry`, and httpx's exception types
with their meaning: `ConnectError` / `ConnectTimeout` / `PoolTimeout` before anything was sent,
`ReadTimeout` / `ReadError` / `RemoteProtocolError` once the request may have left. What it
leaves to httpx (see `wagate.http_client.http_client`): proxies, HTTP/2, redirects, cookies,
streaming. No request is ever retried here: the callers own retries and idempotency.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from importlib import metadata
from urllib.parse import quote, urlsplit

import httpx

from wagate.http_client.connection import Http11Connection
from wagate.http_client.response import HttpResponse


def _user_agent() -> str:
    # product/x.y.z: the form Meta's API description asks of a User-Agent.
    try:
        return f"wagate/{metadata.version('wagate')}"
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "wagate/0.0.0"


USER_AGENT = _user_agent()
# Characters left as they are in a request target; anything else is percent-encoded, so a
# value from configuration (a phone number id) can never break the request line.
_SAFE_TARGET = "/?&=:@!$'()*+,;~%-._"
# Request heads kept per (method, path, content type): an adapter uses one or two paths; a
# caller with ever-new paths (queries) builds the rest each time rather than growing a cache.
_CACHED_HEADS = 32


class LeanHttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        verify: ssl.SSLContext | bool = True,
        pool_timeout: float | None = None,
    ) -> None:
        self._timeout = float(timeout)
        # How long a request waits for a free connection (PoolTimeout); `timeout` by default.
        self._pool_timeout = self._timeout if pool_timeout is None else float(pool_timeout)
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._idle: list[Http11Connection] = []
        self._active = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._heads: dict[tuple[str, str, str | None], bytes] = {}
        self._problem: httpx.HTTPError | None = None  # raised by every request: a setup error
        self._closed = False
        parts = urlsplit(base_url)
        self._tls = parts.scheme == "https"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._problem = httpx.UnsupportedProtocol(f"not an http(s) URL: {base_url!r}")
        self._host = parts.hostname or ""
        try:
            self._port = parts.port or (443 if self._tls else 80)
        except ValueError:
            self._problem = httpx.UnsupportedProtocol(f"invalid port in {base_url!r}")
            self._port = 0
        host = f"[{self._host}]" if ":" in self._host else self._host
        default_port = parts.port is None or parts.port == (443 if self._tls else 80)
        self._base_path = parts.path.rstrip("/")
        lines = [f"Host: {host if default_port else f'{host}:{self._port}'}"]
        lines.append(f"User-Agent: {USER_AGENT}")
        lines.append("Accept: application/json")
        for name, value in (headers or {}).items():
            if any(c in f"{name}{value}" for c in "\r\n\0") or ":" in name:
                # What h11 refuses too; never let a token with a line break forge headers.
                self._problem = httpx.LocalProtocolError(f"invalid header {name!r}")
            lines.append(f"{name}: {value}")
        self._fixed = ("\r\n".join(lines) + "\r\n").encode("latin-1", "replace")

    async def request(
        self, method: str, path: str = "", *, content: bytes = b"", content_type: str | None = None
    ) -> HttpResponse:
        if self._problem is not None:
            raise self._problem
        if self._closed:
            raise httpx.ConnectError("the client was closed")
        head = self._heads.get((method, path, content_type))
        if head is None:
            head = self._head(method, path, content_type)
            if len(self._heads) < _CACHED_HEADS:
                self._heads[(method, path, content_type)] = head
        if content or method not in ("GET", "HEAD"):
            data = b"%bContent-Length: %d\r\n\r\n%b" % (head, len(content), content)
        else:
            data = head + b"\r\n"
        if self._active < self._max_connections and not self._waiters:
            self._active += 1  # a free slot: taken without a coroutine (the usual case)
        else:
            await self._wait_for_slot()
        connection: Http11Connection | None = None
        try:
            connection = self._idle_connection() or await self._connect()
            response = await connection.exchange(data, self._timeout)
        finally:
            if connection is not None and connection.reusable and not self._closed:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            elif connection is not None:
                connection.close()
            self._release()
        return response

    async def aclose(self) -> None:
        self._closed = True
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    # ------------------------------------------------------------------ requests

    def _head(self, method: str, path: str, content_type: str | None) -> bytes:
        target = quote(
            f"{self._base_path}/{path.lstrip('/')}" if path else self._base_path, _SAFE_TARGET
        )
        head = f"{method} {target or '/'} HTTP/1.1\r\n".encode("ascii") + self._fixed
        if content_type:
            head += f"Content-Type: {content_type}\r\n".encode("latin-1")
        return head

    # ------------------------------------------------------------------ the pool

    def _idle_connection(self) -> Http11Connection | None:
        expired_before = time.monotonic() - self._keepalive_expiry
        while self._idle:
            connection = self._idle.pop()  # the most recent: the likeliest still open
            if connection.usable and connection.idle_since > expired_before:
                return connection
            connection.close()
        return None

    async def _connect(self) -> Http11Connection:
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if self._tls else None
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: Http11Connection(loop),
                    self._host,
                    self._port,
                    ssl=tls,
                    server_hostname=self._host if tls else None,
                ),
                self._timeout,
            )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection within {self._timeout:g} s") from exc
        except OSError as exc:  # refused, unreachable, DNS, and TLS (ssl.SSLError is one)
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(verify=self._verify)
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl

    async def _wait_for_slot(self) -> None:
        """When `max_connections` are in use (request() takes a free slot itself): the first
        one released within the timeout (PoolTimeout: nothing was sent)."""
        loop = asyncio.get_running_loop()
        slot: asyncio.Future[None] = loop.create_future()
        self._waiters.append(slot)
        timer = loop.call_later(self._pool_timeout, _expire, slot, self._pool_timeout)
        try:
            await slot
        except BaseException:
            if slot.done() and not slot.cancelled() and slot.exception() is None:
                self._release()  # handed a slot just as we were cancelled: pass it on
            raise
        finally:
            timer.cancel()

    def _release(self) -> None:
        while self._waiters:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)  # the slot goes straight to the next in line
                return
        self._active -= 1


def _expire(slot: asyncio.Future[None], seconds: float) -> None:
    if not slot.done():
        slot.set_exception(httpx.PoolTimeout(f"no free connection within {seconds:g} s"))
