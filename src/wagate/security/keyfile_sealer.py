"""Master keys that follow their key file, and a sealer over them: after `wagate keys rotate`
adds a key, every running web and worker process seals with it and can open what others sealed
with it, without a restart. The file is checked at most once a second (one stat), and at once
when an envelope or a wrapped data key names a key this process has not loaded yet."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from wagate.security.crypto import AesGcmSealer
from wagate.security.keys import Keyring, read_keyfile
from wagate.security.sealing import SealContext, UnreadableEnvelope

CHECK_EVERY_SECONDS = 1.0


class MasterKeys(Protocol):
    def ring(self, *, force: bool = False) -> Keyring:
        """The master keyring as it is now; `force` re-reads its source at once (a key was
        named that is not in the ring)."""
        ...


class FixedKeyring:
    """Master keys from `WAGATE_ENCRYPTION_KEYS`: only a restart changes them."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def ring(self, *, force: bool = False) -> Keyring:
        return self._keyring


class KeyfileKeyring:
    """Master keys from a key file that another process (`wagate keys rotate`) may replace."""

    def __init__(self, path: Path, keyring: Keyring) -> None:
        self._path = path
        self._keyring = keyring
        self._mtime = self._stat()
        self._checked = time.monotonic()

    def _stat(self) -> float:
        try:
            return self._path.stat().st_mtime
        except OSError:
            return 0.0

    def ring(self, *, force: bool = False) -> Keyring:
        now = time.monotonic()
        if force or now - self._checked >= CHECK_EVERY_SECONDS:
            self._checked = now
            mtime = self._stat()
            if mtime != self._mtime:
                self._keyring = read_keyfile(self._path)
                self._mtime = mtime
        return self._keyring


class MasterSealer:
    """Seals with the current master key (envelope version 1) of keys that may change."""

    def __init__(self, masters: MasterKeys) -> None:
        self._masters = masters
        self._ring = masters.ring()
        self._sealer = AesGcmSealer(self._ring)

    def _current(self, *, force: bool = False) -> AesGcmSealer:
        ring = self._masters.ring(force=force)
        if ring is not self._ring:
            self._ring, self._sealer = ring, AesGcmSealer(ring)
        return self._sealer

    def seal(self, plaintext: bytes, context: SealContext) -> bytes:
        return self._current().seal(plaintext, context)

    def open(self, sealed: bytes, context: SealContext) -> bytes:
        try:
            return self._current().open(sealed, context)
        except UnreadableEnvelope:
            # maybe sealed with a key added since we last looked
            return self._current(force=True).open(sealed, context)

    def needs_reseal(self, sealed: bytes, *, tenant: str | None = None) -> bool:
        return self._current().needs_reseal(sealed)

    def reseal(self, sealed: bytes, context: SealContext) -> bytes:
        return self._current().reseal(sealed, context)


class KeyfileSealer(MasterSealer):
    def __init__(self, path: Path, keyring: Keyring) -> None:
        super().__init__(KeyfileKeyring(path, keyring))
