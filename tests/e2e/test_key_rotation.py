"""Key rotation (CP2) while the gateway runs: a new key, everything re-sealed or its data key
re-wrapped, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    gateway_on_fresh_database,
    wagate,
    wait_until,
)
from wagate.fakes.payloads import meta_text


def _wagate(env: dict[str, str], *args: str) -> str:
    return wagate(*args, env=env, check=True).stdout


def _masters_in_use(env: dict[str, str]) -> set[str]:
    """The master keys stored data still needs: those sealing version-1 envelopes directly,
    and those wrapping a live tenant data key (whose envelopes `keys status` names `tenant/dN`).
    """
    status = json.loads(_wagate(env, "keys", "status"))
    assert "plaintext" not in status
    direct = {key for key in status if "/" not in key}
    wrapping = {
        row["wrappedBy"]
        for row in json.loads(_wagate(env, "keys", "data-keys"))
        if row["destroyedAt"] is None and row["wrappedBy"] is not None
    }
    return direct | wrapping


def test_rotating_the_key_reseals_everything_and_the_running_gateway_follows(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta, fake_ai) as (gateway, _):
        assert (
            gateway.post_meta(
                meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="sebelum rotasi")
            ).status_code
            == 200
        )
        wait_until(
            lambda: gateway.messages_of(sender) and gateway.messages_of(sender)[0]["processedAt"],
            timeout=30,
        )
        # A token replaced at run time is sealed too, and must survive the rotation.
        _wagate(gateway.env, "tenants", "set-token", "meta", "--token", ACCESS_TOKEN)
        [old_key] = _masters_in_use(gateway.env)

        output = _wagate(gateway.env, "keys", "rotate")
        assert "current key is now" in output
        new_key = output.split("current key is now ", 1)[1].split()[0]
        assert new_key != old_key
        assert _masters_in_use(gateway.env) == {new_key}
        after = json.loads(_wagate(gateway.env, "keys", "status"))

        # the running gateway reads the re-sealed rows and seals new ones with the new key
        assert gateway.messages_of(sender)[0]["content"]["body"] == "sebelum rotasi"
        assert (
            gateway.post_meta(
                meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="sesudah rotasi")
            ).status_code
            == 200
        )
        wait_until(
            lambda: (
                len(gateway.messages_of(sender)) == 2
                and all(m["processedAt"] for m in gateway.messages_of(sender))
            ),
            timeout=30,
        )
        assert json.loads(_wagate(gateway.env, "keys", "status")).keys() == after.keys()
        assert "intact" in _wagate(gateway.env, "audit", "verify")
