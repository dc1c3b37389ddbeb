"""Operator tools and deployment hooks: the accounts CLI, `wagate send`, the context hook, and
contacts keyed by Meta's business-scoped user id."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import psycopg

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    base_env,
    fresh_database,
    gateway_on_fresh_database,
    tag,
    wagate,
    wait_until,
)
from wagate.fakes.payloads import meta_envelope, meta_text, new_wamid


def _wagate(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return wagate(*args, env=env, check=check)


def test_the_accounts_cli_adds_approves_links_imports_and_unlinks(workdir: Path) -> None:
    with fresh_database() as url:
        env = base_env(DATABASE_URL=url, WAGATE_DATA_DIR=str(workdir / "cli"))
        added = json.loads(
            _wagate(
                env,
                "accounts",
                "add",
                "siti",
                "--name",
                "Siti Aminah",
                "--email",
                "siti@example.id",
                "--phone",
                "0812 0000 0002",
            ).stdout
        )
        assert added["approved"] is False and added["phone"] == "6281200000002"
        assert json.loads(_wagate(env, "accounts", "approve", "siti").stdout)["approved"] is True
        linked = json.loads(
            _wagate(env, "accounts", "link", str(added["id"]), "+62 812-0000-0002").stdout
        )
        assert linked["linkedPhone"] == "6281200000002"
        duplicate = _wagate(env, "accounts", "add", "siti", check=False)
        assert duplicate.returncode == 1 and "exists already" in duplicate.stderr

        csv_path = workdir / "accounts.csv"
        csv_path.write_text(
            "username,name,role,email,phone,approved\n"
            "budi,Budi Santoso,lawyer,budi@example.id,081200000001,yes\n"
            "siti,Siti A.,admin,,,no\n"
        )
        assert "added 1, updated 1" in _wagate(env, "accounts", "import", str(csv_path)).stdout
        accounts = {a["username"]: a for a in json.loads(_wagate(env, "accounts", "list").stdout)}
        assert accounts["budi"]["role"] == "lawyer" and accounts["budi"]["approved"] is True
        assert accounts["siti"]["role"] == "admin" and accounts["siti"]["approved"] is False
        assert json.loads(_wagate(env, "accounts", "unlink", "siti").stdout)["linkedPhone"] is None

        # every operator action is in the audit trail
        with psycopg.connect(url) as conn:
            actions = {r[0] for r in conn.execute("SELECT action FROM audit_log").fetchall()}
        assert {
            "account.created",
            "account.approved",
            "account.linked",
            "accounts.imported",
            "account.unlinked",
        } <= actions

        # account PII is not stored as plain columns
        with psycopg.connect(url) as conn:
            columns = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'accounts'"
                ).fetchall()
            }
        assert not {"name", "email"} & columns


def test_wagate_send_queues_a_message_for_the_worker(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    # A number that never wrote is outside the 24-hour window: the message goes as the
    # out-of-window template, with its text as the template's parameter.
    templates = json.dumps(
        [
            {
                "name": "balasan_umum",
                "language": "id",
                "parameters": ["pesan"],
                "purpose": "out_of_window",
            }
        ]
    )
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        WHATSAPP_TEMPLATES=templates,
    ) as (
        gateway,
        _,
    ):
        first = _wagate(gateway.env, "send", "0" + sender[2:], "Dari CLI", "--key", "once")
        result = json.loads(first.stdout)
        assert result["queued"] == 1 and result["target"] == sender
        again = json.loads(_wagate(gateway.env, "send", sender, "Dari CLI", "--key", "once").stdout)
        assert again["queued"] == 0
        sent = wait_until(
            lambda: [r for r in fake_meta.requests("send") if r["body"].get("to") == sender]
        )
        template = sent[0]["body"]["template"]
        assert template["name"] == "balasan_umum"
        # Meta's description requires the language policy; "pesan" is a named parameter.
        assert template["language"] == {"policy": "deterministic", "code": "id"}
        assert template["components"][0]["parameters"] == [
            {"type": "text", "parameter_name": "pesan", "text": "Dari CLI"}
        ]


def test_the_context_hook_adds_account_context_to_the_system_prompt(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    hooks = workdir / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sapa_context.py").write_text(
        textwrap.dedent("""
        async def budget(account_id: int) -> str:
            return f"Kegiatan anggaran akun {account_id}: rapat koordinasi, Rp 1.000.000"
    """)
    )
    with gateway_on_fresh_database(
        workdir, fake_meta, fake_ai, AI_CONTEXT_HOOK="sapa_context:budget", PYTHONPATH=str(hooks)
    ) as (gateway, _):
        assert (
            gateway.post_meta(
                meta_text(
                    phone_number_id=PHONE_NUMBER_ID,
                    sender=sender,
                    text=f"anggaran {tag(sender)}",
                )
            ).status_code
            == 200
        )

        def system_prompt() -> str | None:
            for request in fake_ai.requests("chat"):
                messages: list[dict[str, Any]] = request["body"]["messages"]
                if f"anggaran {tag(sender)}" in messages[-1]["content"]:
                    return str(messages[0]["content"])
            return None

        prompt = wait_until(system_prompt, timeout=20)
        assert "Kegiatan anggaran akun" in prompt and "Rp 1.000.000" in prompt


def test_contacts_are_keyed_by_the_business_scoped_user_id_with_the_phone_as_alias(
    gateway: Gateway, database_url: str, sender: str
) -> None:
    user_id = f"US.{sender}"
    bsuid_only = meta_envelope(
        PHONE_NUMBER_ID,
        {
            "contacts": [{"profile": {"name": "Tanpa Nomor"}, "user_id": user_id}],
            "messages": [
                {
                    "from_user_id": user_id,
                    "id": new_wamid(),
                    "timestamp": "1735689600",
                    "type": "text",
                    "text": {"body": "halo dari BSUID"},
                }
            ],
        },
    )
    assert gateway.post_meta(bsuid_only).status_code == 200
    assert gateway.messages_of(user_id)[0]["sender"]["userId"] == user_id
    both = meta_text(
        phone_number_id=PHONE_NUMBER_ID,
        sender=sender,
        text="sekarang dengan nomor",
        user_id=user_id,
    )
    assert gateway.post_meta(both).status_code == 200

    def contact_ids() -> set[int | None]:
        ids = [gateway.conversation_for(key)["id"] for key in (user_id, sender)]  # type: ignore[index]
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT contact_id FROM conversations WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        return {r[0] for r in rows}

    # both conversations (BSUID-only, then phone + BSUID) belong to one contact
    contact = wait_until(lambda: (ids := contact_ids()) and None not in ids and ids, timeout=20)
    assert len(contact) == 1
