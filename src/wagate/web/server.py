"""uvicorn as the gateway runs it: without its own signal handling, and hardened against slow
and forged clients.

uvicorn re-raises SIGTERM after its shutdown, which kills the process before the worker, the
pools and the embedded database are stopped; the runtime handles signals itself instead.

uvicorn has a keep-alive timeout but no read timeouts: a client that never finishes its
headers, or announces a body and trickles it, holds its connection (and the memory behind it)
for as long as it likes. `GuardedHttpProtocol` closes such connections; `server_options`
trusts X-Forwarded-For only from the proxies the operator names (uvicorn trusts loopback by
default, which would let any local caller pick its own address past FONNTE_ALLOWED_IPS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class QuietServer(uvicorn.Server):
    """uvicorn without its signal handling and without its start-up chatter: the gateway says
    where it listens in its own start banner (`on_started` runs once the socket is bound), and
    the sandbox's built-in fakes on their random ports say nothing at all."""

    def __init__(self, config: uvicorn.Config, *, on_started: Callable[[], None] | None = None):
        super().__init__(config)
        self._on_started = on_started
        _mute_lifecycle_lines()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()

    def _log_started_message(self, listeners: Sequence[socket.SocketType]) -> None:
        """Not "Uvicorn running on …": see the class's doc."""


# uvicorn's lifecycle lines, logged by every server in the process ("Started server process
# [1234]", …). Every server this process runs is a QuietServer, which speaks for itself.
_LIFECYCLE = (
    "Started server process",
    "Finished server process",
    "Waiting for application",
    "Application startup complete",
    "Application shutdown complete",
    "Shutting down",
)


class _LifecycleFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_LIFECYCLE))


def _mute_lifecycle_lines() -> None:
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _LifecycleFilter) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_LifecycleFilter())


def server_options(
    *,
    forwarded_allow_ips: Sequence[str],
    header_timeout: float,
    body_timeout: float,
    max_connections: int,
) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.Config` that carry the hostile-client settings:
    forwarded headers only from the named proxies, read timeouts, a connection cap."""
    trusted = ",".join(forwarded_allow_ips)
    return {
        "http": guarded_protocol(header_timeout=header_timeout, body_timeout=body_timeout),
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
        "limit_concurrency": max_connections,
    }


def guarded_protocol(*, header_timeout: float, body_timeout: float) -> type[HttpToolsProtocol]:
    """An httptools protocol class whose connections are closed when the request head is not
    complete within `header_timeout`, or its body within `body_timeout` of the head."""

    class Guarded(GuardedHttpProtocol):
        header_seconds = header_timeout
        body_seconds = body_timeout

    return Guarded


class GuardedHttpProtocol(HttpToolsProtocol):
    """Read deadlines: the request head within `header_seconds` of its first bytes (or of the
    connection), its body within `body_seconds` of the head.

    A deadline is a number, moved at each step of every request; one timer per connection
    checks it when it fires and, if the deadline has moved later meanwhile, sleeps again until
    then. Arming a timer per step (two `call_later` and two cancels per request) cost more
    than the check (issue 18: the webhook path is paid per request).
    """

    header_seconds: float = 10.0
    body_seconds: float = 30.0
    _deadline: float | None = None  # loop time; None: not reading a request
    # The timer's own due time, kept here: uvloop hands back a plain Handle (no `when()`) for
    # delays under half a millisecond.
    _timer: asyncio.Handle | None = None
    _timer_due: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_seconds)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None:
            idle = self.cycle is None or self.cycle.response_complete
            if idle:
                # The first bytes of a next request on a kept-alive connection.
                self._arm(self.header_seconds)
        super().data_received(data)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_seconds)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._deadline = deadline = self.loop.time() + seconds
        if self._timer is None:
            self._start_timer(deadline)
        elif self._timer_due > deadline:  # an earlier deadline than the timer's
            self._timer.cancel()
            self._start_timer(deadline)

    def _start_timer(self, due: float) -> None:
        self._timer_due = due
        self._timer = self.loop.call_at(due, self._check_deadline)

    def _check_deadline(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return  # between requests: the next request's first bytes arm it again
        now = self.loop.time()
        if now < deadline:
            # Sleep again, at least a millisecond: uvloop's clock moves in whole milliseconds,
            # so a timer can fire a float step before its deadline and would otherwise spin.
            self._start_timer(max(deadline, now + 0.001))
            return
        self._deadline = None
        if not self.transport.is_closing():
            # The application (if it started) sees a disconnect and lets go of the partial body.
            self.transport.close()
