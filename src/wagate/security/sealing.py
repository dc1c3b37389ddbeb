"""The seam for encryption at rest (CP2).

Every sensitive column is written through a `Sealer` as a self-describing envelope whose first
byte is its version. Version 0 is plaintext; the AES-256-GCM sealer adds version 1 (under a master
key) and version 2 (under the tenant's own data key) without a schema change, and rows written
before either stay readable until `wagate keys rotate` reseals them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PLAINTEXT_VERSION = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SealContext:
    """What a sealed value belongs to; AES-GCM binds it as associated data, so a value copied
    to another tenant, table or row fails to open."""

    tenant: str
    table: str
    key: str


class Sealer(Protocol):
    def seal(self, plaintext: bytes, context: SealContext) -> bytes: ...

    def open(self, sealed: bytes, context: SealContext) -> bytes: ...

    def needs_reseal(self, sealed: bytes, *, tenant: str | None = None) -> bool:
        """Sealed with anything but the current key (rotation). `tenant` is the tenant the value
        belongs to: a sealer with a data key per tenant needs it to know which key is current."""

    def reseal(self, sealed: bytes, context: SealContext) -> bytes: ...


class UnreadableEnvelope(ValueError):
    """The stored bytes are not an envelope this gateway can open."""


class ShreddedTenant(UnreadableEnvelope):
    """The tenant's data keys were destroyed (crypto-shredding): what it sealed is gone."""


class PlaintextSealer:
    """Version 0: no encryption yet, but the same envelope shape as the encrypted versions."""

    def seal(self, plaintext: bytes, context: SealContext) -> bytes:
        return bytes([PLAINTEXT_VERSION]) + plaintext

    def open(self, sealed: bytes, context: SealContext) -> bytes:
        if not sealed or sealed[0] != PLAINTEXT_VERSION:
            version = sealed[0] if sealed else None
            raise UnreadableEnvelope(f"envelope version {version} needs a key this gateway lacks")
        return bytes(sealed[1:])

    def needs_reseal(self, sealed: bytes, *, tenant: str | None = None) -> bool:
        return False  # nothing to rotate to

    def reseal(self, sealed: bytes, context: SealContext) -> bytes:
        return sealed
