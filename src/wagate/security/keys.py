"""Encryption keys for data at rest: the keyring, the key file, and derived sub-keys.

Keys come from `WAGATE_ENCRYPTION_KEYS` (`id:base64,id:base64,…`, first is current) or from a
key file in the data directory that is generated on first start. Rotation prepends a new current
key and keeps the old ones so everything sealed with them still opens.

Key material never appears in an error message or a repr: messages name an entry by position
and, once it is known to be a well-formed id, by key id (ids are not secret — they are written
in clear in every envelope).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32  # AES-256
AES_GCM_PURPOSE = "aes-gcm"
BLIND_INDEX_PURPOSE = "blind-index"
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_KEY_ID_RULE = "a key id must be 1-32 characters of A-Z a-z 0-9 _ . -"
_HKDF_INFO_PREFIX = b"wagate/at-rest/v1/"
_RACE_RETRIES = 20
_RACE_PAUSE_SECONDS = 0.05


class KeyringError(ValueError):
    """The configured keys cannot be used; the message says what to fix, never the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One 32-byte key and its id. `material` is left out of the repr on purpose."""

    key_id: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KEY_ID_PATTERN.fullmatch(self.key_id):
            raise KeyringError(_KEY_ID_RULE)
        if len(self.material) != KEY_BYTES:
            raise KeyringError(
                f"key {self.key_id!r} is {len(self.material)} bytes; AES-256 needs {KEY_BYTES}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Keyring:
    """Ordered keys, newest first: `keys[0]` seals, every key opens."""

    keys: tuple[Key, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the keyring is empty: at least one key is needed")
        seen: set[str] = set()
        for key in self.keys:
            if key.key_id in seen:
                raise KeyringError(f"key id {key.key_id!r} appears more than once")
            seen.add(key.key_id)

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """Parse `WAGATE_ENCRYPTION_KEYS`: comma-separated `id:base64` entries, first current.

        Base64 may be standard or URL-safe, with or without padding; spaces around entries and
        a trailing comma are tolerated. Raises `KeyringError` naming the entry and what to fix.
        """
        entries = [entry.strip() for entry in spec.split(",")]
        entries = [entry for entry in entries if entry]
        if not entries:
            raise KeyringError(
                "WAGATE_ENCRYPTION_KEYS is empty: set it to id:base64 entries, e.g. "
                "k1:<32 random bytes in base64>"
            )
        keys = []
        for position, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.partition(":")
            if not colon:
                raise KeyringError(f"entry {position} is not of the form id:base64")
            keys.append(_key_from_text(key_id.strip(), encoded, f"entry {position}"))
        return cls(keys=tuple(keys))

    @property
    def current(self) -> Key:
        return self.keys[0]

    @property
    def oldest(self) -> Key:
        return self.keys[-1]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.key_id for key in self.keys)

    def get(self, key_id: str) -> Key | None:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        return None


def derive(material: bytes, purpose: str) -> bytes:
    """A 32-byte sub-key of `material` for one `purpose` (HKDF-SHA256, purpose as info), so the
    AES-GCM key (`AES_GCM_PURPOSE`) and the blind-index key (`BLIND_INDEX_PURPOSE`) of one
    configured key are independent: knowing one says nothing about the other."""
    if not purpose:
        raise ValueError("a sub-key needs a purpose")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=_HKDF_INFO_PREFIX + purpose.encode(),
    )
    return hkdf.derive(material)


def generate_key(now: datetime | None = None) -> Key:
    """A fresh random key with an id like `k20250131-9f3a1c` (UTC date, random suffix)."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return Key(key_id=f"k{day}-{secrets.token_hex(3)}", material=secrets.token_bytes(KEY_BYTES))


def load_or_create_keyfile(path: Path) -> tuple[Keyring, bool]:
    """Read the key file at `path`, or create it with one new key. Returns `(keyring, created)`;
    on `created` the caller must warn loudly that the file has to be backed up — without it
    nothing sealed with its keys can be read again.

    Creation is atomic and exclusive: the file is written and fsynced under a temporary name
    and then hard-linked into place, which fails if the name exists, so a concurrent starter
    never sees a half-written file; the loser of the race reads the winner's keys. On a
    filesystem without hard links it falls back to `O_EXCL` creation.
    """
    if path.exists():
        return read_keyfile(path), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    keyring = Keyring(keys=(generate_key(),))
    if _create_exclusively(path, _encode_keyfile(keyring)):
        return keyring, True
    return _read_winners_keyfile(path), False


def read_keyfile(path: Path) -> Keyring:
    """The keyring stored in the JSON key file `{"keys": [{"id": …, "key": base64}, …]}`."""
    try:
        document: Any = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError included
        raise KeyringError(
            f"key file {path} cannot be read as JSON: {type(error).__name__}"
        ) from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise KeyringError(f'key file {path} has no "keys" list')
    keys = []
    for position, entry in enumerate(entries, start=1):
        where = f"key file {path}, entry {position}"
        if not isinstance(entry, dict):
            raise KeyringError(f'{where} is not an object with "id" and "key"')
        key_id, encoded = entry.get("id"), entry.get("key")
        if not isinstance(key_id, str) or not isinstance(encoded, str):
            raise KeyringError(f'{where} needs string fields "id" and "key"')
        keys.append(_key_from_text(key_id, encoded, where))
    try:
        return Keyring(keys=tuple(keys))
    except KeyringError as error:
        raise KeyringError(f"key file {path}: {error}") from None


def add_key_to_file(path: Path) -> Keyring:
    """Prepend a new current key to the key file, keeping the old ones for opening; returns the
    new keyring. The file is replaced atomically (temp file, fsync, rename). The temporary name
    is fixed and taken with `O_EXCL`, so a second rotation running at the same time fails
    instead of silently dropping the first one's key."""
    staging = path.with_name(f".{path.name}.rotating")
    try:
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyringError(
            f"another key rotation is writing {path} (remove {staging} if no rotation is running)"
        ) from None
    try:
        old = read_keyfile(path)
        keyring = Keyring(keys=(generate_key(), *old.keys))
        _write_all(fd, _encode_keyfile(keyring))
        os.close(fd)
        fd = -1
        os.replace(staging, path)
        _fsync_directory(path.parent)
        return keyring
    finally:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)


def _read_winners_keyfile(path: Path) -> Keyring:
    # Only the O_EXCL fallback can expose a file that is still being written; give the winner
    # a moment to finish before calling its file broken.
    for _ in range(_RACE_RETRIES):
        try:
            return read_keyfile(path)
        except KeyringError:
            time.sleep(_RACE_PAUSE_SECONDS)
    return read_keyfile(path)


def _key_from_text(key_id: str, encoded: str, where: str) -> Key:
    # The id is echoed only once it matches the pattern: an id that does not may be a
    # misplaced key (base64 of 32 bytes is at least 43 characters, longer than any valid id).
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyringError(f"{where}: {_KEY_ID_RULE}")
    material = _decode_base64(encoded)
    if material is None:
        raise KeyringError(f"{where}: key {key_id!r} is not valid base64")
    if len(material) != KEY_BYTES:
        raise KeyringError(
            f"{where}: key {key_id!r} decodes to {len(material)} bytes; AES-256 needs "
            f'{KEY_BYTES} (generate one with: python -c "import os,base64;'
            f'print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return Key(key_id=key_id, material=material)


def _decode_base64(encoded: str) -> bytes | None:
    text = "".join(encoded.split()).rstrip("=").replace("-", "+").replace("_", "/")
    if not text or len(text) % 4 == 1:
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _encode_keyfile(keyring: Keyring) -> bytes:
    keys = [
        {"id": key.key_id, "key": base64.b64encode(key.material).decode("ascii")}
        for key in keyring.keys
    ]
    return json.dumps({"keys": keys}, indent=2).encode() + b"\n"


def _create_exclusively(path: Path, content: bytes) -> bool:
    """Write `content` to `path` only if it does not exist; False if another process won."""
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write_all(fd, content)
    finally:
        os.close(fd)
    try:
        os.link(staging, path)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network or FUSE filesystems)
        return _create_with_o_excl(path, content)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
    _fsync_directory(path.parent)
    return True


def _create_with_o_excl(path: Path, content: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        _write_all(fd, content)
    finally:
        os.close(fd)
    _fsync_directory(path.parent)
    return True


def _write_all(fd: int, content: bytes) -> None:
    os.fchmod(fd, 0o600)  # whatever the umask allowed, the key file is the owner's alone
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _fsync_directory(directory: Path) -> None:
    # Makes the new name durable; not every platform can open a directory, hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
