"""Encryption at rest (CP2): the database holds no plaintext message or phone number."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    gateway_on_fresh_database,
    wait_until,
)
from wagate.fakes.payloads import fonnte_text, meta_text


def _dump(url: str) -> str:
    pg_dump = shutil.which("pg_dump") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None
    )
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    return subprocess.run(
        [str(pg_dump), "--data-only", "--inserts", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def test_a_database_dump_contains_no_message_text_phone_number_or_name(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    secret_text = "Rahasia perkara cerai Budiman nomor 777"
    name = "Kartika Sembiring"
    local = "0" + sender[2:]
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai) as (gateway, url):
        assert (
            gateway.post_meta(
                meta_text(
                    phone_number_id=PHONE_NUMBER_ID, sender=sender, text=secret_text, name=name
                )
            ).status_code
            == 200
        )
        fields = fonnte_text(
            device="6282200000000", sender=local, text=secret_text, inbox_id=424242, name=name
        )
        assert gateway.post_fonnte(fields).status_code == 200
        assert (
            gateway.api_post(
                "/api/whatsapp/send", {"target": sender, "message": secret_text}
            ).status_code
            == 202
        )
        wait_until(
            lambda: (
                len([r for r in fake_meta.requests("send") if r["body"].get("to") == sender]) >= 2
            ),
            timeout=30,
        )
        # the operator sees everything, opened
        assert gateway.messages_of(sender)[0]["content"]["body"] == secret_text
        assert gateway.conversation_for(sender)["contact"]["name"] == name  # type: ignore[index]
        dump = _dump(url)
    assert "inbound_messages" in dump and "outbound_messages" in dump
    for plaintext in (secret_text, "Rahasia", name, sender, sender[2:], f"whatsapp_{sender}"):
        assert plaintext not in dump, plaintext
