"""uvicorn without its own signal handling.

uvicorn re-raises SIGTERM after its shutdown, which kills the process before the worker, the
pools and the embedded database are stopped; the runtime handles signals itself instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn


class QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True
