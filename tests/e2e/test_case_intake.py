"""Case intake with WhatsApp Flows end to end (FL1, issue 16): the session's gateway process on
real PostgreSQL, the fake Graph API as its own process, everything over real HTTP.

DAFTAR → the Flow message goes out; the completion (`nfm_reply`) → one sealed intake listed by
the API with its answers, confirmed once even when Meta delivers the webhook twice, audited by
id, exported and erased with the contact; a malformed or huge completion is kept raw and
acknowledged; operators send the Flow through the API and the CLI."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.e2e.harness import (
    API_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    gateway_on_fresh_database,
    wait_until,
)
from wagate.domain.case_intake import MAX_RESPONSE_CHARS
from wagate.fakes.payloads import meta_flow_completion, meta_text, new_wamid
from wagate.providers.meta.signature import sign

NIK = "3171011203850001"


def sends_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [r for r in fake_meta.requests("send") if r["body"].get("to") == number and "wamid" in r]


def flows_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [
        r["body"]["interactive"]
        for r in sends_to(fake_meta, number)
        if r["body"].get("type") == "interactive" and r["body"]["interactive"]["type"] == "flow"
    ]


def texts_to(fake_meta: FakePeer, number: str) -> list[str]:
    return [
        r["body"]["text"]["body"]
        for r in sends_to(fake_meta, number)
        if r["body"].get("type") == "text"
    ]


def registration(token: str | None, **answers: object) -> str:
    body: dict[str, object] = {
        "full_name": "Budi Santoso",
        "nik": NIK,
        "phone": "081200000001",
        "email": "budi@example.com",
        "case_type": "tanah",
        "story": "Tetangga menggeser patok batas tanah kami.",
        "documents": [
            {"id": "9001", "file_name": "sertifikat.pdf", "mime_type": "application/pdf"}
        ],
        "privacy_consent": True,
        **answers,
    }
    if token is not None:
        body["flow_token"] = token
    return json.dumps(body)


def intakes_of(gateway: Gateway, sender: str) -> list[dict[str, Any]]:
    conversation = gateway.conversation_for(sender)
    if conversation is None:
        return []
    items: list[dict[str, Any]] = gateway.api("/api/intakes", limit=1000)["items"]
    return [i for i in items if i["conversation"] == conversation["id"]]


def complete(gateway: Gateway, sender: str, response_json: str, **extra: Any) -> dict[str, Any]:
    payload = meta_flow_completion(
        phone_number_id=PHONE_NUMBER_ID, sender=sender, response_json=response_json, **extra
    )
    answer = gateway.post_meta(payload)
    assert answer.status_code == 200, answer.text
    return payload


def intakes_counted(gateway: Gateway) -> float:
    """`whatsapp_intake_total` of the default tenant, as a scrape of /metrics shows it."""
    response = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    response.raise_for_status()
    found = re.search(r'^whatsapp_intake_total\{tenant="default"\} (\S+)$', response.text, re.M)
    assert found is not None, "whatsapp_intake_total is not on /metrics"
    return float(found.group(1))


def test_daftar_sends_the_flow_and_the_completion_becomes_one_confirmed_intake(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    counted = intakes_counted(gateway)
    assert (
        gateway.post_meta(
            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="daftar")
        ).status_code
        == 200
    )
    [flow] = wait_until(lambda: flows_to(fake_meta, sender))
    parameters = flow["action"]["parameters"]
    assert parameters["flow_id"] == "400000000000001"
    assert parameters["flow_action_payload"] == {"screen": "DATA_DIRI"}
    token = parameters["flow_token"]
    assert token.startswith("wagate-intake-")
    assert texts_to(fake_meta, sender) == []  # the keyword was not a question for the AI

    payload = complete(gateway, sender, registration(token))
    [listed] = wait_until(lambda: intakes_of(gateway, sender))
    assert listed["status"] == "new" and listed["complete"] is True
    assert listed["name"] == "Budi Santoso" and listed["caseType"] == "tanah"
    assert listed["documentCount"] == 1 and "answers" not in listed
    intake_id = listed["id"]

    shown = gateway.api(f"/api/intakes/{intake_id}")
    assert shown["answers"]["nik"] == NIK and shown["answers"]["privacy_consent"] is True
    assert shown["answers"]["story"].startswith("Tetangga")
    assert shown["documents"] == [
        {
            "mediaId": "9001",
            "fileName": "sertifikat.pdf",
            "mimeType": "application/pdf",
            "sha256": None,
        }
    ]
    assert shown["flowToken"] == token and "response" not in shown

    confirmation = wait_until(
        lambda: [t for t in texts_to(fake_meta, sender) if f"nomor {intake_id}" in t]
    )
    assert len(confirmation) == 1

    # Meta delivers at least once: the same webhook twice more is one intake, one confirmation
    # (and a later question of the person's shows the queue has moved past them).
    for _ in range(2):
        assert gateway.post_meta(payload).status_code == 200
    gateway.post_meta(
        meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=f"halo {new_wamid()}")
    )
    wait_until(lambda: len(texts_to(fake_meta, sender)) >= 2)
    assert len(intakes_of(gateway, sender)) == 1
    assert [t for t in texts_to(fake_meta, sender) if "nomor" in t] == confirmation
    # Counted once as the issue asks, however often the completion was delivered.
    assert intakes_counted(gateway) == counted + 1

    # Audited by id (created, then viewed through the API), never with the answers.
    events = [
        e
        for e in gateway.api("/api/audit", limit=1000)["items"]
        if e["subject"] == f"case_intake:{intake_id}"
    ]
    assert {e["action"] for e in events} >= {"case_intake.created", "case_intake.viewed"}
    assert "Budi" not in json.dumps(events) and NIK not in json.dumps(events)


def test_answers_are_sealed_at_rest(
    gateway: Gateway, fake_meta: FakePeer, sender: str, database_url: str
) -> None:
    complete(gateway, sender, registration(None, full_name="Rahasia Sekali"))
    [listed] = wait_until(lambda: intakes_of(gateway, sender))
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT answers, response, problems FROM case_intakes WHERE id = %s", (listed["id"],)
        ).fetchone()
    assert row is not None
    answers, response, problems = bytes(row[0]), bytes(row[1]), row[2]
    for secret in (b"Rahasia Sekali", NIK.encode(), b"patok"):
        assert secret not in answers and secret not in response
    assert problems == []


def test_a_malformed_or_huge_completion_is_kept_raw_and_acknowledged(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    complete(gateway, sender, '{"full_name": "Budi", "nik": ')
    [broken] = wait_until(lambda: intakes_of(gateway, sender))
    assert broken["complete"] is False and broken["problems"] == ["not_json"]
    shown = gateway.api(f"/api/intakes/{broken['id']}")
    assert shown["response"] == '{"full_name": "Budi", "nik": ' and shown["answers"] == {}
    wait_until(lambda: [t for t in texts_to(fake_meta, sender) if "belum lengkap" in t])

    huge = json.dumps({"story": "x" * (MAX_RESPONSE_CHARS + 100)})
    complete(gateway, sender, huge)
    both = wait_until(lambda: len(intakes_of(gateway, sender)) == 2 and intakes_of(gateway, sender))
    assert both[0]["problems"] == ["too_large"]
    kept = gateway.api(f"/api/intakes/{both[0]['id']}")["response"]
    assert kept == huge  # under the 64 KiB kept raw: whole

    # A reply with fields missing: kept with what it had, the person told it is followed up.
    complete(gateway, sender, registration(None, nik=None, story=""))
    third = wait_until(
        lambda: len(intakes_of(gateway, sender)) == 3 and intakes_of(gateway, sender)
    )
    assert set(third[0]["problems"]) == {"missing:nik", "missing:story"}
    assert third[0]["name"] == "Budi Santoso"
    wait_until(lambda: len([t for t in texts_to(fake_meta, sender) if "belum lengkap" in t]) == 3)
    assert gateway.process is not None and gateway.process.alive()


def test_a_lawyer_marks_an_intake_reviewed_and_it_leaves_the_new_list(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    complete(gateway, sender, registration(None))
    [listed] = wait_until(lambda: intakes_of(gateway, sender))
    answer = gateway.api_post(f"/api/intakes/{listed['id']}/review", None)
    assert answer.status_code == 200 and answer.json()["status"] == "reviewed"
    again = gateway.api_post(f"/api/intakes/{listed['id']}/review", None)
    assert again.status_code == 409
    new_ids = {i["id"] for i in gateway.api("/api/intakes", status="new", limit=1000)["items"]}
    assert listed["id"] not in new_ids
    assert (
        gateway.http.get(
            "/api/intakes/999999999", headers={"Authorization": "Bearer e2e-api-token"}
        ).status_code
        == 404
    )


def test_operators_send_the_flow_through_the_api_and_the_cli(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    # The person wrote first: a Flow message (free-form) may go inside the 24-hour window.
    gateway.post_meta(meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo"))
    wait_until(lambda: texts_to(fake_meta, sender))
    sent = gateway.api_post("/api/intakes/send", {"target": sender}, **{"Idempotency-Key": "i1"})
    assert sent.status_code == 202, sent.text
    assert sent.json()["provider"] == "meta" and sent.json()["queued"] == 1
    repeated = gateway.api_post(
        "/api/intakes/send", {"target": sender}, **{"Idempotency-Key": "i1"}
    )
    assert repeated.status_code == 202 and repeated.json()["queued"] == 0
    wait_until(lambda: flows_to(fake_meta, sender))

    done = subprocess.run(
        [sys.executable, "-m", "wagate", "intakes", "send", sender, "--key", "c1"],
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["queued"] == 1
    flows = wait_until(
        lambda: len(flows_to(fake_meta, sender)) == 2 and flows_to(fake_meta, sender)
    )
    tokens = {f["action"]["parameters"]["flow_token"] for f in flows}
    assert len(tokens) == 2  # one token per message
    invited = [
        (e["actor"], e["details"]["queued"])
        for e in gateway.api("/api/audit", limit=1000)["items"]
        if e["action"] == "case_intake.invited"
        and e["subject"] == f"conversation:{sent.json()['conversationId']}"
    ]
    # Each call is recorded, the replayed one as queuing nothing.
    assert sorted(invited) == [("operator:api", 0), ("operator:api", 1), ("operator:cli", 1)]
    assert gateway.api_post("/api/intakes/send", {"target": "not a number"}).status_code == 422


def test_an_intake_is_exported_and_erased_with_its_contact(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    complete(gateway, sender, registration(None))
    [listed] = wait_until(lambda: intakes_of(gateway, sender))
    exported = gateway.api_post("/api/contacts/export", {"phone": sender})
    assert exported.status_code == 200, exported.text
    [kept] = exported.json()["caseIntakes"]
    assert kept["id"] == listed["id"] and kept["answers"]["answers"]["nik"] == NIK
    assert json.loads(kept["response"])["full_name"] == "Budi Santoso"
    erased = gateway.api_post("/api/contacts/erase", {"phone": sender})
    assert erased.status_code == 200, erased.text
    assert erased.json()["caseIntakes"] == 1
    assert all(i["id"] != listed["id"] for i in gateway.api("/api/intakes", limit=1000)["items"])


def test_a_tenant_key_rotation_reseals_the_intakes_and_they_still_open(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(workdir, fake_meta) as (own, _):
        complete(own, sender, registration(None))
        [listed] = wait_until(lambda: intakes_of(own, sender))
        done = subprocess.run(
            [sys.executable, "-m", "wagate", "keys", "rotate", "--tenant", "default", "--data-key"],
            env=own.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        resealed = json.loads(done.stdout.split("\n", 1)[1])
        assert resealed["case_intakes.answers"] == 1 and resealed["case_intakes.response"] == 1
        shown = own.api(f"/api/intakes/{listed['id']}")
        assert shown["answers"]["nik"] == NIK and shown["unreadable"] is False


def test_the_flows_data_endpoint_answers_over_http_with_a_key_made_here(
    workdir: Path, fake_meta: FakePeer, gateway: Gateway
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = workdir / "flows-endpoint.pem"
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert gateway.http.post("/flows/endpoint", content=b"{}").status_code == 404  # no key
    with gateway_on_fresh_database(
        workdir, fake_meta, INTAKE_FLOW_PRIVATE_KEY_FILE=str(key_file)
    ) as (own, _):
        aes, iv = AESGCM.generate_key(bit_length=128), os.urandom(16)
        oaep = padding.OAEP(
            mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
        )
        request = {"version": "3.0", "action": "INIT", "flow_token": "wagate-intake-e2e"}
        body = json.dumps(
            {
                "encrypted_flow_data": base64.b64encode(
                    AESGCM(aes).encrypt(iv, json.dumps(request).encode(), None)
                ).decode(),
                "encrypted_aes_key": base64.b64encode(
                    private.public_key().encrypt(aes, oaep)
                ).decode(),
                "initial_vector": base64.b64encode(iv).decode(),
            }
        ).encode()
        answer = own.http.post(
            "/flows/endpoint",
            content=body,
            headers={"X-Hub-Signature-256": sign(body, APP_SECRET)},
        )
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
        flipped = bytes(b ^ 0xFF for b in iv)
        response = json.loads(AESGCM(aes).decrypt(flipped, base64.b64decode(answer.content), None))
        assert response == {"screen": "DATA_DIRI", "data": {}}
        forged = own.http.post(
            "/flows/endpoint", content=body, headers={"X-Hub-Signature-256": sign(body, "x")}
        )
        assert forged.status_code == 432
