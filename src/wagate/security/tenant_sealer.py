"""Sealing under each tenant's own data key (envelope version 2), and its blind index.

`TenantSealer` implements the `Sealer` protocol: `seal` uses the current data key of
`context.tenant` (envelope version 2, naming that key); `open` reads version 2 with the tenant's
keys and hands versions 0 and 1 (plaintext, and sealed directly under a master key by installs
before per-tenant keys) to the master sealer, so nothing has to be migrated before it runs;
`wagate keys reseal` then moves them to version 2.

`seal` and `open` run on hot paths and are synchronous, so the data keys are held here already
unwrapped; `wagate.storage.tenant_keys.TenantKeys` loads them from the database and installs
them (`install`), and forgets them when a tenant is shredded (`shred`). A tenant whose keys are
not installed cannot seal: that is a wiring error and fails loudly (`DataKeyNotLoaded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wagate.security.crypto import (
    DATA_KEY_VERSION,
    HmacKey,
    envelope_version,
    keyed_digest,
    open_envelope,
    parse_header,
    seal_envelope,
)
from wagate.security.data_keys import DataKey
from wagate.security.keys import AES_GCM_PURPOSE, BLIND_INDEX_PURPOSE, derive
from wagate.security.sealing import (
    PLAINTEXT_VERSION,
    SealContext,
    Sealer,
    ShreddedTenant,
    UnreadableEnvelope,
)


class DataKeyNotLoaded(LookupError):
    """Sealing or indexing for a tenant whose data keys this process has not loaded."""


class UnknownDataKey(UnreadableEnvelope):
    """An envelope names a data key of its tenant that this process has not loaded (yet)."""


class MasterIndex(Protocol):
    def digest(self, value: str, *, purpose: str) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantRing:
    """One tenant's live data keys, newest generation first: `keys[0]` seals, every key opens.

    `master_index`: the tenant's lookup digests are under the master-derived blind index (its
    data predates per-tenant keys, or it is the install's original tenant); otherwise they are
    under an index key derived from its oldest data key, which, like the master index's oldest
    key, never changes while the tenant lives — and dies with it when it is shredded.
    """

    tenant: str
    keys: tuple[DataKey, ...]
    master_index: bool

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError(f"tenant {self.tenant!r} has no data key")
        if any(key.tenant != self.tenant for key in self.keys):
            raise ValueError(f"a data key of another tenant is in the ring of {self.tenant!r}")
        generations = [key.generation for key in self.keys]
        if generations != sorted(set(generations), reverse=True):
            raise ValueError(f"the data keys of {self.tenant!r} must be newest first, no repeats")

    @property
    def current(self) -> DataKey:
        return self.keys[0]

    @property
    def oldest(self) -> DataKey:
        return self.keys[-1]


@dataclass(frozen=True, slots=True)
class _Loaded:
    current: str
    ciphers: dict[str, AESGCM]
    index_key: HmacKey | None  # None: the master-derived index


def _load(ring: TenantRing) -> _Loaded:
    return _Loaded(
        current=ring.current.key_id,
        ciphers={key.key_id: AESGCM(derive(key.material, AES_GCM_PURPOSE)) for key in ring.keys},
        index_key=(
            None
            if ring.master_index
            else HmacKey(derive(ring.oldest.material, BLIND_INDEX_PURPOSE))
        ),
    )


class TenantSealer:
    """Seals by `context.tenant` under that tenant's current data key; opens versions 0 and 1
    through `masters` (the master-key sealer the install used before)."""

    def __init__(self, masters: Sealer, master_index: MasterIndex) -> None:
        self._masters = masters
        self._master_index = master_index
        self._loaded: dict[str, _Loaded] = {}
        self._shredded: set[str] = set()

    # --- what TenantKeys maintains -------------------------------------------------------

    def install(self, ring: TenantRing) -> None:
        """Make `ring` the tenant's keys (replacing what was installed)."""
        loaded = _load(ring)
        self._shredded.discard(ring.tenant)
        self._loaded[ring.tenant] = loaded

    def shred(self, tenant: str) -> None:
        """Forget the tenant's keys: from now on its version-2 envelopes raise `ShreddedTenant`."""
        self._shredded.add(tenant)
        self._loaded.pop(tenant, None)

    def loaded(self, tenant: str) -> bool:
        return tenant in self._loaded

    def shredded(self, tenant: str) -> bool:
        return tenant in self._shredded

    def current_key_id(self, tenant: str) -> str:
        return self._keys_of(tenant).current

    def _keys_of(self, tenant: str) -> _Loaded:
        loaded = self._loaded.get(tenant)
        if loaded is not None:
            return loaded
        if tenant in self._shredded:
            raise ShreddedTenant(f"tenant {tenant!r} was erased: its data keys are destroyed")
        raise DataKeyNotLoaded(
            f"no data key is loaded for tenant {tenant!r}: TenantKeys.ensure({tenant!r}) must "
            f"run before the tenant's services are built"
        )

    # --- the Sealer protocol -------------------------------------------------------------

    def seal(self, plaintext: bytes, context: SealContext) -> bytes:
        loaded = self._keys_of(context.tenant)
        cipher = loaded.ciphers[loaded.current]
        return seal_envelope(DATA_KEY_VERSION, loaded.current, cipher, plaintext, context)

    def open(self, sealed: bytes, context: SealContext) -> bytes:
        """The plaintext, or `UnreadableEnvelope`: `ShreddedTenant` when the tenant's keys were
        destroyed, `UnknownDataKey` when the envelope names a key not loaded here."""
        sealed = bytes(sealed)
        if context.tenant in self._shredded:
            # Also what was never moved to the data key: an erased tenant's data is not served.
            raise ShreddedTenant(
                f"tenant {context.tenant!r} was erased: its data keys are destroyed"
            )
        if envelope_version(sealed) != DATA_KEY_VERSION:
            return self._masters.open(sealed, context)
        _, key_id, nonce, ciphertext = parse_header(sealed)
        try:
            loaded = self._keys_of(context.tenant)
        except DataKeyNotLoaded as missing:
            raise UnknownDataKey(str(missing)) from None
        cipher = loaded.ciphers.get(key_id)
        if cipher is None:
            raise UnknownDataKey(
                f"envelope sealed with data key {key_id!r} of tenant {context.tenant!r}, which "
                f"is not loaded here (loaded: {', '.join(sorted(loaded.ciphers))}; a key "
                f"created by another process appears after the next refresh)"
            )
        return open_envelope(DATA_KEY_VERSION, key_id, cipher, nonce, ciphertext, context)

    def needs_reseal(self, sealed: bytes, *, tenant: str | None = None) -> bool:
        """True for versions 0 and 1 (not yet under a data key) and for version 2 under a data
        key other than the tenant's current one. Only the header is read."""
        sealed = bytes(sealed)
        if envelope_version(sealed) == PLAINTEXT_VERSION:
            return True
        version, key_id, _, _ = parse_header(sealed)  # a malformed header is an error
        if version != DATA_KEY_VERSION:
            return True
        if tenant is None:
            raise ValueError("a version 2 envelope needs its tenant to tell its current key")
        return key_id != self.current_key_id(tenant)

    def reseal(self, sealed: bytes, context: SealContext) -> bytes:
        """Open with whatever key sealed it and seal again with the tenant's current data key."""
        return self.seal(self.open(sealed, context), context)

    # --- the blind index -----------------------------------------------------------------

    def indexer_for(self, tenant: str) -> TenantIndexer:
        return TenantIndexer(self, tenant)

    def digest(self, tenant: str, value: str, *, purpose: str) -> str:
        index_key = self._keys_of(tenant).index_key
        if index_key is None:
            return self._master_index.digest(value, purpose=purpose)
        return keyed_digest(index_key, value, purpose)


class TenantIndexer:
    """One tenant's blind index (the `Indexer` protocol), resolved at each call so keys loaded
    or shredded later take effect."""

    def __init__(self, sealer: TenantSealer, tenant: str) -> None:
        self._sealer = sealer
        self._tenant = tenant

    @property
    def tenant(self) -> str:
        return self._tenant

    def digest(self, value: str, *, purpose: str) -> str:
        return self._sealer.digest(self._tenant, value, purpose=purpose)
