"""What a fake peer was asked, and the failures it has been told to give."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(kw_only=True)
class PlannedFailure:
    """Answer the next `times` matching requests with this failure (or after this delay)."""

    kind: str  # which requests: "send", "read", or "any"
    http_status: int = 400
    body: dict[str, Any] = field(default_factory=dict)
    delay_seconds: float = 0.0
    times: int = 1


@dataclass
class Recorder:
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: deque[PlannedFailure] = field(default_factory=deque)
    counter: int = 0

    def record(self, kind: str, **details: Any) -> dict[str, Any]:
        self.counter += 1
        entry = {"seq": self.counter, "kind": kind, "at": time.time(), **details}
        self.requests.append(entry)
        return entry

    def take_failure(self, kind: str) -> PlannedFailure | None:
        for failure in self.failures:
            if failure.kind in (kind, "any"):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    def listing(self, kind: str | None) -> list[dict[str, Any]]:
        return [r for r in self.requests if kind is None or r["kind"] == kind]

    def reset(self) -> None:
        self.requests.clear()
        self.failures.clear()


async def apply_delay(failure: PlannedFailure | None) -> None:
    if failure is not None and failure.delay_seconds > 0:
        await asyncio.sleep(failure.delay_seconds)
