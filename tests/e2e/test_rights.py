"""Data subjects' rights and retention (CP7, CP8), through the CLI against a real gateway."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    gateway_on_fresh_database,
    wagate,
    wait_until,
)
from wagate.fakes.payloads import meta_text


def _wagate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return wagate(*args, env=env, check=True)


def test_a_contact_can_be_exported_and_erased_and_old_data_is_purged(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai) as (gateway, url):
        for text in ("Saya ingin mengurus surat kuasa", "untuk sengketa tanah"):
            assert (
                gateway.post_meta(
                    meta_text(
                        phone_number_id=PHONE_NUMBER_ID,
                        sender=sender,
                        text=text,
                        name="Dewi Lestari",
                    )
                ).status_code
                == 200
            )
        wait_until(
            lambda: (
                gateway.messages_of(sender)
                and all(m["processedAt"] for m in gateway.messages_of(sender))
            ),
            timeout=30,
        )
        other = sender[:-1] + ("1" if sender[-1] == "0" else "0")
        assert (
            gateway.post_meta(
                meta_text(phone_number_id=PHONE_NUMBER_ID, sender=other, text="pesan lama")
            ).status_code
            == 200
        )
        wait_until(
            lambda: gateway.messages_of(other) and gateway.messages_of(other)[0]["processedAt"],
            timeout=30,
        )

        # export: everything held, opened, found by the number in its local form
        exported = json.loads(_wagate(gateway.env, "contacts", "export", "0" + sender[2:]).stdout)
        texts = [m["message"]["content"]["body"] for m in exported["inboundMessages"]]
        assert texts == ["Saya ingin mengurus surat kuasa", "untuk sengketa tanah"]
        assert exported["conversations"][0]["profile"]["name"] == "Dewi Lestari"
        roles = [h["role"] for h in exported["history"]]
        # one or two runs, depending on whether both messages made one burst
        assert roles in (["user", "assistant"], ["user", "assistant"] * 2)
        user_text = " ".join(h["text"] for h in exported["history"] if h["role"] == "user")
        assert "surat kuasa" in user_text and "sengketa tanah" in user_text
        assert exported["outboundMessages"] and exported["accounts"]

        # erase: gone, with an audit entry, and the chain still verifies
        erased = json.loads(_wagate(gateway.env, "contacts", "erase", sender, "--yes").stdout)
        assert erased["conversations"] == 1 and erased["contacts"] == 1
        again = json.loads(_wagate(gateway.env, "contacts", "export", sender).stdout)
        assert again["conversations"] == [] and again["inboundMessages"] == []
        assert gateway.conversation_for(sender) is None

        # retention: content older than RETENTION_DAYS goes; the other contact stays
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE inbound_messages SET received_at = now() - interval '40 days'")
            conn.execute("UPDATE sessions SET last_activity_at = now() - interval '40 days'")
        purged = json.loads(_wagate(gateway.env, "retention").stdout)
        assert purged["inbound_messages"] >= 1 and purged["sessions"] >= 1
        assert gateway.messages_of(other) == []
        assert gateway.conversation_for(other) is not None  # the contact itself stays

        with psycopg.connect(url) as conn:
            actions = {r[0] for r in conn.execute("SELECT action FROM audit_log").fetchall()}
        assert {"contact.exported", "contact.erased", "retention.purged"} <= actions
        assert "intact" in _wagate(gateway.env, "audit", "verify").stdout
