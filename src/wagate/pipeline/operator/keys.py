"""Encryption keys (CP2): rotate (a new current key), re-seal everything with it, status; and
each tenant's data key: rotate it, list the keys, destroy them (crypto-shredding)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from wagate.domain.operators import Permission
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.ports import KeyStore
from wagate.pipeline.operator.recorder import Recorder

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    key_id: str
    keys: int
    location: str  # to back up again
    rewrapped: int = 0  # tenants' data keys now wrapped by the new key


@dataclass(frozen=True, slots=True, kw_only=True)
class DataKeyRotation:
    tenant: str
    key_id: str
    resealed: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Keys:
    store: KeyStore
    recorder: Recorder

    async def status(self, *, by: Actor) -> dict[str, int]:
        by.require(Permission.ADMINISTER)
        return await self.store.status()

    async def data_keys(self, *, by: Actor) -> list[dict[str, Any]]:
        by.require(Permission.ADMINISTER)
        return await self.store.data_keys()

    async def rotate(self, *, by: Actor) -> Rotation:
        """Old keys stay for reading until everything is re-sealed; running processes follow
        the key file within a second (so re-seal after that, or from a new process). The
        tenants' data keys are re-wrapped under the new key at once: content sealed under them
        needs no re-sealing."""
        by.require(Permission.ADMINISTER)
        if not self.store.rotatable:
            raise Rejected(
                "keys come from WAGATE_ENCRYPTION_KEYS: put a new id:base64 key first in that "
                "list, restart the processes, then run `wagate keys reseal`."
            )
        try:
            key_id, count = self.store.rotate()
        except ValueError as exc:  # another rotation is writing the key file
            raise Conflict(str(exc)) from exc
        rewrapped = await self.store.rewrap()
        # The key id is no secret, but it is random: the count says the same and compares.
        await self.recorder.record(by, "keys.rotated", None, keys=count, rewrapped=rewrapped)
        return Rotation(
            key_id=key_id, keys=count, location=self.store.location, rewrapped=rewrapped
        )

    async def reseal(self, *, by: Actor) -> dict[str, int]:
        by.require(Permission.ADMINISTER)
        counts = await self.store.reseal()
        await self.recorder.record(by, "keys.resealed", None, **counts)
        return counts

    async def rotate_data_key(self, tenant: str, *, by: Actor) -> DataKeyRotation:
        """A new data key for `tenant`, and the tenant's content re-sealed under it. Other
        processes open what it seals once they refresh their data keys."""
        by.require(Permission.ADMINISTER)
        key_id = await _translated(self.store.rotate_data_key(tenant), tenant)
        resealed = await _translated(self.store.reseal_tenant(tenant), tenant)
        await self.recorder.record(by, "keys.data_key_rotated", tenant, key=key_id, **resealed)
        return DataKeyRotation(tenant=tenant, key_id=key_id, resealed=resealed)

    async def shred(self, tenant: str, *, by: Actor) -> int:
        """Destroy `tenant`'s data keys: everything it stored becomes unreadable, for good.
        The audit chain keeps verifying (it hashes its own entries, never sealed content)."""
        by.require(Permission.ADMINISTER)
        destroyed = await _translated(self.store.shred(tenant), tenant)
        await self.recorder.record(by, "keys.shredded", tenant, keys=destroyed)
        return destroyed


async def _translated(call: Awaitable[T], tenant: str) -> T:
    try:
        return await call
    except LookupError as exc:
        raise NotFound(f"tenant {tenant!r} not found") from exc
    except RuntimeError as exc:  # no data keys on this gateway
        raise Rejected(str(exc)) from exc
    except ValueError as exc:  # the tenant was shredded
        raise Conflict(str(exc)) from exc
