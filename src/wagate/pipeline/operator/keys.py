"""Encryption keys (CP2): rotate (a new current key), re-seal everything with it, status."""

from __future__ import annotations

from dataclasses import dataclass

from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, Rejected
from wagate.pipeline.operator.ports import KeyStore
from wagate.pipeline.operator.recorder import Recorder


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    key_id: str
    keys: int
    location: str  # to back up again


@dataclass(frozen=True, slots=True, kw_only=True)
class Keys:
    store: KeyStore
    recorder: Recorder

    async def status(self) -> dict[str, int]:
        return await self.store.status()

    async def rotate(self, *, by: Actor) -> Rotation:
        """Old keys stay for reading until everything is re-sealed; running processes follow
        the key file within a second (so re-seal after that, or from a new process)."""
        if not self.store.rotatable:
            raise Rejected(
                "keys come from WAGATE_ENCRYPTION_KEYS: put a new id:base64 key first in that "
                "list, restart the processes, then run `wagate keys reseal`."
            )
        try:
            key_id, count = self.store.rotate()
        except ValueError as exc:  # another rotation is writing the key file
            raise Conflict(str(exc)) from exc
        # The key id is no secret, but it is random: the count says the same and compares.
        await self.recorder.record(by, "keys.rotated", None, keys=count)
        return Rotation(key_id=key_id, keys=count, location=self.store.location)

    async def reseal(self, *, by: Actor) -> dict[str, int]:
        counts = await self.store.reseal()
        await self.recorder.record(by, "keys.resealed", None, **counts)
        return counts
