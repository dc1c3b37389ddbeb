"""The sandbox's console parts (issue 15, item 3): the stand-in WhatsApp user's answers from
the fake Graph API, the first admin created once (and only when there is no user), and the
side panel's view of a run's insights. The start banner that shows the admin's sign-in is
tested in test_start_banner."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

from tests.unit.operator_fakes import CHEAP_PASSWORDS, FakeAuditLog
from tests.unit.test_operator_users import Clock
from wagate.fakes.meta import FakeGraphApi
from wagate.pipeline.operator import CLI
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.users import Users
from wagate.runtime.sandbox import Sandbox, SandboxChat, loopback, sent_text
from wagate.testing.users import MemoryUsers
from wagate.web.console.sandbox import checked_number, latest


def users() -> tuple[Users, FakeAuditLog]:
    audit = FakeAuditLog()
    desk = Users(
        store=MemoryUsers(),
        passwords=CHEAP_PASSWORDS,
        recorder=Recorder(audit=audit, clock=Clock()),
    )
    return desk, audit


def chat(graph: FakeGraphApi) -> SandboxChat:
    return SandboxChat(
        graph=graph,
        webhook_url="http://127.0.0.1:9/webhook/whatsapp",
        app_secret="s",
        phone_number_id="1",
    )


def test_answers_are_the_sends_to_that_number_after_the_mark() -> None:
    graph = FakeGraphApi()
    record = graph.recorder.record
    record("send", body={"to": "6281", "type": "text", "text": {"body": "satu"}})
    record("read", body={"status": "read", "message_id": "wamid.x"})
    record("send", body={"to": "6282", "type": "text", "text": {"body": "bukan untukmu"}})
    record(
        "send", body={"to": "6281", "type": "interactive", "interactive": {"body": {"text": "dua"}}}
    )
    found = asyncio.run(chat(graph).answers("6281", after=0))
    assert [(a["seq"], a["text"], a["kind"]) for a in found] == [
        (1, "satu", "text"),
        (4, "dua", "interactive"),
    ]
    assert all(isinstance(a["at"], float) for a in found)
    assert [a["seq"] for a in asyncio.run(chat(graph).answers("6281", after=1))] == [4]


def test_a_send_reads_as_its_text_or_its_kind() -> None:
    assert sent_text({"type": "text", "text": {"body": "halo"}}) == "halo"
    assert (
        sent_text({"type": "template", "template": {"name": "pengingat"}}) == "[template pengingat]"
    )
    assert sent_text({"type": "image", "image": {"link": "x"}}) == "[image]"


def test_the_first_admin_is_made_once_and_kept_private(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    sandbox.details = {"app_secret": "s"}
    desk, audit = users()
    made = asyncio.run(sandbox.first_admin(desk, console_url="http://127.0.0.1:8080/console"))
    assert made is not None and made[0] == "admin" and len(made[1]) >= 16
    kept = json.loads(sandbox.path.read_text())
    assert kept["console"] == {
        "url": "http://127.0.0.1:8080/console",
        "user": "admin",
        "password": made[1],
    }
    assert stat.S_IMODE(sandbox.path.stat().st_mode) == 0o600
    assert asyncio.run(desk.sign_in("admin", made[1], via="console")).user is not None
    assert [e.actor for e in audit.events if e.action == "user.added"] == ["operator:sandbox"]
    # A second start finds a user: nobody new, no password printed again.
    assert asyncio.run(sandbox.first_admin(desk, console_url="x")) is None


def test_an_operator_user_already_there_means_no_admin_is_made(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    desk, _ = users()
    asyncio.run(desk.add("budi", role="viewer", password="kopi tubruk pagi", by=CLI))
    assert asyncio.run(sandbox.first_admin(desk, console_url="x")) is None
    assert not sandbox.path.exists()


def test_a_server_on_every_address_is_reached_on_loopback() -> None:
    assert loopback("0.0.0.0") == "127.0.0.1"
    assert loopback("::") == "127.0.0.1"
    assert loopback("192.168.1.5") == "192.168.1.5"
    assert loopback("::1") == "[::1]"


def test_the_panel_shows_the_newest_run_with_every_field() -> None:
    runs = [
        {"at": "2026-12-06T01:00:00+00:00", "zone": "red", "maskedQuestion": "lama"},
        {
            "at": "2026-12-06T02:00:00+00:00",
            "outcome": "answered",
            "zone": "yellow",
            "rules": ["kdrt"],
            "maskedQuestion": "suami saya [NAMA_1] memukul",
            "sources": [{"document": 3, "title": "KDRT", "section": "Lapor"}, {"documentId": 4}],
            "review": "held",
            "knowledge": None,
        },
    ]
    shown = latest(runs)
    assert shown is not None
    assert shown["zone"] == "yellow" and shown["zone_class"] == "yellow"
    assert shown["masked_question"] == "suami saya [NAMA_1] memukul"
    assert shown["sources"] == [
        {"title": "KDRT", "section": "Lapor"},
        {"title": "4", "section": ""},
    ]
    assert (
        shown["review"] == "held" and shown["model"] == "" and shown["at"] == "2026-12-06 02:00:00"
    )
    assert latest([]) is None
    odd = latest([{"zone": "purple", "rules": None, "knowledge": "declined"}])
    assert odd is not None and odd["zone_class"] == "" and odd["declined"] and odd["rules"] == []


def test_only_a_person_s_number_is_taken() -> None:
    assert checked_number("0812-3456-7890") == "6281234567890"
    assert checked_number("bukan nomor") is None
    assert checked_number("120363000000000000@g.us") is None
