"""AES-256-GCM sealing of sensitive columns (envelope versions 1 and 2) and the HMAC blind index.

Envelope versions 1 and 2 share one layout, byte by byte:

    version | key-id length n (1 byte, 1..32) | key id (n ASCII bytes) | nonce (12 random bytes)
            | AES-256-GCM ciphertext | tag (16 bytes)

Version 1 names a master key of the keyring (`AesGcmSealer`); version 2 names one of the
tenant's data keys (`wagate.security.tenant_sealer`). The AES key is `derive(material,
"aes-gcm")` of the named key (HKDF-SHA256, 32 bytes). The associated data is `b"wagate-seal"`
followed by the version byte and then key id, tenant, table and row key, each as a 4-byte
big-endian length and its UTF-8 bytes. Length prefixes make the
encoding unambiguous (`("ab", "c")` and `("a", "bc")` differ), so a value copied to another
tenant, table or row, or a header edited to name another key, fails authentication.
"""

from __future__ import annotations

import functools
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
DATA_KEY_VERSION = 2
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
        return seal_envelope(AES_GCM_VERSION, key_id, self._ciphers[key_id], plaintext, context)

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
        key_id, nonce, ciphertext = _parse_header(sealed, AES_GCM_VERSION)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnreadableEnvelope(
                f"envelope sealed with key id {key_id!r}, which is not in the keyring "
                f"(configured: {', '.join(self._keyring.ids)})"
            )
        return open_envelope(AES_GCM_VERSION, key_id, cipher, nonce, ciphertext, context)

    def needs_reseal(self, sealed: bytes, *, tenant: str | None = None) -> bool:
        """True for plaintext envelopes and those sealed with a key other than the current one;
        `UnreadableEnvelope` if the header is malformed. Only the header is read; `tenant` is
        not needed here (master keys are shared by every tenant)."""
        sealed = bytes(sealed)
        if sealed[:1] == bytes([PLAINTEXT_VERSION]):
            return True
        key_id, _, _ = _parse_header(sealed, AES_GCM_VERSION)
        return key_id != self._keyring.current.key_id

    def reseal(self, sealed: bytes, context: SealContext) -> bytes:
        """Open with whatever key sealed it and seal again with the current key (rotation)."""
        return self.seal(self.open(sealed, context), context)


def seal_envelope(
    version: int, key_id: str, cipher: AESGCM, plaintext: bytes, context: SealContext
) -> bytes:
    """An envelope of `version` (1 or 2) naming `key_id`, sealed with `cipher` for `context`."""
    id_bytes = key_id.encode("ascii")
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = cipher.encrypt(nonce, bytes(plaintext), _associated_data(version, key_id, context))
    return bytes([version, len(id_bytes)]) + id_bytes + nonce + ciphertext


def open_envelope(
    version: int,
    key_id: str,
    cipher: AESGCM,
    nonce: bytes,
    ciphertext: bytes,
    context: SealContext,
) -> bytes:
    try:
        return cipher.decrypt(nonce, ciphertext, _associated_data(version, key_id, context))
    except InvalidTag:
        raise UnreadableEnvelope(
            f"envelope sealed with key id {key_id!r} failed authentication: tampered, "
            f"truncated, or not sealed for {context.table} row of tenant {context.tenant}"
        ) from None


def envelope_version(sealed: bytes) -> int:
    if not sealed:
        raise UnreadableEnvelope("empty envelope")
    return sealed[0]


def parse_header(sealed: bytes) -> tuple[int, str, bytes, bytes]:
    """(version, key id, nonce, ciphertext) of a version 1 or 2 envelope."""
    version = envelope_version(sealed)
    if version not in (AES_GCM_VERSION, DATA_KEY_VERSION):
        raise UnreadableEnvelope(f"envelope version {version} is unknown to this gateway")
    return (version, *_parse_header(sealed, version))


def _parse_header(sealed: bytes, version: int) -> tuple[str, bytes, bytes]:
    if envelope_version(sealed) != version:
        raise UnreadableEnvelope(f"envelope version {sealed[0]} is unknown to this gateway")
    if len(sealed) < 2:
        raise UnreadableEnvelope(f"envelope version {version} is truncated before its key id")
    id_end = 2 + sealed[1]
    if len(sealed) < id_end + NONCE_BYTES + TAG_BYTES:
        raise UnreadableEnvelope(f"envelope version {version} is truncated")
    try:
        key_id = sealed[2:id_end].decode("ascii")
    except UnicodeDecodeError:
        key_id = ""
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise UnreadableEnvelope(f"envelope version {version} has a malformed key id")
    return key_id, sealed[id_end : id_end + NONCE_BYTES], sealed[id_end + NONCE_BYTES :]


def _associated_data(version: int, key_id: str, context: SealContext) -> bytes:
    key = context.key.encode("utf-8")
    return _aad_prefix(version, key_id, context.tenant, context.table) + _U32.pack(len(key)) + key


_U32 = struct.Struct(">I")


@functools.lru_cache(maxsize=4096)
def _aad_prefix(version: int, key_id: str, tenant: str, table: str) -> bytes:
    """Everything of the associated data but the row key: the same for every row of a table
    under one key, so built once (three envelopes are sealed for every webhook message)."""
    parts = [_AAD_LABEL, bytes([version])]
    for text in (key_id, tenant, table):
        encoded = text.encode("utf-8")
        parts.append(_U32.pack(len(encoded)) + encoded)
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
        self._hmac_keys = tuple(
            HmacKey(derive(key.material, BLIND_INDEX_PURPOSE)) for key in ordered
        )

    @property
    def index_key_id(self) -> str:
        return self._index_key_id

    def digest(self, value: str, *, purpose: str) -> str:
        """Hex HMAC-SHA256 of the normalised `value` under the index key."""
        return keyed_digest(self._hmac_keys[0], value, purpose)

    def digests(self, value: str, *, purpose: str) -> tuple[str, ...]:
        """The digest under every key in the ring, the index key's first: for lookups that
        must also match rows indexed under another key during a re-indexing migration."""
        return tuple(keyed_digest(key, value, purpose) for key in self._hmac_keys)


def normalise(value: str, purpose: str) -> str:
    """The form a value is indexed in, so equivalent spellings share a digest.

    All purposes: Unicode NFKC and surrounding whitespace removed. `phone`: only the digits
    (any script's decimal digits, as ASCII), so `+62 812-3456` and `628123456` match; callers
    should still pass the canonical form of `wagate.domain.phone`, which also resolves trunk
    prefixes such as `0812…`. A phone-purpose value containing `@` is a chat id (`…@g.us`)
    and is only case-folded. `email`: case-folded.
    """
    if purpose == "phone" and value.isascii() and value.isdigit():
        return value  # the canonical form callers pass: already what the rules below give
    text = unicodedata.normalize("NFKC", value).strip()
    if purpose == "phone" and "@" not in text:
        return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
    if purpose in {"phone", "email"}:
        # NFKC again: case folding can leave a decomposed form, and normalising must be stable.
        return unicodedata.normalize("NFKC", text.casefold()).strip()
    return text


class HmacKey:
    """An HMAC-SHA256 key with its padded-key hash states computed once: HMAC hashes
    `key ^ ipad` and `key ^ opad` as the first block of its two passes, and copying those
    states costs less than OpenSSL's per-call set-up (0.7 against 1.8 µs a digest; two or three
    are taken for every webhook message). Same output as `hmac.digest(key, message, sha256)`.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()  # as HMAC does with a long key
        padded = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_SHA256_BLOCK = 64


def keyed_digest(key: bytes | HmacKey, value: str, purpose: str) -> str:
    """Hex HMAC-SHA256 under `key` of the normalised `value`, `purpose` mixed in."""
    if not purpose:
        raise ValueError("a blind-index digest needs a purpose")
    normalised = normalise(value, purpose)
    if not normalised:
        raise ValueError(f"nothing to index: the {purpose} value is empty once normalised")
    label = purpose.encode("utf-8")
    message = _U32.pack(len(label)) + label + normalised.encode("utf-8")
    if isinstance(key, HmacKey):
        return key.hexdigest(message)  # hot: every webhook
    return hmac.digest(key, message, hashlib.sha256).hex()
