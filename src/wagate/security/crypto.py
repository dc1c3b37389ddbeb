"""AES-256-GCM sealing of sensitive columns (envelope version 1) and the HMAC blind index.

Envelope version 1, byte by byte:

    0x01 | key-id length n (1 byte, 1..32) | key id (n ASCII bytes) | nonce (12 random bytes)
         | AES-256-GCM ciphertext | tag (16 bytes)

The AES key is `derive(material, "aes-gcm")` of the named key (HKDF-SHA256, 32 bytes). The
associated data is `b"wagate-seal"` followed by the version byte and then key id, tenant, table
and row key, each as a 4-byte big-endian length and its UTF-8 bytes. Length prefixes make the
encoding unambiguous (`("ab", "c")` and `("a", "bc")` differ), so a value copied to another
tenant, table or row, or a header edited to name another key, fails authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wagate.security.keys import (
    AES_GCM_PURPOSE,
    BLIND_INDEX_PURPOSE,
    KEY_ID_PATTERN,
    Keyring,
    derive,
)
from wagate.security.sealing import PLAINTEXT_VERSION, SealContext, UnreadableEnvelope

AES_GCM_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_AAD_LABEL = b"wagate-seal"


class AesGcmSealer:
    """Seals with the keyring's current key; opens with any key in the ring.

    `accept_plaintext` (default True) lets `open` return version-0 envelopes as they are: rows
    written by `PlaintextSealer` before encryption was switched on must stay readable until
    `wagate keys rotate` reseals them. A version-0 envelope carries no authentication, so
    someone able to write to the database could plant one in place of a ciphertext; once a
    rotation has resealed every row, construct the sealer with `accept_plaintext=False` to
    refuse that downgrade.
    """

    def __init__(self, keyring: Keyring, *, accept_plaintext: bool = True) -> None:
        self._keyring = keyring
        self._accept_plaintext = accept_plaintext
        self._ciphers = {
            key.key_id: AESGCM(derive(key.material, AES_GCM_PURPOSE)) for key in keyring.keys
        }

    def seal(self, plaintext: bytes, context: SealContext) -> bytes:
        key_id = self._keyring.current.key_id
        id_bytes = key_id.encode("ascii")
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[key_id].encrypt(
            nonce, bytes(plaintext), _associated_data(key_id, context)
        )
        return bytes([AES_GCM_VERSION, len(id_bytes)]) + id_bytes + nonce + ciphertext

    def open(self, sealed: bytes, context: SealContext) -> bytes:
        """The plaintext, or `UnreadableEnvelope` if the bytes are not an envelope this sealer
        can authenticate for `context` (tampered, truncated, moved, or sealed with a key that
        is not in the ring)."""
        sealed = bytes(sealed)
        if sealed[:1] == bytes([PLAINTEXT_VERSION]):
            if not self._accept_plaintext:
                raise UnreadableEnvelope(
                    "envelope version 0 (plaintext) refused: this gateway accepts only "
                    "encrypted envelopes"
                )
            return sealed[1:]
        key_id, nonce, ciphertext = _parse_v1(sealed)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnreadableEnvelope(
                f"envelope sealed with key id {key_id!r}, which is not in the keyring "
                f"(configured: {', '.join(self._keyring.ids)})"
            )
        try:
            return cipher.decrypt(nonce, ciphertext, _associated_data(key_id, context))
        except InvalidTag:
            raise UnreadableEnvelope(
                f"envelope sealed with key id {key_id!r} failed authentication: tampered, "
                f"truncated, or not sealed for {context.table} row of tenant {context.tenant}"
            ) from None

    def needs_reseal(self, sealed: bytes) -> bool:
        """True for plaintext envelopes and those sealed with a key other than the current one;
        `UnreadableEnvelope` if the header is malformed. Only the header is read."""
        sealed = bytes(sealed)
        if sealed[:1] == bytes([PLAINTEXT_VERSION]):
            return True
        key_id, _, _ = _parse_v1(sealed)
        return key_id != self._keyring.current.key_id

    def reseal(self, sealed: bytes, context: SealContext) -> bytes:
        """Open with whatever key sealed it and seal again with the current key (rotation)."""
        return self.seal(self.open(sealed, context), context)


def _parse_v1(sealed: bytes) -> tuple[str, bytes, bytes]:
    if not sealed:
        raise UnreadableEnvelope("empty envelope")
    if sealed[0] != AES_GCM_VERSION:
        raise UnreadableEnvelope(f"envelope version {sealed[0]} is unknown to this gateway")
    if len(sealed) < 2:
        raise UnreadableEnvelope("envelope version 1 is truncated before its key id")
    id_end = 2 + sealed[1]
    if len(sealed) < id_end + NONCE_BYTES + TAG_BYTES:
        raise UnreadableEnvelope("envelope version 1 is truncated")
    try:
        key_id = sealed[2:id_end].decode("ascii")
    except UnicodeDecodeError:
        key_id = ""
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise UnreadableEnvelope("envelope version 1 has a malformed key id")
    return key_id, sealed[id_end : id_end + NONCE_BYTES], sealed[id_end + NONCE_BYTES :]


def _associated_data(key_id: str, context: SealContext) -> bytes:
    parts = [_AAD_LABEL, bytes([AES_GCM_VERSION])]
    for text in (key_id, context.tenant, context.table, context.key):
        encoded = text.encode("utf-8")
        parts.append(struct.pack(">I", len(encoded)) + encoded)
    return b"".join(parts)


class BlindIndex:
    """Keyed digests of lookup values (phone numbers, e-mail addresses) so rows can be found by
    them without storing them in clear: `WHERE phone_index = %(digest)s`.

    Which key: the index key must not change when a key is rotated in, or every stored digest
    would stop matching until the whole table was re-indexed. Rotation prepends keys, so the
    OLDEST key in the ring (the last one) is stable across rotations, and it is the default.
    A deployment that means to retire that key passes `index_key_id` to pin another one, runs
    lookups with `digests()` — one digest per key in the ring, the index key's first — so rows
    indexed under either key match (`WHERE phone_index = ANY(%(digests)s)`) while a job
    re-indexes them, and drops the old key only afterwards. Removing the oldest key without
    that migration silently changes the default index key: don't.

    The HMAC key is `derive(material, "blind-index")`, independent of the AES key of the same
    material. `purpose` names what is indexed; it is mixed into the HMAC so equal strings of
    different kinds never share a digest, and it selects the normalisation (`normalise`).
    """

    def __init__(self, keyring: Keyring, *, index_key_id: str | None = None) -> None:
        index_key = keyring.oldest if index_key_id is None else keyring.get(index_key_id)
        if index_key is None:
            raise ValueError(f"blind-index key id {index_key_id!r} is not in the keyring")
        self._index_key_id = index_key.key_id
        ordered = [index_key, *(key for key in keyring.keys if key is not index_key)]
        self._hmac_keys = tuple(derive(key.material, BLIND_INDEX_PURPOSE) for key in ordered)

    @property
    def index_key_id(self) -> str:
        return self._index_key_id

    def digest(self, value: str, *, purpose: str) -> str:
        """Hex HMAC-SHA256 of the normalised `value` under the index key."""
        return _hmac_hex(self._hmac_keys[0], value, purpose)

    def digests(self, value: str, *, purpose: str) -> tuple[str, ...]:
        """The digest under every key in the ring, the index key's first: for lookups that
        must also match rows indexed under another key during a re-indexing migration."""
        return tuple(_hmac_hex(key, value, purpose) for key in self._hmac_keys)


def normalise(value: str, purpose: str) -> str:
    """The form a value is indexed in, so equivalent spellings share a digest.

    All purposes: Unicode NFKC and surrounding whitespace removed. `phone`: only the digits
    (any script's decimal digits, as ASCII), so `+62 812-3456` and `628123456` match; callers
    should still pass the canonical form of `wagate.domain.phone`, which also resolves trunk
    prefixes such as `0812…`. A phone-purpose value containing `@` is a chat id (`…@g.us`)
    and is only case-folded. `email`: case-folded.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if purpose == "phone" and "@" not in text:
        return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
    if purpose in {"phone", "email"}:
        # NFKC again: case folding can leave a decomposed form, and normalising must be stable.
        return unicodedata.normalize("NFKC", text.casefold()).strip()
    return text


def _hmac_hex(key: bytes, value: str, purpose: str) -> str:
    if not purpose:
        raise ValueError("a blind-index digest needs a purpose")
    normalised = normalise(value, purpose)
    if not normalised:
        raise ValueError(f"nothing to index: the {purpose} value is empty once normalised")
    label = purpose.encode("utf-8")
    message = struct.pack(">I", len(label)) + label + normalised.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
