"""Run an ASGI app (a fake provider, or a small echo app) under uvicorn on loopback, so clients
are exercised over real HTTP: real sockets, real timeouts, real connection errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
import uvicorn

STARTUP_SECONDS = 10.0


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields the base URL, stops the server after."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # port 0: the kernel picks a free port
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    # Handing uvicorn the bound socket avoids a race for the port between probe and bind.
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(STARTUP_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # surfaces why the server could not start
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


Serve = Callable[[Any], AbstractAsyncContextManager[str]]


@pytest.fixture(scope="session")
def serve_app() -> Serve:
    """`async with serve_app(app) as base_url: ...` — usable from fixtures of any scope."""
    return serve


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound once to pick it, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
