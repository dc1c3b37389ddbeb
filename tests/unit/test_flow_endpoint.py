"""The Flows data endpoint (FL1) with keys generated here: requests encrypted as WhatsApp's
client does (a fresh AES-128 key sealed with RSA-OAEP-SHA256 to our public key, AES-GCM with a
16-byte nonce), answered under the same key with the nonce flipped; a wrong signature, a request
for another key, a tampered payload each get the status Meta expects; and what each action is
answered."""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wagate.domain.flow_exchange import BAD_NIK, ExchangeError, respond
from wagate.domain.provider_port import InboundRequest
from wagate.providers.meta.flow_endpoint import (
    FlowKeyError,
    MetaFlowEndpoint,
    load_private_key,
)
from wagate.providers.meta.signature import sign

APP_SECRET = "flows-test-secret"
NIK = "3171011203850001"
OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


@cache
def key_pair() -> tuple[rsa.RSAPrivateKey, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private, pem


def client_request(payload: dict[str, Any], public: rsa.RSAPublicKey) -> tuple[bytes, bytes, bytes]:
    """(the HTTP body, the AES key, the nonce) as WhatsApp's client would make them."""
    key, iv = AESGCM.generate_key(bit_length=128), os.urandom(16)
    body = {
        "encrypted_flow_data": base64.b64encode(
            AESGCM(key).encrypt(iv, json.dumps(payload).encode(), None)
        ).decode(),
        "encrypted_aes_key": base64.b64encode(public.encrypt(key, OAEP)).decode(),
        "initial_vector": base64.b64encode(iv).decode(),
    }
    return json.dumps(body).encode(), key, iv


def endpoint() -> MetaFlowEndpoint:
    _, pem = key_pair()
    return MetaFlowEndpoint(
        private_key=load_private_key(pem), app_secret=APP_SECRET, respond=respond
    )


def post(body: bytes, *, secret: str = APP_SECRET) -> InboundRequest:
    return InboundRequest(
        method="POST",
        headers={"x-hub-signature-256": sign(body, secret), "content-type": "application/json"},
        body=body,
    )


def opened(answer_body: bytes, key: bytes, iv: bytes) -> Any:
    flipped = bytes(b ^ 0xFF for b in iv)
    return json.loads(AESGCM(key).decrypt(flipped, base64.b64decode(answer_body), None))


def exchange(payload: dict[str, Any]) -> Any:
    private, _ = key_pair()
    body, key, iv = client_request(payload, private.public_key())
    answer = endpoint().handle(post(body))
    assert answer.status == 200 and answer.media_type == "text/plain"
    return opened(answer.body, key, iv)


def test_a_ping_is_answered_active_under_the_flipped_nonce() -> None:
    assert exchange({"version": "3.0", "action": "ping"}) == {"data": {"status": "active"}}


def test_the_identity_screen_is_checked_before_the_person_goes_on() -> None:
    refused = exchange(
        {
            "version": "3.0",
            "action": "data_exchange",
            "screen": "DATA_DIRI",
            "flow_token": "t",
            "data": {"full_name": "Budi", "nik": "1234", "phone": "0812"},
        }
    )
    assert refused == {"screen": "DATA_DIRI", "data": {"error_message": BAD_NIK}}
    passed = exchange(
        {
            "version": "3.0",
            "action": "data_exchange",
            "screen": "DATA_DIRI",
            "data": {"full_name": " Budi ", "nik": NIK, "phone": "0812"},
        }
    )
    assert passed["screen"] == "PERKARA"
    assert passed["data"] == {"full_name": "Budi", "nik": NIK, "phone": "0812", "email": ""}


def test_the_last_screen_completes_with_the_answers_as_the_completions_parameters() -> None:
    done = exchange(
        {
            "version": "3.0",
            "action": "data_exchange",
            "screen": "PERKARA",
            "flow_token": "wagate-intake-abc",
            "data": {"case_type": "waris", "story": "x", "privacy_consent": True},
        }
    )
    assert done["screen"] == "SUCCESS"
    params = done["data"]["extension_message_response"]["params"]
    assert params == {
        "flow_token": "wagate-intake-abc",
        "case_type": "waris",
        "story": "x",
        "privacy_consent": True,
    }


def test_init_back_and_error_notifications() -> None:
    assert exchange({"version": "3.0", "action": "INIT", "flow_token": "t"}) == {
        "screen": "DATA_DIRI",
        "data": {},
    }
    assert exchange({"version": "3.0", "action": "BACK", "screen": "PERKARA"})["screen"] == (
        "PERKARA"
    )
    notified = exchange(
        {"version": "3.0", "action": "data_exchange", "data": {"error": "INVALID_SCREEN"}}
    )
    assert notified == {"data": {"acknowledged": True}}


def test_a_wrong_signature_is_432_and_nothing_is_decrypted() -> None:
    private, _ = key_pair()
    body, _, _ = client_request({"action": "ping"}, private.public_key())
    assert endpoint().handle(post(body, secret="another-secret")).status == 432
    unsigned = InboundRequest(method="POST", headers={}, body=body)
    assert endpoint().handle(unsigned).status == 432


def test_a_request_for_another_key_or_tampered_is_421() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body, _, _ = client_request({"action": "ping"}, other.public_key())
    assert endpoint().handle(post(body)).status == 421
    private, _ = key_pair()
    good, _, _ = client_request({"action": "ping"}, private.public_key())
    fields = json.loads(good)
    sealed = bytearray(base64.b64decode(fields["encrypted_flow_data"]))
    sealed[0] ^= 1
    fields["encrypted_flow_data"] = base64.b64encode(bytes(sealed)).decode()
    tampered = json.dumps(fields).encode()
    assert endpoint().handle(post(tampered)).status == 421
    for broken in (b"not json", b"[]", b'{"encrypted_flow_data": "%%%"}'):
        assert endpoint().handle(post(broken)).status == 421


def test_a_request_that_cannot_be_answered_is_400() -> None:
    private, _ = key_pair()
    body, _, _ = client_request({"action": "self_destruct"}, private.public_key())
    assert endpoint().handle(post(body)).status == 400
    with pytest.raises(ExchangeError):
        respond({"action": "data_exchange", "screen": "ELSEWHERE", "data": {}})


def test_only_a_readable_rsa_key_of_2048_bits_or_more_is_taken() -> None:
    with pytest.raises(FlowKeyError, match="PEM"):
        load_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(FlowKeyError, match="2048"):
        load_private_key(pem)
    locked = key_pair()[0].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"kata-sandi"),
    )
    assert load_private_key(locked, b"kata-sandi").key_size == 2048
    with pytest.raises(FlowKeyError):
        load_private_key(locked, b"salah")
