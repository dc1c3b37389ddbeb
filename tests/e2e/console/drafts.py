"""Helpers of the console's browser tests that need WhatsApp traffic: a person writes, a
draft waits for review, what the fake Graph API was asked to send to a number."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, tag
from wagate.fakes.payloads import meta_text


def say(gateway: Gateway, sender: str, text: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
    assert gateway.post_meta(payload).status_code == 200


def texts_to(fake_meta: FakePeer, number: str) -> list[str]:
    """The texts the gateway had accepted for `number` (a send the fake answered with a
    wamid), in order."""
    return [
        r["body"]["text"]["body"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number and r["body"].get("type") == "text" and "wamid" in r
    ]


async def eventually(predicate: Callable[[], Any], *, timeout: float = 30.0) -> Any:
    """Poll without blocking the event loop (the browser's events keep arriving)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout}s; last value {value!r}")


def pending_draft(gateway: Gateway, sender: str) -> dict[str, Any] | None:
    conversation = gateway.conversation_for(sender)
    if conversation is None:
        return None
    items = gateway.api("/api/reviews", status="pending")["items"]
    return next((d for d in items if d["conversation"] == conversation["id"]), None)


async def yellow_draft(gateway: Gateway, sender: str) -> dict[str, Any]:
    """A yellow question from `sender` (see tests/plugins/zones.py: "kasus"), and its draft."""
    say(gateway, sender, f"kasus cerai saya {tag(sender)}, bagaimana?")
    draft: dict[str, Any] = await eventually(lambda: pending_draft(gateway, sender))
    return draft
