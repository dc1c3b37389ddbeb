"""Per-tenant data keys (envelope encryption) and how they are wrapped by a master key.

Each tenant seals its content under its own random 256-bit data key (a DEK). The DEK is stored
only wrapped (AES-256-GCM) under a master key of the keyring, so rotating the master re-wraps
the DEKs and leaves the content alone, and destroying a tenant's wrapped DEKs makes everything
it sealed unreadable at once (crypto-shredding).

DEK ids are `d1`, `d2`, … — the tenant's key generation. Being deterministic, two processes
creating a tenant's first key at once both try to insert `d1`, and the database keeps exactly
one (see `wagate.storage.tenant_keys`). The id is unique per tenant only; an envelope names it
and the tenant comes from the `SealContext`, which is bound as associated data.

A wrapped DEK, byte by byte: nonce (12 random bytes) | AES-256-GCM ciphertext of the 32-byte
key | tag (16 bytes), under `derive(master, "key-wrap")`, with the associated data
`b"wagate-data-key"` then master key id, tenant and DEK id, each length-prefixed: a wrapped key
copied to another tenant or id, or relabelled as wrapped by another master, does not unwrap.
"""

from __future__ import annotations

import os
import re
import secrets
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wagate.security.keys import KEY_BYTES, Key, KeyringError, derive

WRAP_PURPOSE = "key-wrap"
_WRAP_LABEL = b"wagate-data-key"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_DATA_KEY_ID = re.compile(r"d([1-9][0-9]{0,8})")


class UnwrapFailed(KeyringError):
    """A wrapped data key does not authenticate under the master key that supposedly wraps it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataKey:
    """One tenant's data key. `material` is left out of the repr on purpose."""

    tenant: str
    key_id: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.tenant:
            raise KeyringError("a data key needs a tenant")
        if generation_of(self.key_id) is None:
            raise KeyringError(f"data key id {self.key_id!r} is not of the form d<generation>")
        if len(self.material) != KEY_BYTES:
            raise KeyringError(f"data key {self.key_id!r} of {self.tenant!r} is not 32 bytes")

    @property
    def generation(self) -> int:
        generation = generation_of(self.key_id)
        assert generation is not None  # checked on construction
        return generation


def data_key_id(generation: int) -> str:
    if generation < 1:
        raise ValueError("data key generations start at 1")
    return f"d{generation}"


def generation_of(key_id: str) -> int | None:
    """The generation a DEK id names, or None if `key_id` is not a DEK id."""
    match = _DATA_KEY_ID.fullmatch(key_id)
    return int(match.group(1)) if match else None


def new_data_key(tenant: str, generation: int) -> DataKey:
    """A fresh random 256-bit key for `tenant`'s `generation`."""
    return DataKey(
        tenant=tenant, key_id=data_key_id(generation), material=secrets.token_bytes(KEY_BYTES)
    )


def wrap(key: DataKey, master: Key) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    cipher = AESGCM(derive(master.material, WRAP_PURPOSE))
    return nonce + cipher.encrypt(nonce, key.material, _wrap_aad(master.key_id, key))


def unwrap(tenant: str, key_id: str, wrapped: bytes, master: Key) -> DataKey:
    """The DEK `wrapped` holds; `UnwrapFailed` if it was not wrapped by `master` for this
    tenant and id (tampered, moved, or the row names the wrong master)."""
    wrapped = bytes(wrapped)
    placeholder = DataKey(tenant=tenant, key_id=key_id, material=bytes(KEY_BYTES))
    if len(wrapped) != _NONCE_BYTES + KEY_BYTES + _TAG_BYTES:
        raise UnwrapFailed(f"wrapped data key {key_id!r} of tenant {tenant!r} has a bad length")
    cipher = AESGCM(derive(master.material, WRAP_PURPOSE))
    try:
        material = cipher.decrypt(
            wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], _wrap_aad(master.key_id, placeholder)
        )
    except InvalidTag:
        raise UnwrapFailed(
            f"wrapped data key {key_id!r} of tenant {tenant!r} does not unwrap under master key "
            f"{master.key_id!r}"
        ) from None
    return DataKey(tenant=tenant, key_id=key_id, material=material)


def _wrap_aad(master_id: str, key: DataKey) -> bytes:
    parts = [_WRAP_LABEL]
    for text in (master_id, key.tenant, key.key_id):
        encoded = text.encode("utf-8")
        parts.append(struct.pack(">I", len(encoded)) + encoded)
    return b"".join(parts)
