"""Meta webhook authenticity (protocol §1, §2): the committed HMAC test vector and the GET
handshake, checked against `wagate.providers.meta.signature`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wagate.providers.meta.signature import (
    SignatureCheck,
    check_signature,
    sign,
    verify_subscription,
)

DATA = Path(__file__).parent.parent / "data"
FIXTURE: dict[str, Any] = json.loads(
    (DATA / "payloads" / "meta-webhook-verify-and-signature.json").read_text(encoding="utf-8")
)
VECTOR = FIXTURE["signature_test_vector"]
SECRET: str = VECTOR["app_secret"]
RAW_BODY: bytes = VECTOR["raw_body_utf8"].encode("utf-8")
EXPECTED: str = VECTOR["expected_header_value"]
HANDSHAKE = FIXTURE["verification_get"]
QUERY = HANDSHAKE["request"]["query"]


# ---------------------------------------------------------------- the test vector


def test_raw_body_of_the_vector_still_holds_the_json_escape_meta_sends() -> None:
    # Guards the vector itself: the point is that the bytes contain `\u00e9`, not `é`.
    assert b"\\u00e9" in RAW_BODY
    assert "é".encode() not in RAW_BODY


def test_sign_reproduces_the_documented_header_for_the_raw_body() -> None:
    assert sign(RAW_BODY, SECRET) == EXPECTED


def test_documented_header_verifies_against_the_raw_bytes() -> None:
    assert check_signature(RAW_BODY, EXPECTED, SECRET) is SignatureCheck.VALID


@pytest.mark.parametrize(
    "options",
    [
        {"ensure_ascii": False, "separators": (",", ":")},  # same layout, é written raw
        {},  # json.dumps defaults: escapes kept, spaces added
    ],
    ids=["compact-unicode", "default-spacing"],
)
def test_reserialised_body_does_not_verify(options: dict[str, Any]) -> None:
    reserialised = json.dumps(json.loads(RAW_BODY), **options).encode("utf-8")
    assert reserialised != RAW_BODY
    assert check_signature(reserialised, EXPECTED, SECRET) is SignatureCheck.MISMATCH


def test_documented_wrong_digest_is_what_the_unicode_reserialisation_gives() -> None:
    reserialised = json.dumps(
        json.loads(RAW_BODY), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    wrong = VECTOR["wrong_digest_if_body_reserialized"]
    assert sign(reserialised, SECRET) == wrong
    assert check_signature(RAW_BODY, wrong, SECRET) is SignatureCheck.MISMATCH


# ---------------------------------------------------------------- header shapes


@pytest.mark.parametrize("header", [None, ""], ids=["absent", "empty"])
def test_missing_header_is_reported_as_missing(header: str | None) -> None:
    assert check_signature(RAW_BODY, header, SECRET) is SignatureCheck.MISSING


@pytest.mark.parametrize(
    "header",
    [
        EXPECTED.removeprefix("sha256="),  # no prefix
        "sha1=" + EXPECTED.removeprefix("sha256="),  # legacy algorithm
        "sha256=",  # prefix only
        EXPECTED[:-1],  # 63 hex chars
        EXPECTED + "0",  # 65 hex chars
        "sha256 " + EXPECTED.removeprefix("sha256="),
    ],
    ids=["bare-hex", "sha1", "prefix-only", "too-short", "too-long", "space-not-equals"],
)
def test_malformed_header_is_rejected_as_malformed(header: str) -> None:
    assert check_signature(RAW_BODY, header, SECRET) is SignatureCheck.MALFORMED


def test_uppercase_hex_digest_is_the_same_digest_and_verifies() -> None:
    upper = "sha256=" + EXPECTED.removeprefix("sha256=").upper()
    assert check_signature(RAW_BODY, upper, SECRET) is SignatureCheck.VALID


def test_surrounding_whitespace_in_the_header_is_ignored() -> None:
    assert check_signature(RAW_BODY, f"  {EXPECTED}\t", SECRET) is SignatureCheck.VALID


def test_wrong_secret_is_a_mismatch() -> None:
    assert check_signature(RAW_BODY, EXPECTED, SECRET + "x") is SignatureCheck.MISMATCH


def test_one_changed_body_byte_is_a_mismatch() -> None:
    tampered = RAW_BODY.replace(b"Budi", b"Budy")
    assert check_signature(tampered, EXPECTED, SECRET) is SignatureCheck.MISMATCH


def test_non_hex_digest_of_the_right_length_never_verifies() -> None:
    header = "sha256=" + "z" * 64
    assert check_signature(RAW_BODY, header, SECRET) is not SignatureCheck.VALID


def test_non_ascii_header_is_rejected_without_raising() -> None:
    header = "sha256=" + "é" * 64  # Starlette decodes header bytes as latin-1
    assert check_signature(RAW_BODY, header, SECRET) is not SignatureCheck.VALID


# ---------------------------------------------------------------- GET handshake


def test_handshake_from_the_fixture_echoes_the_challenge() -> None:
    answer = verify_subscription(
        QUERY["hub.mode"], QUERY["hub.verify_token"], QUERY["hub.challenge"], "my-verify-token"
    )
    assert answer == HANDSHAKE["expected_response_if_token_matches"]["body"]


@pytest.mark.parametrize(
    "challenge", ["1158201444", "0042", "  spaced  ", "ünïcödé-€", "a" * 300, "1.5e3"]
)
def test_challenge_is_echoed_byte_for_byte(challenge: str) -> None:
    assert verify_subscription("subscribe", "tok", challenge, "tok") == challenge


@pytest.mark.parametrize("mode", ["unsubscribe", "Subscribe", "SUBSCRIBE", "", None])
def test_mode_other_than_subscribe_is_refused(mode: str | None) -> None:
    assert verify_subscription(mode, "tok", "123", "tok") is None


@pytest.mark.parametrize("token", ["my-verify-tokeN", "my-verify-token ", "my-verify", ""])
def test_wrong_verify_token_is_refused(token: str) -> None:
    assert verify_subscription("subscribe", token, "123", "my-verify-token") is None


def test_absent_token_is_refused() -> None:
    assert verify_subscription("subscribe", None, "123", "my-verify-token") is None


def test_absent_challenge_is_refused() -> None:
    assert verify_subscription("subscribe", "my-verify-token", None, "my-verify-token") is None
