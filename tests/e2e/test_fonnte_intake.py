"""Fonnte webhooks over HTTP: both encodings, the secret, dedup, phone normalisation."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.e2e.harness import FONNTE_SECRET, FakePeer, Gateway, fresh_database, wait_until
from wagate.fakes.payloads import fonnte_text


def _inbox_id() -> int:
    return random.randint(10**8, 10**9)


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_fonnte_messages_are_stored_in_both_encodings(
    gateway: Gateway, sender: str, encoding: str
) -> None:
    fields = fonnte_text(
        device="6282200000000", sender=sender, text="Halo admin", inbox_id=_inbox_id()
    )
    assert gateway.post_fonnte(fields, encoding=encoding).status_code == 200
    [message] = gateway.messages_of(sender)
    assert message["provider"] == "fonnte"
    assert message["content"] == {"kind": "text", "body": "Halo admin"}


def test_pesan_is_accepted_as_the_message_field(gateway: Gateway, sender: str) -> None:
    fields = {
        "device": "6282200000000",
        "sender": sender,
        "pesan": "stok masih ada?",
        "inboxid": _inbox_id(),
    }
    assert gateway.post_fonnte(fields, encoding="form").status_code == 200
    assert gateway.messages_of(sender)[0]["content"]["body"] == "stok masih ada?"


def test_a_wrong_secret_is_a_404_and_stores_nothing(gateway: Gateway, sender: str) -> None:
    fields = fonnte_text(device="6282200000000", sender=sender, text="x", inbox_id=_inbox_id())
    for secret in ("wrong", FONNTE_SECRET[:-1], FONNTE_SECRET + "x"):
        assert gateway.post_fonnte(fields, secret=secret).status_code == 404
    assert gateway.conversation_for(sender) is None


def test_redeliveries_are_stored_once_with_and_without_inboxid(
    gateway: Gateway, sender: str
) -> None:
    with_id = fonnte_text(device="6282200000000", sender=sender, text="a", inbox_id=_inbox_id())
    without_id = fonnte_text(device="6282200000000", sender=sender, text="b", timestamp=1735689600)
    for _ in range(3):
        assert gateway.post_fonnte(with_id).status_code == 200
        assert gateway.post_fonnte(without_id, encoding="form").status_code == 200
    bodies = sorted(m["content"]["body"] for m in gateway.messages_of(sender))
    assert bodies == ["a", "b"]


def test_local_number_forms_land_in_one_conversation(gateway: Gateway, sender: str) -> None:
    local = "0" + sender[2:]  # 0812…
    plus = "+62 " + sender[2:5] + "-" + sender[5:9] + "-" + sender[9:]
    for index, form in enumerate((sender, local, plus)):
        fields = fonnte_text(
            device="6282200000000", sender=form, text=f"m{index}", inbox_id=_inbox_id()
        )
        assert gateway.post_fonnte(fields).status_code == 200
    assert len(gateway.messages_of(sender)) == 3
    matching = [c for c in gateway.conversations() if c["contact"]["phone"] == sender]
    assert [c["contact"]["key"] for c in matching] == [sender]


def test_fonnte_group_messages_are_keyed_by_group(gateway: Gateway) -> None:
    group = f"1203630{random.randint(10**11, 10**12)}@g.us"
    fields = fonnte_text(device="6282200000000", sender=group, text="rapat", inbox_id=_inbox_id())
    fields["member"] = "081200000002"
    assert gateway.post_fonnte(fields).status_code == 200
    [message] = gateway.messages_of(group)
    assert message["sender"]["phone"] == "6281200000002"


def test_status_and_device_webhooks_are_acknowledged(gateway: Gateway) -> None:
    status = {
        "device": "6282200000000",
        "id": "80367170",
        "stateid": "A1",
        "status": "sent",
        "state": "delivered",
    }
    device = {
        "device": "6282200000000",
        "status": "disconnect",
        "token": "SECRET-DEVICE-TOKEN",
        "timestamp": 1735689900,
        "reason": "logged out from phone",
    }
    assert gateway.post_fonnte(status).status_code == 200
    assert gateway.post_fonnte(device).status_code == 200
    assert "SECRET-DEVICE-TOKEN" not in gateway.log()


def test_unreadable_fonnte_bodies_are_a_400(gateway: Gateway) -> None:
    path = f"/webhook/fonnte/{FONNTE_SECRET}"
    for body, content_type in (
        (b"", "application/json"),
        (b"[1,2]", "application/json"),
        (b"not json", "text/plain"),
    ):
        response = gateway.http.post(path, content=body, headers={"Content-Type": content_type})
        assert response.status_code == 400


def test_the_source_ip_allow_list_refuses_other_addresses(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with fresh_database() as url:
        guarded = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            FONNTE_ALLOWED_IPS="10.0.0.0/8,192.0.2.1",
        ).start()
        try:
            fields = fonnte_text(device="1", sender=sender, text="x", inbox_id=_inbox_id())
            assert guarded.post_fonnte(fields).status_code == 403
            assert guarded.conversation_for(sender) is None
        finally:
            guarded.stop()
        allowed = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            # The same install restarted with another setting: same data dir, same keys.
            data_dir=guarded.data_dir,
            FONNTE_ALLOWED_IPS="127.0.0.0/8",
        ).start()
        try:
            assert allowed.post_fonnte(fields).status_code == 200
            wait_until(lambda: allowed.conversation_for(sender))
        finally:
            allowed.stop()
