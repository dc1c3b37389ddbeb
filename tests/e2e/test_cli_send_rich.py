"""`wagate send` with its rich options (issue 16, item 3), the real command line against the
session's running gateway and the fake Graph API: a document, an image, reply buttons and a
list each reach Meta exactly once, as its API expects them; a broken option is refused before
anything is queued (exit 2, the rule named), and a number whose 24-hour window is closed is
refused (exit 1), never turned into a template."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, wagate, wait_until
from wagate.fakes.payloads import meta_text

LINK = "https://berkas.contoh.id/surat-kuasa.pdf"
PHOTO = "https://berkas.contoh.id/denah-lokasi.jpg"


def _sends(fake_meta: FakePeer, number: str, kind: str) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number and r["body"].get("type") == kind
    ]


def _open_window(gateway: Gateway, fake_meta: FakePeer, number: str) -> None:
    wrote = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=number, text="halo")
    assert gateway.post_meta(wrote).status_code == 200
    wait_until(lambda: _sends(fake_meta, number, "text"), timeout=30)


def _send(gateway: Gateway, *args: str) -> Any:
    return wagate("send", *args, env=gateway.env)


def _queued(gateway: Gateway, *args: str) -> dict[str, Any]:
    done = _send(gateway, *args)
    assert done.returncode == 0, done.stderr
    receipt: dict[str, Any] = json.loads(done.stdout)
    assert receipt["provider"] == "meta" and receipt["target"]
    return receipt


def test_a_document_and_an_image_from_the_command_line_reach_meta_once_each(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    _open_window(gateway, fake_meta, sender)
    receipts = [
        _queued(
            gateway,
            sender,
            "Mohon ditandatangani",
            "--document",
            LINK,
            "--filename",
            "surat-kuasa.pdf",
            "--provider",
            "meta",
            "--key",
            f"cli-doc-{sender}",
        )
        for _ in range(2)  # the same --key twice: queued once, sent once
    ]
    assert [r["queued"] for r in receipts] == [1, 0], receipts
    assert receipts[0]["keys"] == receipts[1]["keys"]
    _queued(gateway, sender, "--image", PHOTO)  # no caption: the image alone
    document = wait_until(lambda: _sends(fake_meta, sender, "document"), timeout=30)
    image = wait_until(lambda: _sends(fake_meta, sender, "image"), timeout=30)
    time.sleep(1)  # a duplicate would have arrived by now
    assert len(_sends(fake_meta, sender, "document")) == 1
    assert len(_sends(fake_meta, sender, "image")) == 1
    assert document[0]["document"] == {
        "link": LINK,
        "caption": "Mohon ditandatangani",
        "filename": "surat-kuasa.pdf",
    }
    assert image[0]["image"] == {"link": PHOTO}
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    audit = gateway.api("/api/audit", limit=1000)["items"]
    sent = [
        e
        for e in audit
        if e["action"] == "operator.send" and e["subject"] == f"conversation:{conversation['id']}"
    ]
    # Each command audited as the command line, the rich part named, never its link.
    assert [(e["actor"], e["details"]["rich"]) for e in sent] == [("operator:cli", "media")] * 3
    assert sorted(e["details"]["queued"] for e in sent) == [0, 1, 1]
    assert all(LINK not in json.dumps(e) for e in sent)


def test_reply_buttons_and_a_list_from_the_command_line(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    _open_window(gateway, fake_meta, sender)
    _queued(
        gateway,
        sender,
        "Apakah jadwal sidang 12 Desember cocok?",
        "--button",
        "Ya, cocok",
        "--button",
        "Minta ganti",
    )
    _queued(
        gateway,
        sender,
        "Pilih jenis perkara Anda",
        "--row",
        "Tanah",
        "--row",
        "Waris",
        "--row",
        "Perceraian",
        "--list-button",
        "Pilih",
    )

    def kinds() -> dict[str, dict[str, Any]] | None:
        found = {
            b["interactive"]["type"]: b["interactive"]
            for b in _sends(fake_meta, sender, "interactive")
        }
        return found if {"button", "list"} <= set(found) else None

    found = wait_until(kinds, timeout=30)
    time.sleep(1)
    assert len(_sends(fake_meta, sender, "interactive")) == 2
    buttons = found["button"]
    assert buttons["body"] == {"text": "Apakah jadwal sidang 12 Desember cocok?"}
    assert [b["reply"] for b in buttons["action"]["buttons"]] == [
        {"id": "button-1", "title": "Ya, cocok"},
        {"id": "button-2", "title": "Minta ganti"},
    ]
    listed = found["list"]
    assert listed["body"] == {"text": "Pilih jenis perkara Anda"}
    assert listed["action"]["button"] == "Pilih"
    [section] = listed["action"]["sections"]
    assert [(r["id"], r["title"]) for r in section["rows"]] == [
        ("row-1", "Tanah"),
        ("row-2", "Waris"),
        ("row-3", "Perceraian"),
    ]


def test_broken_options_are_refused_before_anything_is_queued(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    _open_window(gateway, fake_meta, sender)
    before = len(fake_meta.requests("send"))
    refusals = [
        (("--document", "http://berkas.contoh.id/a.pdf"), "https"),
        (("--document", LINK, "--image", PHOTO), "send one thing"),
        (("tanya", "--document", LINK, "--button", "Ya"), "send one thing"),
        (("--button", "Ya"), "interactive body is required"),
        (
            ("Pilih", "--button", "A", "--button", "B", "--button", "C", "--button", "D"),
            "at most 3",
        ),
        (("Pilih", "--row", "Tanah"), "list button is required"),
        (("Pilih", "--button", "x" * 21), "longer than 20"),
        ((), "give a MESSAGE"),
    ]
    for args, reason in refusals:
        done = _send(gateway, sender, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert reason in " ".join(done.stderr.split()), (args, done.stderr)
    time.sleep(1)
    assert len(fake_meta.requests("send")) == before  # nothing was queued, nothing went out


def test_outside_the_window_a_rich_message_is_refused_not_templated(
    gateway: Gateway, fake_meta: FakePeer
) -> None:
    stranger = "62814" + "".join(random.choices("0123456789", k=8))
    done = _send(gateway, stranger, "Mohon dibaca", "--document", LINK, "--provider", "meta")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "template" in done.stderr
    time.sleep(1)
    assert [r for r in fake_meta.requests("send") if r["body"].get("to") == stranger] == []
