"""Meta webhooks driven over HTTP against a real gateway process and a real PostgreSQL."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from tests.e2e.harness import PHONE_NUMBER_ID, VERIFY_TOKEN, FakePeer, Gateway, wait_until
from wagate.fakes.payloads import meta_envelope, meta_status, meta_text, new_wamid
from wagate.providers.meta.signature import sign

DATA = Path(__file__).parent.parent / "data"


def test_verification_echoes_the_challenge_only_for_our_token(gateway: Gateway) -> None:
    good = gateway.http.get(
        "/webhook/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert good.status_code == 200
    assert good.text == "1158201444"
    assert good.headers["content-type"].startswith("text/plain")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    ):
        assert gateway.http.get("/webhook/whatsapp", params=params).status_code == 403


def test_a_signed_text_is_stored_listed_and_marked_read(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    wamid = new_wamid()
    payload = meta_text(
        phone_number_id=PHONE_NUMBER_ID, sender=sender, text="Halo admin", message_id=wamid
    )
    response = gateway.post_meta(payload)
    assert response.status_code == 200

    messages = gateway.messages_of(sender)
    assert [m["providerMessageId"] for m in messages] == [wamid]
    assert messages[0]["content"] == {"kind": "text", "body": "Halo admin"}
    # The worker took the job from the queue and marked the message read through the provider.
    reads = wait_until(
        lambda: [r for r in fake_meta.requests("read") if r["body"]["message_id"] == wamid]
    )
    assert reads[0]["phone_number_id"] == PHONE_NUMBER_ID
    assert wait_until(lambda: gateway.messages_of(sender)[0]["processedAt"])


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403), ("garbage", 403)],
)
def test_unsigned_or_wrongly_signed_webhooks_are_rejected_and_not_stored(
    gateway: Gateway, sender: str, signature: str | None, status: int
) -> None:
    body = orjson.dumps(meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="x"))
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    response = gateway.http.post("/webhook/whatsapp", content=body, headers=headers)
    assert response.status_code == status
    assert gateway.post_meta(body, secret="another-apps-secret").status_code == 403
    assert gateway.conversation_for(sender) is None


def test_the_signature_is_checked_on_the_raw_bytes(gateway: Gateway, sender: str) -> None:
    # Escapes like \u00e9 must be verified as sent; re-serialised JSON would not match.
    raw = (
        '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":'
        '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1",'
        f'"phone_number_id":"{PHONE_NUMBER_ID}"}},"contacts":[{{"profile":{{"name":"B"}},'
        f'"wa_id":"{sender}"}}],"messages":[{{"from":"{sender}","id":"{new_wamid()}",'
        '"timestamp":"1735689600","type":"text","text":{"body":"Halo \\u00e9"}}]},'
        '"field":"messages"}]}]}'
    ).encode()
    assert gateway.post_meta(raw).status_code == 200
    assert gateway.messages_of(sender)[0]["content"]["body"] == "Halo é"


def test_concurrent_duplicates_are_stored_once_and_processed_once(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    wamid = new_wamid()
    body = orjson.dumps(
        meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="dup", message_id=wamid)
    )
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: gateway.post_meta(body).status_code, range(32)))
    assert statuses == [200] * 32
    assert [m["providerMessageId"] for m in gateway.messages_of(sender)] == [wamid]
    wait_until(lambda: gateway.messages_of(sender)[0]["processedAt"])
    reads = [r for r in fake_meta.requests("read") if r["body"]["message_id"] == wamid]
    assert len(reads) == 1


def test_every_entry_change_message_and_status_of_a_batch_is_stored(
    gateway: Gateway, sender: str
) -> None:
    other = sender[:-1] + ("0" if sender[-1] != "0" else "1")
    ids = [new_wamid() for _ in range(4)]

    def change(who: str, first: str, second: str) -> dict[str, object]:
        return {
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "1", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "N"}, "wa_id": who}],
                "messages": [
                    {
                        "from": who,
                        "id": first,
                        "timestamp": "1735689600",
                        "type": "text",
                        "text": {"body": "satu"},
                    },
                    {
                        "from": who,
                        "id": second,
                        "timestamp": "1735689601",
                        "type": "text",
                        "text": {"body": "dua"},
                    },
                ],
                "statuses": [
                    {
                        "id": new_wamid(),
                        "status": "delivered",
                        "timestamp": "1735689602",
                        "recipient_id": who,
                    }
                ],
            },
        }

    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": [change(sender, ids[0], ids[1])]},
            {"id": "2", "changes": [change(other, ids[2], ids[3])]},
        ],
    }
    assert gateway.post_meta(payload).status_code == 200
    assert [m["providerMessageId"] for m in gateway.messages_of(sender)] == ids[:2]
    assert [m["providerMessageId"] for m in gateway.messages_of(other)] == ids[2:]


def _golden_payloads() -> list[tuple[str, object]]:
    cases: list[tuple[str, object]] = []
    for path in sorted((DATA / "payloads").glob("meta-*.json")):
        document = json.loads(path.read_text())
        if isinstance(document, dict) and "entry" in document:
            cases.append((path.stem, document))
    for path in sorted((DATA / "pywa").glob("*.json")):
        for name, example in json.loads(path.read_text()).items():
            cases.append((f"{path.stem}:{name}", example))
    return cases


def test_every_real_world_payload_shape_is_acknowledged(gateway: Gateway) -> None:
    cases = _golden_payloads()
    assert len(cases) > 60
    failures = {}
    for name, payload in cases:
        response = gateway.post_meta(payload)
        if response.status_code != 200:
            failures[name] = (response.status_code, response.text)
    assert failures == {}
    # Redelivering all of them stores nothing new.
    before = sum(c["messageCount"] for c in gateway.conversations())
    for _, payload in cases:
        assert gateway.post_meta(payload).status_code == 200
    assert sum(c["messageCount"] for c in gateway.conversations()) == before
    # …and every message they carried is processed by the worker, whatever its shape
    wait_until(
        lambda: all(c["pendingCount"] == 0 for c in gateway.conversations()), timeout=90, every=0.5
    )


def test_unknown_message_types_are_stored_as_unsupported(gateway: Gateway, sender: str) -> None:
    wamid = new_wamid()
    payload = meta_envelope(
        PHONE_NUMBER_ID,
        {
            "contacts": [{"profile": {"name": "X"}, "wa_id": sender}],
            "messages": [
                {
                    "from": sender,
                    "id": wamid,
                    "timestamp": "1735689600",
                    "type": "hologram",
                    "hologram": {"depth": 3},
                }
            ],
        },
    )
    assert gateway.post_meta(payload).status_code == 200
    [message] = gateway.messages_of(sender)
    assert message["kind"] == "unsupported"
    assert message["content"]["typeName"] == "hologram"


def test_malformed_json_with_a_valid_signature_is_a_400_and_stores_nothing(
    gateway: Gateway, sender: str
) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": [' + sender.encode()
    response = gateway.post_meta(body)
    assert response.status_code == 400
    assert gateway.conversation_for(sender) is None
    assert "malformed_json" in gateway.log()


def test_oversized_bodies_are_refused_with_413(gateway: Gateway, sender: str) -> None:
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="x" * 70_000)
    body = orjson.dumps(payload)
    assert gateway.post_meta(body).status_code == 413

    def chunks():  # no Content-Length: the limit must hold for streamed bodies too
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = gateway.http.post(
        "/webhook/whatsapp",
        content=chunks(),
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, "e2e-app-secret"),
        },
    )
    assert streamed.status_code == 413
    assert gateway.conversation_for(sender) is None


def test_wrong_methods_get_405(gateway: Gateway) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        assert gateway.http.request(method, "/webhook/whatsapp").status_code == 405
    assert gateway.http.get(f"/webhook/fonnte/{'x' * 30}").status_code == 405


def test_statuses_are_recorded_once_each(gateway: Gateway, database_url: str) -> None:
    import psycopg

    wamid = new_wamid()
    for status in ("delivered", "sent", "delivered", "read", "read"):
        payload = meta_status(
            phone_number_id=PHONE_NUMBER_ID,
            message_id=wamid,
            status=status,
            recipient="6281200000001",
        )
        assert gateway.post_meta(payload).status_code == 200
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT status FROM delivery_statuses WHERE provider_message_id = %s ORDER BY status",
            (wamid,),
        ).fetchall()
    assert [r[0] for r in rows] == ["delivered", "read", "sent"]


def test_a_client_that_hangs_up_mid_body_does_not_break_the_gateway(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port)) as raw:
        raw.sendall(
            b"POST /webhook/whatsapp HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"obj'
        )
    assert gateway.http.get("/api/health").status_code == 200
    assert gateway.post_meta(b"{}").status_code == 200  # and still takes webhooks
