"""Every operator action through the command line and through the API finds the same audit
record: the same action, subject and details, only the caller (`operator:cli` or
`operator:api`) differs. Each door drives its own gateway on its own fresh database through the
same script, so ids and counts line up."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.e2e.harness import (
    ACCESS_TOKEN,
    FakePeer,
    Gateway,
    gateway_on_fresh_database,
    wagate,
    wait_until,
)

TEMPLATES = json.dumps(
    [
        {
            "name": "balasan_umum",
            "language": "id",
            "parameters": ["pesan"],
            "purpose": "out_of_window",
        },
        {"name": "pengingat_sidang", "language": "id", "parameters": ["nama", "tanggal"]},
    ]
)
CSV = "username,name,role,email,phone,approved\nbudi,Budi,lawyer,,081200000009,yes\nsiti,,,,,no\n"


def _sent_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [r for r in fake_meta.requests("send") if r["body"].get("to") == number and "wamid" in r]


@dataclass(frozen=True, slots=True, kw_only=True)
class Door:
    """One way in: `call(cli_args, (method, path, body))` does the action through it."""

    name: str
    gateway: Gateway
    workdir: Path

    def call(self, cli: list[str], api: tuple[str, str, Any]) -> Any:
        if self.name == "cli":
            done = wagate(*cli, env=self.gateway.env)
            assert done.returncode == 0, (cli, done.stderr)
            return done.stdout
        method, path, body = api
        headers = {"Authorization": "Bearer e2e-api-token"}
        if isinstance(body, str):
            response = self.gateway.http.request(
                method, path, content=body, headers=headers | {"Content-Type": "text/csv"}
            )
        else:
            response = self.gateway.http.request(method, path, json=body, headers=headers)
        assert response.status_code < 300, (path, response.text)
        return response.text


def drive(door: Door, fake_meta: FakePeer, url: str, numbers: dict[str, str]) -> None:
    """The whole script of operator actions, through one door."""
    coded, written = numbers["coded"], numbers["written"]
    door.call(
        ["accounts", "add", "siti", "--phone", "0812 0000 0002"],
        ("POST", "/api/accounts", {"username": "siti", "phone": "0812 0000 0002"}),
    )
    door.call(["accounts", "approve", "siti"], ("POST", "/api/accounts/siti/approve", None))
    door.call(["accounts", "approve", "1", "--revoke"], ("POST", "/api/accounts/1/revoke", None))
    door.call(
        ["accounts", "link", "siti", "081200000002"],
        ("POST", "/api/accounts/siti/link-directly", {"phone": "081200000002"}),
    )
    door.call(["accounts", "unlink", "siti"], ("POST", "/api/accounts/siti/unlink", None))

    # A code goes to the number (as the out-of-window template: it never wrote); it is read
    # off the fake, as its owner would read it off the phone.
    door.call(
        ["accounts", "send-code", "siti", coded],
        ("POST", "/api/accounts/siti/link", {"phone": coded}),
    )
    sent = wait_until(lambda: _sent_to(fake_meta, coded), timeout=30)
    text = sent[0]["body"]["template"]["components"][0]["parameters"][0]["text"]
    code = re.search(r"\b\d{6}\b", text).group()  # type: ignore[union-attr]
    door.call(
        ["accounts", "verify", "siti", code],
        ("POST", "/api/accounts/siti/verify", {"code": code}),
    )
    csv_path = door.workdir / f"accounts-{door.name}.csv"
    csv_path.write_text(CSV)
    door.call(["accounts", "import", str(csv_path)], ("POST", "/api/accounts/import", CSV))

    door.call(
        ["send", written, "Berkas siap", "--key", "once"],
        ("POST", "/api/whatsapp/send", {"target": written, "message": "Berkas siap"}),
    )
    door.call(
        ["send-template", written, "pengingat_sidang", "Budi", "Senin"],
        (
            "POST",
            "/api/whatsapp/send-template",
            {"target": written, "template": "pengingat_sidang", "parameters": ["Budi", "Senin"]},
        ),
    )
    wait_until(lambda: len(_sent_to(fake_meta, written)) == 2, timeout=30)

    # A delivered message made a dead letter by hand, replayed; then all (none are left).
    with psycopg.connect(url, autocommit=True) as conn:
        [(dead,)] = conn.execute(
            "UPDATE outbound_messages SET status = 'failed' WHERE id = "
            "(SELECT max(id) FROM outbound_messages WHERE kind = 'operator') RETURNING id"
        ).fetchall()
    door.call(
        ["dead-letters", "replay", str(dead)], ("POST", f"/api/dead-letters/{dead}/replay", None)
    )
    wait_until(lambda: len(_sent_to(fake_meta, written)) == 3, timeout=30)
    door.call(["dead-letters", "replay", "--all"], ("POST", "/api/dead-letters/replay", None))

    # Take-over: the written number's conversation taken, replied in as a human, released.
    with psycopg.connect(url) as conn:
        [(cid,)] = conn.execute(
            "SELECT max(conversation_id) FROM outbound_messages WHERE kind = 'operator'"
        ).fetchall()
    door.call(["conversations", "take", str(cid)], ("POST", f"/api/conversations/{cid}/take", None))
    door.call(
        ["conversations", "reply", str(cid), "--text", "Kami hubungi Anda besok."],
        ("POST", f"/api/conversations/{cid}/reply", {"text": "Kami hubungi Anda besok."}),
    )
    wait_until(lambda: len(_sent_to(fake_meta, written)) == 4, timeout=30)
    door.call(
        ["conversations", "release", str(cid)], ("POST", f"/api/conversations/{cid}/release", None)
    )

    door.call(
        ["tenants", "set-token", "meta", "--token", ACCESS_TOKEN],
        ("PUT", "/api/channels/meta/token", {"token": ACCESS_TOKEN}),
    )
    door.call(["contacts", "export", written], ("POST", "/api/contacts/export", {"phone": written}))
    door.call(
        ["contacts", "erase", written, "--yes"],
        ("POST", "/api/contacts/erase", {"phone": written}),
    )
    door.call(["keys", "rotate", "--no-reseal"], ("POST", "/api/keys/rotate", None))
    time.sleep(1.5)  # running processes follow the key file within a second
    door.call(["keys", "reseal"], ("POST", "/api/keys/reseal", None))


def operator_records(url: str) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT action, actor, subject, details FROM audit_log "
            "WHERE actor LIKE 'operator:%' ORDER BY seq"
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_every_operator_action_is_recorded_alike_through_the_cli_and_the_api(
    workdir: Path, fake_meta: FakePeer
) -> None:
    found: dict[str, list[tuple[str, str, str | None, dict[str, Any]]]] = {}
    for name, suffix in (("cli", "1"), ("api", "2")):
        numbers = {"coded": f"6281377{suffix}0001", "written": f"6281377{suffix}0002"}
        with gateway_on_fresh_database(workdir, fake_meta, WHATSAPP_TEMPLATES=TEMPLATES) as (
            gateway,
            url,
        ):
            drive(Door(name=name, gateway=gateway, workdir=workdir), fake_meta, url, numbers)
            found[name] = operator_records(url)
            # The audit API reads the same trail, and the chain holds.
            assert gateway.api("/api/audit/verify")["ok"] is True
            listed = gateway.api("/api/audit", limit=1000)["items"]
            assert [e["action"] for e in listed if e["actor"].startswith("operator:")] == [
                r[0] for r in found[name]
            ]

    actions = [r[0] for r in found["cli"]]
    assert actions == [
        "account.created",
        "account.approved",
        "account.revoked",
        "account.linked",
        "account.unlinked",
        "account.link_code_sent",
        "account.link_verified",
        "accounts.imported",
        "operator.send",
        "operator.send_template",
        "dead_letter.replayed",
        "dead_letter.replayed",
        "conversation.taken",
        "conversation.replied",
        "conversation.released",
        "credentials.replaced",
        "contact.exported",
        "contact.erased",
        "keys.rotated",
        "keys.resealed",
    ]
    assert {r[1] for r in found["cli"]} == {"operator:cli"}
    assert {r[1] for r in found["api"]} == {"operator:api"}
    same_record = [(r[0], r[2], r[3]) for r in found["cli"]]
    assert same_record == [(r[0], r[2], r[3]) for r in found["api"]]
    assert dict(zip(actions, [r[3] for r in found["cli"]], strict=True))[
        "account.link_verified"
    ] == {"result": "ok"}
