"""AES-256-GCM envelopes (version 1) bound to tenant, table and row; legacy plaintext (version 0)
still readable unless refused; rotation by key id; and a blind index stable across rotations."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from wagate.security import crypto as crypto_module
from wagate.security.crypto import AesGcmSealer, BlindIndex, HmacKey, keyed_digest, normalise
from wagate.security.keys import Key, Keyring, derive
from wagate.security.sealing import PlaintextSealer, SealContext, UnreadableEnvelope

OLD = Key(key_id="k-old", material=bytes(range(32)))
NEW = Key(key_id="k-new", material=bytes(range(100, 132)))
OLD_RING = Keyring(keys=(OLD,))
ROTATED_RING = Keyring(keys=(NEW, OLD))
CONTEXT = SealContext(tenant="default", table="messages", key="wamid.TEST_0001")
SECRET = b"Halo, nomor saya 6281234567890, alamat Jl. Merdeka 1"


def _sealer(ring: Keyring = OLD_RING, *, accept_plaintext: bool = True) -> AesGcmSealer:
    return AesGcmSealer(ring, accept_plaintext=accept_plaintext)


# --- round trip and envelope layout --------------------------------------------------------


@given(
    plaintext=st.binary(max_size=2048),
    tenant=st.text(min_size=1, max_size=20),
    table=st.text(min_size=1, max_size=20),
    key=st.text(max_size=40),
)
def test_round_trip_returns_the_original_bytes(
    plaintext: bytes, tenant: str, table: str, key: str
) -> None:
    context = SealContext(tenant=tenant, table=table, key=key)
    sealer = _sealer()
    assert sealer.open(sealer.seal(plaintext, context), context) == plaintext


def test_envelope_layout_is_version_key_id_nonce_and_aes256_gcm_ciphertext() -> None:
    sealed = _sealer().seal(SECRET, CONTEXT)
    assert sealed[0] == 1
    id_length = sealed[1]
    assert sealed[2 : 2 + id_length] == b"k-old"
    nonce = sealed[2 + id_length : 2 + id_length + 12]
    ciphertext = sealed[2 + id_length + 12 :]
    assert len(ciphertext) == len(SECRET) + 16  # GCM tag
    aad = b"wagate-seal\x01" + b"".join(
        struct.pack(">I", len(field.encode())) + field.encode()
        for field in ("k-old", CONTEXT.tenant, CONTEXT.table, CONTEXT.key)
    )
    aes_key = derive(OLD.material, "aes-gcm")
    assert len(aes_key) == 32
    assert AESGCM(aes_key).decrypt(nonce, ciphertext, aad) == SECRET


def test_the_cipher_is_aes_gcm_with_a_256_bit_derived_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lengths: list[int] = []

    def spy_aesgcm(key: bytes) -> AESGCM:
        lengths.append(len(key))
        assert key not in (OLD.material, NEW.material)  # a sub-key, not the raw material
        return AESGCM(key)

    monkeypatch.setattr(crypto_module, "AESGCM", spy_aesgcm)
    sealer = _sealer(ROTATED_RING)
    assert sealer.open(sealer.seal(SECRET, CONTEXT), CONTEXT) == SECRET
    assert lengths == [32, 32]


def test_each_seal_uses_a_fresh_nonce_so_equal_plaintexts_differ() -> None:
    sealer = _sealer()
    envelopes = {sealer.seal(SECRET, CONTEXT) for _ in range(50)}
    assert len(envelopes) == 50
    header = 2 + len(b"k-old")
    assert len({envelope[header : header + 12] for envelope in envelopes}) == 50


def test_the_envelope_contains_no_piece_of_the_plaintext() -> None:
    sealed = _sealer().seal(SECRET, CONTEXT)
    for start in range(len(SECRET) - 4):
        assert SECRET[start : start + 5] not in sealed
    assert b"6281234567890" not in sealed


# --- binding and tampering -----------------------------------------------------------------


@pytest.mark.parametrize(
    "elsewhere",
    [
        SealContext(tenant="other", table="messages", key="wamid.TEST_0001"),
        SealContext(tenant="default", table="outbound", key="wamid.TEST_0001"),
        SealContext(tenant="default", table="messages", key="wamid.TEST_0002"),
        # Length prefixes: shifting characters between fields is another context.
        SealContext(tenant="defaultm", table="essages", key="wamid.TEST_0001"),
        SealContext(tenant="default", table="messageswamid.TEST_0001", key=""),
    ],
    ids=["tenant", "table", "row", "shifted-tenant", "shifted-key"],
)
def test_a_value_moved_to_another_tenant_table_or_row_does_not_open(
    elsewhere: SealContext,
) -> None:
    sealer = _sealer()
    sealed = sealer.seal(SECRET, CONTEXT)
    with pytest.raises(UnreadableEnvelope, match="failed authentication"):
        sealer.open(sealed, elsewhere)


def test_flipping_any_bit_makes_the_envelope_unreadable() -> None:
    strict, lenient = _sealer(accept_plaintext=False), _sealer()
    sealed = strict.seal(b"hello", CONTEXT)
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(UnreadableEnvelope):
                strict.open(bytes(tampered), CONTEXT)
            if tampered[0] == 0:
                # Version byte flipped to 0 reads as legacy plaintext: the downgrade that
                # accept_plaintext=False exists to refuse. It never yields the secret.
                assert lenient.open(bytes(tampered), CONTEXT) != b"hello"
                continue
            with pytest.raises(UnreadableEnvelope):
                lenient.open(bytes(tampered), CONTEXT)


def test_a_truncated_envelope_is_unreadable() -> None:
    sealer = _sealer()
    sealed = sealer.seal(SECRET, CONTEXT)
    for length in range(len(sealed)):
        with pytest.raises(UnreadableEnvelope):
            sealer.open(sealed[:length], CONTEXT)


def test_an_authentication_failure_does_not_leak_the_cryptography_exception() -> None:
    sealer = _sealer()
    sealed = bytearray(sealer.seal(SECRET, CONTEXT))
    sealed[-1] ^= 1
    with pytest.raises(UnreadableEnvelope) as raised:
        sealer.open(bytes(sealed), CONTEXT)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True
    assert "InvalidTag" not in repr(raised.value)


@pytest.mark.parametrize(
    "envelope",
    [
        b"\x01\x00" + b"\x00" * 28,
        b"\x01\x05k-\xffld" + b"\x00" * 28,
        b"\x01\x05k old" + b"\x00" * 28,
    ],
    ids=["empty-id", "non-ascii-id", "invalid-id"],
)
def test_a_malformed_key_id_is_unreadable(envelope: bytes) -> None:
    with pytest.raises(UnreadableEnvelope, match="malformed key id"):
        _sealer().open(envelope, CONTEXT)
    with pytest.raises(UnreadableEnvelope, match="malformed key id"):
        _sealer().needs_reseal(envelope)


@pytest.mark.parametrize("version", [2, 255])
def test_an_unknown_envelope_version_is_unreadable(version: int) -> None:
    with pytest.raises(UnreadableEnvelope, match=f"version {version}"):
        _sealer().open(bytes([version]) + b"\x8f" * 40, CONTEXT)


# --- legacy plaintext ----------------------------------------------------------------------


def test_version_0_rows_written_before_encryption_still_open() -> None:
    legacy = PlaintextSealer().seal(SECRET, CONTEXT)
    sealer = _sealer()
    assert sealer.open(legacy, CONTEXT) == SECRET
    assert sealer.open(b"\x00", CONTEXT) == b""
    assert sealer.needs_reseal(legacy) is True


def test_version_0_is_refused_when_plaintext_is_not_accepted() -> None:
    legacy = PlaintextSealer().seal(SECRET, CONTEXT)
    with pytest.raises(UnreadableEnvelope, match="version 0"):
        _sealer(accept_plaintext=False).open(legacy, CONTEXT)


def test_the_plaintext_sealer_refuses_encrypted_envelopes() -> None:
    sealed = _sealer().seal(SECRET, CONTEXT)
    with pytest.raises(UnreadableEnvelope, match="version 1"):
        PlaintextSealer().open(sealed, CONTEXT)


def test_empty_bytes_are_unreadable() -> None:
    with pytest.raises(UnreadableEnvelope):
        _sealer().open(b"", CONTEXT)
    with pytest.raises(UnreadableEnvelope):
        _sealer().needs_reseal(b"")


# --- rotation ------------------------------------------------------------------------------


def test_after_rotation_old_envelopes_open_and_are_flagged_for_resealing() -> None:
    old_envelope = _sealer(OLD_RING).seal(SECRET, CONTEXT)
    rotated = _sealer(ROTATED_RING)
    assert rotated.open(old_envelope, CONTEXT) == SECRET
    assert rotated.needs_reseal(old_envelope) is True

    resealed = rotated.reseal(old_envelope, CONTEXT)
    assert resealed[2 : 2 + resealed[1]] == b"k-new"
    assert rotated.needs_reseal(resealed) is False
    assert rotated.open(resealed, CONTEXT) == SECRET
    assert rotated.needs_reseal(rotated.seal(SECRET, CONTEXT)) is False


def test_resealing_a_legacy_row_encrypts_it() -> None:
    rotated = _sealer(ROTATED_RING)
    resealed = rotated.reseal(PlaintextSealer().seal(SECRET, CONTEXT), CONTEXT)
    assert resealed[0] == 1
    assert SECRET not in resealed
    assert _sealer(ROTATED_RING, accept_plaintext=False).open(resealed, CONTEXT) == SECRET


def test_an_envelope_of_a_key_not_in_the_ring_names_that_key() -> None:
    sealed = _sealer(ROTATED_RING).seal(SECRET, CONTEXT)
    with pytest.raises(UnreadableEnvelope, match="key id 'k-new', which is not in the keyring"):
        _sealer(OLD_RING).open(sealed, CONTEXT)


def test_the_same_id_with_other_material_fails_authentication() -> None:
    impostor = Keyring(keys=(Key(key_id="k-old", material=NEW.material),))
    sealed = _sealer(OLD_RING).seal(SECRET, CONTEXT)
    with pytest.raises(UnreadableEnvelope, match="failed authentication"):
        _sealer(impostor).open(sealed, CONTEXT)


# --- blind index ---------------------------------------------------------------------------


def test_the_same_value_always_gives_the_same_hex_digest() -> None:
    index = BlindIndex(OLD_RING)
    digest = index.digest("6281234567890", purpose="phone")
    assert digest == BlindIndex(OLD_RING).digest("6281234567890", purpose="phone")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest != index.digest("6281234567891", purpose="phone")


def test_the_digest_is_hmac_sha256_under_the_derived_blind_index_key() -> None:
    key = derive(OLD.material, "blind-index")
    expected = hmac.new(key, b"\x00\x00\x00\x05phone6281234567890", hashlib.sha256).hexdigest()
    assert BlindIndex(OLD_RING).digest("6281234567890", purpose="phone") == expected
    unkeyed = hashlib.sha256(b"6281234567890").hexdigest()
    assert expected != unkeyed


@pytest.mark.parametrize(
    ("purpose", "spellings"),
    [
        (
            "phone",
            [
                "6281234567890",
                "+62 812-3456-7890",
                " (62) 812.3456.7890 ",
                "６２８１２３４５６７８９０",
            ],
        ),
        ("email", ["Budi@Example.COM", " budi@example.com ", "BUDI@EXAMPLE.COM"]),
        ("phone", ["120363000000000001@g.us", "120363000000000001@G.US"]),
    ],
    ids=["phone", "email", "group-chat-id"],
)
def test_equivalent_spellings_share_a_digest(purpose: str, spellings: list[str]) -> None:
    index = BlindIndex(OLD_RING)
    assert len({index.digest(spelling, purpose=purpose) for spelling in spellings}) == 1


def test_a_group_chat_id_is_not_confused_with_the_number_of_its_digits() -> None:
    index = BlindIndex(OLD_RING)
    assert index.digest("120363000000000001@g.us", purpose="phone") != index.digest(
        "120363000000000001", purpose="phone"
    )


def test_different_purposes_give_different_digests() -> None:
    index = BlindIndex(OLD_RING)
    assert index.digest("budi", purpose="email") != index.digest("budi", purpose="username")
    assert index.digest("628123", purpose="phone") != index.digest("628123", purpose="other")


def test_the_index_is_stable_across_a_rotation_because_it_uses_the_oldest_key() -> None:
    before = BlindIndex(OLD_RING)
    after = BlindIndex(ROTATED_RING)
    assert after.index_key_id == "k-old"
    assert after.digest("6281234567890", purpose="phone") == before.digest(
        "6281234567890", purpose="phone"
    )
    assert BlindIndex(Keyring(keys=(NEW,))).digest(
        "6281234567890", purpose="phone"
    ) != before.digest("6281234567890", purpose="phone")


def test_digests_cover_every_key_with_the_index_key_first() -> None:
    index = BlindIndex(ROTATED_RING)
    digests = index.digests("6281234567890", purpose="phone")
    assert len(digests) == 2
    assert digests[0] == index.digest("6281234567890", purpose="phone")
    assert digests[1] == BlindIndex(Keyring(keys=(NEW,))).digest("6281234567890", purpose="phone")


def test_a_pinned_index_key_matches_rows_indexed_under_the_old_one_via_digests() -> None:
    old_digest = BlindIndex(OLD_RING).digest("budi@example.com", purpose="email")
    pinned = BlindIndex(ROTATED_RING, index_key_id="k-new")
    assert pinned.index_key_id == "k-new"
    assert pinned.digest("budi@example.com", purpose="email") != old_digest
    assert old_digest in pinned.digests("budi@example.com", purpose="email")
    with pytest.raises(ValueError, match="'k-gone' is not in the keyring"):
        BlindIndex(ROTATED_RING, index_key_id="k-gone")


@pytest.mark.parametrize(
    ("value", "purpose"), [("", "email"), ("  ", "email"), ("abc", "phone"), ("x", "")]
)
def test_nothing_to_index_is_an_error(value: str, purpose: str) -> None:
    with pytest.raises(ValueError):
        BlindIndex(OLD_RING).digest(value, purpose=purpose)


@given(st.text())
def test_phone_normalisation_keeps_only_ascii_digits_and_is_idempotent(value: str) -> None:
    normalised = normalise(value, "phone")
    if "@" not in normalised:
        assert normalised == "" or (normalised.isascii() and normalised.isdigit())
    assert normalise(normalised, "phone") == normalised


@given(key=st.binary(max_size=130), message=st.binary(max_size=200))
def test_a_prepared_hmac_key_gives_hmac_sha256(key: bytes, message: bytes) -> None:
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    prepared = HmacKey(key)
    assert prepared.hexdigest(message) == expected
    assert prepared.hexdigest(message) == expected  # its states are copied, never consumed


def test_keyed_digest_is_the_same_with_a_prepared_key() -> None:
    key = derive(OLD.material, "blind-index")
    for purpose, value in (("phone", "6281234567890"), ("contact", "u-1"), ("email", "A@b.c")):
        assert keyed_digest(HmacKey(key), value, purpose) == keyed_digest(key, value, purpose)
