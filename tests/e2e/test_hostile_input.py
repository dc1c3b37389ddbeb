"""Issue 10: what an adversarial run of the gateway found, each case driven over real HTTP
against a real gateway process and a real PostgreSQL. Hostile input never costs a good message.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from tests.e2e.harness import (
    API_TOKEN,
    FONNTE_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakePeer,
    Gateway,
    fresh_database,
    wait_until,
)
from wagate.fakes.payloads import fonnte_text, meta_envelope, meta_status, meta_text, new_wamid

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture(scope="module")
def hostile(workdir: Path, fake_meta: FakePeer, fake_fonnte: FakePeer) -> Iterator[Gateway]:
    """A gateway of its own (default 1 MiB body limit, short read timeouts) on its own database,
    so what was set aside can be counted."""
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            fonnte_url=f"{fake_fonnte.url}/send",
            WAGATE_HEADER_TIMEOUT_SECONDS="1",
            WAGATE_BODY_TIMEOUT_SECONDS="1",
        ).start()
        gateway.database_url = url  # type: ignore[attr-defined]
        try:
            yield gateway
        finally:
            gateway.stop()


def _sql(gateway: Gateway, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(gateway.database_url) as conn:  # type: ignore[attr-defined]
        return conn.execute(query, params).fetchall()


def _with_status(message: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """One delivery: a good message and a status, in the same change."""
    value = message["entry"][0]["changes"][0]["value"]
    value["statuses"] = status["entry"][0]["changes"][0]["value"]["statuses"]
    return message


# ------------------------------------------------------------------ 1. one bad field


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param({"id": "wamid.\u0000poisoned"}, id="nul-status-id"),
        pytest.param({"id": "wamid." + "x" * 3000}, id="3000-char-status-id"),
        pytest.param(
            {
                "status": "failed",
                "errors": [
                    {"code": 131026, "title": "t\u0000", "error_data": {"details": "d\u0000x"}}
                ],
            },
            id="nul-error-details",
        ),
        pytest.param({"biz_opaque_callback_data": "k\u0000" * 2000}, id="nul-tracker"),
    ],
)
def test_a_poisoned_status_next_to_a_good_message_costs_nothing(
    hostile: Gateway, sender: str, poison: dict[str, Any]
) -> None:
    wamid = new_wamid()
    status = meta_status(
        phone_number_id=PHONE_NUMBER_ID, message_id=new_wamid(), status="read", recipient=sender
    )
    status["entry"][0]["changes"][0]["value"]["statuses"][0].update(poison)
    good = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="baik", message_id=wamid)
    delivery = _with_status(good, status)
    for _ in range(3):  # the provider's retries: each answered 200, the message stored once
        assert hostile.post_meta(delivery).status_code == 200
    assert [m["providerMessageId"] for m in hostile.messages_of(sender)] == [wamid]


@pytest.mark.parametrize(
    "where",
    ["message-id", "phone-number-id", "field", "long-message-id"],
)
def test_nul_or_huge_meta_identifiers_are_cleaned_and_stored(
    hostile: Gateway, sender: str, where: str
) -> None:
    wamid = new_wamid()
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="x", message_id=wamid)
    change = payload["entry"][0]["changes"][0]
    if where == "message-id":
        change["value"]["messages"][0]["id"] = wamid + "\u0000"
    elif where == "long-message-id":
        change["value"]["messages"][0]["id"] = wamid + "y" * 3000
    elif where == "phone-number-id":
        change["value"]["metadata"]["phone_number_id"] = PHONE_NUMBER_ID + "\u0000"
    else:
        change["field"] = "mess\u0000ages"
    assert hostile.post_meta(payload).status_code == 200
    assert hostile.post_meta(payload).status_code == 200
    stored = hostile.messages_of(sender)
    assert len(stored) == 1  # "mess\u0000ages" cleaned is "messages": a message like any other
    if where == "message-id":
        assert stored[0]["providerMessageId"] == wamid
    if where == "long-message-id":
        assert stored[0]["providerMessageId"].startswith("h:")


@pytest.mark.parametrize("field", ["device", "inboxid"])
def test_nul_in_fonnte_device_or_inboxid_is_cleaned_and_stored(
    hostile: Gateway, sender: str, field: str
) -> None:
    fields = fonnte_text(
        device="6282200000000", sender=sender, text="halo", inbox_id=random.randint(10**8, 10**9)
    )
    fields[field] = f"{fields[field]}\u0000"
    assert hostile.post_fonnte(fields).status_code == 200
    assert hostile.post_fonnte(fields).status_code == 200
    assert len(hostile.messages_of(sender)) == 1


# ------------------------------------------------------------------ 2. deep JSON


def _deep(levels: int) -> bytes:
    return b'{"entry":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@pytest.mark.parametrize("levels", [255, 600, 1024])
def test_deep_json_is_a_400_with_a_reason_never_a_500(hostile: Gateway, levels: int) -> None:
    body = _deep(levels)
    response = hostile.post_meta(body)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
    fonnte = hostile.http.post(
        f"/webhook/fonnte/{FONNTE_SECRET}",
        content=b'{"sender":"6281234","x":' + b"[" * levels + b"]" * levels + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert fonnte.status_code == 400


# ------------------------------------------------------------------ 3. forwarded headers


@pytest.mark.parametrize(
    ("forwarded_allow", "expected"),
    [(None, 403), ("127.0.0.1", 200)],
    ids=["no-proxy-named", "loopback-proxy-named"],
)
def test_x_forwarded_for_is_trusted_only_from_named_proxies(
    workdir: Path, fake_meta: FakePeer, sender: str, forwarded_allow: str | None, expected: int
) -> None:
    settings = {"FONNTE_ALLOWED_IPS": "10.9.9.9"}
    if forwarded_allow:
        settings["FORWARDED_ALLOW_IPS"] = forwarded_allow
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            worker=False,
            **settings,
        ).start()
        try:
            fields = fonnte_text(device="6282200000000", sender=sender, text="x", inbox_id=5)
            path = f"/webhook/fonnte/{FONNTE_SECRET}"
            for forwarded in ("10.9.9.9", "1.2.3.4, 10.9.9.9"):
                response = gateway.http.post(
                    path, json=fields, headers={"X-Forwarded-For": forwarded}
                )
                assert response.status_code == expected, forwarded
            assert gateway.http.post(path, json=fields).status_code == 403
        finally:
            gateway.stop()


# ------------------------------------------------------------------ 4. slow clients


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Read until the server closes the connection; fails if it is still open after
    `seconds`."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        pytest.fail(f"connection still open after {seconds} s (got {received!r})")
    return received


def test_headers_that_never_finish_are_cut_off(hostile: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", hostile.port)) as sock:
        sock.sendall(b"POST /webhook/whatsapp HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        _closed_within(sock, 10)
    with socket.create_connection(("127.0.0.1", hostile.port)) as sock:
        _closed_within(sock, 10)  # not a byte sent


def test_a_trickling_body_is_cut_off_and_its_memory_released(hostile: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", hostile.port)) as sock:
        sock.sendall(
            b"POST /webhook/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        _closed_within(sock, 10)
    assert hostile.http.get("/api/health").status_code == 200


# ------------------------------------------------------------------ 5. huge deliveries


def test_a_300000_entry_delivery_is_refused_and_health_stays_fast(hostile: Gateway) -> None:
    """The bound is generous for a loaded 2-core machine (the gateway, its database and the
    test share it): the slowest of 20 probes taken while the delivery is being handled must
    answer within 200 ms, as the issue asks. Starved, the slowest was seconds."""
    body = b'{"entry":[' + b",".join([b"{}"] * 300_000) + b"]}"
    assert len(body) > 500_000
    slowest: list[float] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=hostile.url, timeout=30) as client:
            client.get("/api/health")  # connection open before the delivery starts
            while not done.is_set() or len(slowest) < 20:
                started = time.perf_counter()
                assert client.get("/api/health").status_code == 200
                slowest.append(time.perf_counter() - started)
                time.sleep(0.01)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        for _ in range(3):
            response = hostile.post_meta(body)
            assert response.status_code == 400
            assert "more than" in response.json()["detail"]
    finally:
        done.set()
        prober.join(timeout=60)
    assert max(slowest) < 0.2, sorted(slowest)[-5:]


def test_a_big_but_real_batch_of_statuses_is_stored(hostile: Gateway, sender: str) -> None:
    statuses = [
        {
            "id": new_wamid(),
            "status": "delivered",
            "timestamp": "1700000000",
            "recipient_id": sender,
        }
        for _ in range(500)
    ]
    payload = meta_envelope(PHONE_NUMBER_ID, {"statuses": statuses})
    assert hostile.post_meta(payload).status_code == 200
    rows = _sql(
        hostile,
        "SELECT count(*) FROM delivery_statuses WHERE provider_message_id = ANY(%s)",
        [s["id"] for s in statuses],
    )
    assert rows == [(500,)]


# ------------------------------------------------------------------ 6. operator API bounds


@pytest.mark.parametrize(
    "path",
    [
        f"/api/conversations/{2**63}/messages",
        f"/api/conversations/{2**64}/messages",
        f"/api/conversations/1/messages?offset={2**63}",
        f"/api/conversations?offset={2**63}",
        f"/api/dead-letters?offset={2**63}",
        f"/api/dead-letters?offset={2**63 - 2}&limit=500",
        f"/api/dead-letters/{2**63}",
        f"/api/dead-letters/in-{2**70}",
        f"/api/audit?after_seq={2**63}",
    ],
)
def test_ids_and_offsets_beyond_bigint_are_4xx(hostile: Gateway, path: str) -> None:
    response = hostile.http.get(path, headers=AUTH)
    assert response.status_code in (404, 422), response.text


@pytest.mark.parametrize("ref", ["%20", "%20%20%09", str(2**63), "\u00b2", "\u0661\u0662"])
def test_odd_account_references_are_404(hostile: Gateway, ref: str) -> None:
    response = hostile.http.post(f"/api/accounts/{ref}/approve", headers=AUTH)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/accounts", {"username": "nul-role", "role": " \u0000x"}),
        ("/api/accounts", {"username": "surrogate\ud800"}),
        ("/api/whatsapp/send", {"target": "6281234567890", "message": "a\ud800"}),
        ("/api/whatsapp/send", {"target": "6281234567890", "message": "a\u0000"}),
        ("/api/accounts", {"\ud800": "the 422 echoes this input"}),
    ],
    ids=["nul-role", "surrogate-username", "surrogate-message", "nul-message", "echoed-input"],
)
def test_text_postgresql_cannot_hold_is_a_422(
    hostile: Gateway, path: str, body: dict[str, str]
) -> None:
    response = hostile.http.post(
        path,
        content=json.dumps(body).encode(),  # ASCII, lone surrogates as JSON escapes
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


# ------------------------------------------------------------------ 7. smaller ones


def test_a_trailing_slash_is_not_redirected_to_the_callers_host(hostile: Gateway) -> None:
    response = hostile.http.get(
        "/api/accounts/", headers={**AUTH, "Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code == 404
    assert "location" not in response.headers


def test_the_echoed_challenge_is_not_sniffable(hostile: Gateway) -> None:
    response = hostile.http.get(
        "/webhook/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "<script>alert(1)</script>",
        },
    )
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_idempotency_key_reused_for_a_different_request_is_a_409(
    hostile: Gateway, sender: str
) -> None:
    key = {"Idempotency-Key": f"hostile-{sender}"}
    first = {"target": sender, "message": "Pemberitahuan dari operator"}
    response = hostile.api_post("/api/whatsapp/send", first, **key)
    assert (response.status_code, response.json()["queued"]) == (202, 1)
    again = hostile.api_post("/api/whatsapp/send", first, **key)
    assert (again.status_code, again.json()["queued"]) == (202, 0)  # a true replay
    for different in (
        {**first, "message": "Pemberitahuan dari operator, diubah"},
        {**first, "target": "62812" + sender[-8:][::-1]},
    ):
        conflict = hostile.api_post("/api/whatsapp/send", different, **key)
        assert conflict.status_code == 409, conflict.text
        assert "different request" in conflict.json()["detail"]


def test_a_timestamp_from_the_future_is_clamped_to_receipt(hostile: Gateway, sender: str) -> None:
    year_2100 = 4_102_444_800
    fields = fonnte_text(
        device="6282200000000",
        sender=sender,
        text="dari masa depan",
        inbox_id=random.randint(10**8, 10**9),
        timestamp=year_2100,
    )
    assert hostile.post_fonnte(fields).status_code == 200
    conversation = wait_until(lambda: hostile.conversation_for(sender))
    assert conversation["lastInboundAt"] < "2030"


def test_an_unknown_phone_number_id_is_stored_flagged_and_never_answered(
    hostile: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    foreign = "999000999000"
    wamid = new_wamid()
    payload = meta_text(phone_number_id=foreign, sender=sender, text="balas?", message_id=wamid)
    assert hostile.post_meta(payload).status_code == 200
    assert hostile.conversation_for(sender) is None
    rows = _sql(
        hostile,
        "SELECT count(*) FROM provider_events WHERE field_name = 'unknown_channel_message' "
        "AND channel_id = %s",
        foreign,
    )
    assert rows == [(1,)]
    time.sleep(1)
    assert not [r for r in fake_meta.requests() if r.get("phone_number_id") == foreign]


async def test_sql_errors_do_not_carry_the_statements_values() -> None:
    from sqlalchemy import text

    from wagate.storage.database import Database

    with fresh_database() as url:
        database = Database(url, pool_size=2)
        try:
            async with database.engine.connect() as conn:
                with pytest.raises(Exception) as raised:
                    await conn.execute(text("SELECT :n / 0"), {"n": 6281234})
        finally:
            await database.engine.dispose()
    assert "hidden" in str(raised.value)
    assert "6281234" not in str(raised.value)


def test_the_schema_declares_the_bearer_scheme_and_docs_are_off(hostile: Gateway) -> None:
    schema = hostile.http.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    assert hostile.http.get("/api/docs").status_code == 404


def test_a_signed_delivery_with_a_bigint_overflowing_number_is_stored(
    hostile: Gateway, sender: str
) -> None:
    wamid = new_wamid()
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="n", message_id=wamid)
    body = orjson.dumps(payload).replace(
        b'"timestamp":"', b'"huge":123456789012345678901234567890,"timestamp":"', 1
    )
    assert hostile.post_meta(body).status_code == 200
    assert len(hostile.messages_of(sender)) == 1


# ------------------------------------------------------------------ 8. orphaned embedded database


def test_an_embedded_database_orphaned_by_sigkill_is_stopped_by_the_next_clean_exit(
    workdir: Path, fake_meta: FakePeer
) -> None:
    data_dir = workdir / "orphan-data"
    pid_file = data_dir / "pg" / "postmaster.pid"

    def postmaster_pid() -> int:
        return int(pid_file.read_text().splitlines()[0])

    first = Gateway(
        workdir, database_url=None, graph_url=f"{fake_meta.url}/v22.0", data_dir=data_dir
    ).start()
    assert first.process is not None
    os.kill(first.process.popen.pid, signal.SIGKILL)  # the gateway only, not its database
    first.process.popen.wait()
    orphan = postmaster_pid()
    assert _running(orphan)  # what the adversarial run saw: the database outlives its gateway

    second = Gateway(
        workdir, database_url=None, graph_url=f"{fake_meta.url}/v22.0", data_dir=data_dir
    ).start()
    try:
        assert postmaster_pid() == orphan  # adopted, not started twice
        assert second.stop() == 0
        wait_until(lambda: not _running(orphan), timeout=30)
        assert not pid_file.exists()
    finally:
        second.stop()
        if _running(orphan):  # never leave a server behind, even when the test fails
            os.kill(orphan, signal.SIGTERM)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_sender_id_without_digits_is_answered_once_without_failing_the_job(
    hostile: Gateway, fake_meta: FakePeer
) -> None:
    """A signed message whose `from` holds no digit (no phone number, no BSUID) was stored and
    answered, then its delivery's opt-out check failed the conversation's job on every retry
    ("nothing to index: the phone value is empty"). Now the provider judges the send."""
    sender = "nodigits" + "".join(random.choices("abcdefghij", k=8))
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
    assert hostile.post_meta(payload).status_code == 200
    wait_until(
        lambda: [r for r in fake_meta.requests("send") if r["body"].get("to") == sender],
        timeout=20,
    )
    time.sleep(1)  # a failed job would log by now
    failed = [
        line
        for line in hostile.log().splitlines()
        if "converse.failed" in line or "nothing to index" in line
    ]
    assert failed == []
