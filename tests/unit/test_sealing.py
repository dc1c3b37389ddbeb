"""CP2: sensitive values are written as versioned envelopes; version 0 is plaintext, and an
envelope of a version this gateway has no key for is refused, never returned as if plaintext."""

from __future__ import annotations

import pytest

from wagate.security.sealing import (
    PLAINTEXT_VERSION,
    PlaintextSealer,
    SealContext,
    UnreadableEnvelope,
)

CONTEXT = SealContext(tenant="default", table="messages", key="wamid.TEST_0001")
SEALER = PlaintextSealer()


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"Halo, saya mau tanya harga paket.", "Halo é 👍".encode(), bytes(range(256)), b"\x00"],
    ids=["empty", "ascii", "utf8", "all-bytes", "nul"],
)
def test_round_trip_returns_the_original_bytes(plaintext: bytes) -> None:
    sealed = SEALER.seal(plaintext, CONTEXT)
    assert SEALER.open(sealed, CONTEXT) == plaintext


def test_envelope_starts_with_version_byte_zero() -> None:
    sealed = SEALER.seal(b"abc", CONTEXT)
    assert PLAINTEXT_VERSION == 0
    assert sealed[0] == 0
    assert sealed == b"\x00abc"


@pytest.mark.parametrize("version", [1, 2, 255])
def test_opening_an_envelope_of_another_version_raises(version: int) -> None:
    envelope = bytes([version]) + b"\x8f" * 28  # e.g. an AES-GCM nonce + ciphertext + tag
    with pytest.raises(UnreadableEnvelope, match=f"version {version}"):
        SEALER.open(envelope, CONTEXT)


def test_opening_empty_bytes_raises() -> None:
    with pytest.raises(UnreadableEnvelope):
        SEALER.open(b"", CONTEXT)
