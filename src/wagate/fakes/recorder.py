"""What a fake peer was asked, and the failures it has been told to give."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
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

    def take_failure(self, kind: str, *, exact: bool = False) -> PlannedFailure | None:
        """The next failure planned for `kind` (or for "any" kind, unless `exact`)."""
        for failure in self.failures:
            if failure.kind == kind or (failure.kind == "any" and not exact):
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


@dataclass(kw_only=True)
class Chaos:
    """Faults drawn at random from named rates, reproducibly.

    The draw for a request depends only on the seed, the request's key (for a send: the
    idempotency key the client passes along) and how many requests with that key came before.
    It does not depend on how concurrent requests interleave, so a seed replays the same faults
    for the same messages however the workers race each other.
    """

    seed: int
    rates: dict[str, float]
    kind: str = "send"  # which requests: "send", "read", or "any"
    timeout_seconds: float = 3.0  # how long a "timeout" fault holds the request
    latency_seconds: float = 0.0  # added to every matching request: a peer that takes time
    draws: Counter[str] = field(default_factory=Counter)
    drawn: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        total = sum(self.rates.values())
        if any(rate < 0 for rate in self.rates.values()) or total > 1.0 + 1e-9:
            raise ValueError(f"rates must be non-negative and sum to at most 1 (got {total})")

    def matches(self, kind: str) -> bool:
        return self.kind in (kind, "any")

    def draw(self, key: str) -> str | None:
        """The fault for this request, or None to answer normally."""
        nth = self.draws[key]
        self.draws[key] += 1
        roll = random.Random(f"{self.seed}:{key}:{nth}").random()
        edge = 0.0
        for name in sorted(self.rates):  # sorted: the dict's order must not change the draw
            edge += self.rates[name]
            if roll < edge:
                self.drawn[name] += 1
                return name
        self.drawn["none"] += 1
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rates": self.rates,
            "kind": self.kind,
            "timeout_seconds": self.timeout_seconds,
            "latency_seconds": self.latency_seconds,
            "drawn": dict(self.drawn),
        }
