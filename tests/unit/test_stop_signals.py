"""The stop signals of `wagate serve` (runtime.processes.install_stop_signals): before the
server listens a SIGTERM cancels the start itself; once it listens, the same signal asks it
to finish its requests and stop, and cancels nothing."""

from __future__ import annotations

import asyncio
import os
import signal

import uvicorn

from wagate.runtime.processes import install_stop_signals
from wagate.web.server import QuietServer


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError("no request is made")


def _server() -> QuietServer:
    return QuietServer(uvicorn.Config(_app, lifespan="off", log_config=None))


async def _signalled(server: QuietServer, wait: float) -> asyncio.Task[None]:
    """A stand-in for the start (a task that would wait for ever), with the handlers
    installed for it, after a real SIGTERM to this process."""
    started = asyncio.Event()

    async def start() -> None:
        install_stop_signals(server, asyncio.current_task())
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(start())
    await started.wait()
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait([task], timeout=wait)
    return task


async def test_a_stop_before_listening_cancels_the_start() -> None:
    server = _server()
    try:
        task = await _signalled(server, 5)
        assert task.cancelled()
        assert not server.should_exit
    finally:
        _remove_handlers()


async def test_a_stop_while_listening_asks_the_server_to_finish() -> None:
    server = _server()
    server.started = True
    try:
        task = await _signalled(server, 0.3)
        assert not task.done()  # the server finishes its requests; the start is not cut off
        assert server.should_exit
        task.cancel()
    finally:
        _remove_handlers()


def _remove_handlers() -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)
