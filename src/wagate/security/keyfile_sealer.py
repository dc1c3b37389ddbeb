"""A sealer that follows its key file: after `wagate keys rotate` adds a key, every running
web and worker process seals with it and can open what others sealed with it, without a
restart. The file is checked at most once a second (one stat), and at once when an envelope
names a key this process has not loaded yet."""

from __future__ import annotations

import time
from pathlib import Path

from wagate.security.crypto import AesGcmSealer
from wagate.security.keys import Keyring, read_keyfile
from wagate.security.sealing import SealContext, UnreadableEnvelope

CHECK_EVERY_SECONDS = 1.0


class KeyfileSealer:
    def __init__(self, path: Path, keyring: Keyring) -> None:
        self._path = path
        self._sealer = AesGcmSealer(keyring)
        self._mtime = self._stat()
        self._checked = time.monotonic()

    def _stat(self) -> float:
        try:
            return self._path.stat().st_mtime
        except OSError:
            return 0.0

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < CHECK_EVERY_SECONDS:
            return
        self._checked = now
        mtime = self._stat()
        if mtime != self._mtime:
            self._sealer = AesGcmSealer(read_keyfile(self._path))
            self._mtime = mtime

    def seal(self, plaintext: bytes, context: SealContext) -> bytes:
        self._refresh()
        return self._sealer.seal(plaintext, context)

    def open(self, sealed: bytes, context: SealContext) -> bytes:
        self._refresh()
        try:
            return self._sealer.open(sealed, context)
        except UnreadableEnvelope:
            self._refresh(force=True)  # maybe sealed with a key added since we last looked
            return self._sealer.open(sealed, context)

    def needs_reseal(self, sealed: bytes) -> bool:
        self._refresh()
        return self._sealer.needs_reseal(sealed)

    def reseal(self, sealed: bytes, context: SealContext) -> bytes:
        self._refresh()
        return self._sealer.reseal(sealed, context)
