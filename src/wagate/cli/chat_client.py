"""`wagate chat`: a person plays a WhatsApp user against a sandbox gateway (OB5).

Each line typed is signed and posted to the gateway's real webhook, exactly as Meta would; the
answers are read back from the sandbox's fake Graph API, where the gateway sent them. Nothing
takes a shortcut around the queue, the debounce or the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from wagate.domain.phone import InvalidPhoneNumber, normalise_phone
from wagate.fakes.meta import deliver_webhook
from wagate.fakes.payloads import meta_text
from wagate.runtime.sandbox import SANDBOX_FILE

POLL_SECONDS = 0.3


def _load(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / SANDBOX_FILE
    if not path.exists():
        return None
    details: dict[str, Any] = json.loads(path.read_text())
    return details


async def _print_answers(fake_url: str, number: str, http: httpx.AsyncClient) -> None:
    seen = 0
    while True:
        try:
            sent = (await http.get(f"{fake_url}/_fake/requests", params={"kind": "send"})).json()
        except httpx.HTTPError:
            await asyncio.sleep(1)
            continue
        for request in sent:
            if request["seq"] <= seen:
                continue
            seen = request["seq"]
            body = request.get("body", {})
            if body.get("to") == number:
                text = body.get("text", {}).get("body", "")
                print(f"\r\n[bot] {text}\n> ", end="", flush=True)
        await asyncio.sleep(POLL_SECONDS)


async def run_chat(data_dir: Path, as_number: str, name: str) -> int:
    details = _load(data_dir)
    if details is None:
        print(
            f"No sandbox found in {data_dir}. Start one first with `wagate serve` "
            "(no provider credentials = sandbox mode), in the same directory.",
            file=sys.stderr,
        )
        return 1
    try:
        number = normalise_phone(as_number)
    except InvalidPhoneNumber:
        print(f"--as {as_number!r} is not a phone number", file=sys.stderr)
        return 2
    gateway = f"http://127.0.0.1:{details['gateway_port']}"
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            (await http.get(f"{gateway}/api/health")).raise_for_status()
        except httpx.HTTPError:
            print(
                f"The sandbox gateway at {gateway} does not answer: is `wagate serve` running?",
                file=sys.stderr,
            )
            return 1
        print(f"Chatting as {number} with the sandbox gateway at {gateway}.")
        print("Type a message and press Enter; several quick messages are answered together")
        print("once you pause (the debounce). Ctrl-D or /quit to leave.\n")
        printer = asyncio.create_task(_print_answers(details["fake_url"], number, http))
        try:
            while True:
                line = await asyncio.to_thread(_read_line)
                if line is None or line.strip() == "/quit":
                    break
                if not line.strip():
                    continue
                payload = meta_text(
                    phone_number_id=details["phone_number_id"], sender=number, text=line, name=name
                )
                status, _ = await deliver_webhook(
                    f"{gateway}/webhook/whatsapp", payload, details["app_secret"], client=http
                )
                quiet = details.get("debounce_seconds", 0)
                mark = (
                    f"received; the answer comes after {quiet:g} s without a new message"
                    if status == 200
                    else f"gateway answered HTTP {status}"
                )
                print(f"  ({mark})")
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
    return 0


def _read_line() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None
