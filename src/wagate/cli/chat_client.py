"""`wagate chat`: a person plays a WhatsApp user against a sandbox gateway (OB5).

Each line typed is signed and posted to the gateway's real webhook, exactly as Meta would; the
answers are read back from the sandbox's fake Graph API, where the gateway sent them. Nothing
takes a shortcut around the queue, the debounce or the worker.

The gateway may go away while someone chats (stopped, restarted, crashed): the client says so
in one line, waits for it, and carries on with the restarted sandbox's details (its
`sandbox.json` gets a new app secret and a new fake on every start). A line typed meanwhile is
sent once the gateway is back, with the same message id, so it is never stored twice.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import httpx

from wagate.domain.phone import InvalidPhoneNumber, normalise_phone
from wagate.domain.whatsapp_text import for_terminal
from wagate.fakes.meta import deliver_webhook
from wagate.fakes.payloads import meta_text
from wagate.runtime.sandbox_file import read_sandbox_file

POLL_SECONDS = 0.3
RETRY_SECONDS = 1.0
PROMPT = "> "


class SandboxLink:
    """The way to the sandbox gateway and its fake Graph API, re-read from `sandbox.json`
    whenever the gateway comes back. Says once that it is gone and once that it is back."""

    def __init__(self, data_dir: Path, details: dict[str, Any], out: TextIO) -> None:
        self._data_dir = data_dir
        self.details = details
        self.out = out
        self.down = False
        # Bumped when the details change: a restarted sandbox's fake counts its sends from 1.
        self.generation = 0

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.details['gateway_port']}"

    def lost(self) -> None:
        if not self.down:
            self.down = True
            self._say(
                f"(the gateway at {self.gateway} does not answer; waiting for it to come back, "
                "Ctrl-C to leave)"
            )

    async def wait_until_back(self, http: httpx.AsyncClient) -> None:
        while True:
            fresh = read_sandbox_file(self._data_dir)
            if fresh is not None and await _healthy(http, fresh):
                if fresh != self.details:
                    self.details = fresh
                    self.generation += 1
                if self.down:
                    self.down = False
                    self._say(f"(connected again to {self.gateway})")
                return
            await asyncio.sleep(RETRY_SECONDS)

    def refresh(self) -> bool:
        """Re-read the details (a restarted gateway signs with a new secret); True if new."""
        fresh = read_sandbox_file(self._data_dir)
        if fresh is None or fresh == self.details:
            return False
        self.details = fresh
        self.generation += 1
        return True

    def _say(self, line: str) -> None:
        print(f"\r{line}\n{PROMPT}", end="", file=self.out, flush=True)


async def _healthy(http: httpx.AsyncClient, details: dict[str, Any]) -> bool:
    try:
        url = f"http://127.0.0.1:{details['gateway_port']}/api/health"
        return (await http.get(url, timeout=2)).status_code == 200
    except (httpx.HTTPError, KeyError):
        return False


def styled_output(out: TextIO) -> bool:
    """WhatsApp's bold and italics as terminal styles: on a terminal without NO_COLOR."""
    try:
        return out.isatty() and not os.environ.get("NO_COLOR")
    except (AttributeError, ValueError):
        return False


async def _print_answers(link: SandboxLink, number: str, http: httpx.AsyncClient) -> None:
    # None: what the fake holds from before this chat began is not shown again. A restarted
    # sandbox has a new fake, whose every send is new.
    seen: int | None = None
    generation = link.generation
    styled = styled_output(link.out)
    while True:
        if link.generation != generation:
            seen, generation = 0, link.generation
        try:
            response = await http.get(
                f"{link.details['fake_url']}/_fake/requests", params={"kind": "send"}
            )
            sent = response.json()
        except (httpx.HTTPError, ValueError):
            link.lost()
            await link.wait_until_back(http)
            continue
        if seen is None:
            seen = max((int(request["seq"]) for request in sent), default=0)
        for request in sent:
            if request["seq"] <= seen:
                continue
            seen = request["seq"]
            body = request.get("body", {})
            if body.get("to") == number:
                text = for_terminal(body.get("text", {}).get("body", ""), styled=styled)
                print(f"\r\n[bot] {text}\n{PROMPT}", end="", file=link.out, flush=True)
        await asyncio.sleep(POLL_SECONDS)


async def _send(
    link: SandboxLink, payload: dict[str, Any], http: httpx.AsyncClient
) -> tuple[int, str]:
    """Post until the gateway takes it: through an outage and a restart (new app secret)."""
    while True:
        try:
            status, text = await deliver_webhook(
                f"{link.gateway}/webhook/whatsapp", payload, link.details["app_secret"], client=http
            )
        except httpx.HTTPError:
            link.lost()
            await link.wait_until_back(http)
            continue
        if status in (401, 403) and link.refresh():
            continue  # signed with the secret of a gateway that has since restarted
        return status, text


async def run_chat(
    data_dir: Path,
    as_number: str,
    name: str,
    *,
    lines: asyncio.Queue[str | None] | None = None,
    out: TextIO | None = None,
) -> int:
    """Chat until end of input or `/quit`. `lines` and `out` stand in for the terminal in
    tests (a None in `lines` is end of input)."""
    out = out or sys.stdout
    details = read_sandbox_file(data_dir)
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
    link = SandboxLink(data_dir, details, out)
    async with httpx.AsyncClient(timeout=10) as http:
        if not await _healthy(http, details):
            print(
                f"The sandbox gateway at {link.gateway} does not answer: is `wagate serve` "
                "running?",
                file=sys.stderr,
            )
            return 1
        print(f"Chatting as {number} with the sandbox gateway at {link.gateway}.", file=out)
        print(
            "Type a message and press Enter; several quick messages are answered together", file=out
        )
        print("once you pause (the debounce). Ctrl-D or /quit to leave.\n", file=out)
        if lines is None:
            lines = _terminal_lines(asyncio.get_running_loop())
        printer = asyncio.create_task(_print_answers(link, number, http))
        try:
            await _converse(link, number, name, lines, http)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
    return 0


async def _converse(
    link: SandboxLink,
    number: str,
    name: str,
    lines: asyncio.Queue[str | None],
    http: httpx.AsyncClient,
) -> None:
    print(PROMPT, end="", file=link.out, flush=True)
    while True:
        line = await lines.get()
        if line is None or line.strip() == "/quit":
            return
        if not line.strip():
            print(PROMPT, end="", file=link.out, flush=True)
            continue
        # Built once: a retry after an outage carries the same message id (stored once).
        payload = meta_text(
            phone_number_id=link.details["phone_number_id"], sender=number, text=line, name=name
        )
        status, _ = await _send(link, payload, http)
        quiet = link.details.get("debounce_seconds", 0)
        mark = (
            f"received; the answer comes after {quiet:g} s without a new message"
            if status == 200
            else f"gateway answered HTTP {status}"
        )
        print(f"  ({mark})\n{PROMPT}", end="", file=link.out, flush=True)


def _terminal_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines typed, read by a daemon thread, so Ctrl-C never waits for a blocked read.

    The thread reads the file descriptor itself (`os.read`), not `sys.stdin`: a daemon thread
    still blocked inside a buffered stream's read when the interpreter exits makes CPython
    abort ("could not acquire lock for <stdin> at interpreter shutdown")."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        fd = sys.stdin.fileno()
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                loop.call_soon_threadsafe(queue.put_nowait, line.removesuffix("\r"))
            if not chunk:
                if pending:
                    loop.call_soon_threadsafe(queue.put_nowait, pending)
                loop.call_soon_threadsafe(queue.put_nowait, None)
                return

    threading.Thread(target=read, name="wagate-chat-input", daemon=True).start()
    return queue
