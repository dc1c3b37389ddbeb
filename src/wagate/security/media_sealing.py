"""Files sealed in chunks (MD1, CP2): AES-256-GCM over a stream, never the whole file in memory.

A message column is sealed whole (`Sealer.seal`); a 100 MB document cannot be. Each stored file
gets its own random 256-bit file key, and is sealed as a sequence of records:

    header  "WGM1" | chunk size (4 bytes, big-endian)
    record  nonce (12 random bytes) | AES-256-GCM ciphertext of one chunk | tag (16 bytes)
            every chunk is `chunk size` bytes except the last, which may be shorter (or empty)

Each record's associated data is `b"wagate-media"`, the object's id (length-prefixed), the
chunk's index (8 bytes) and a final flag (1 byte). So records cannot be reordered, moved to
another file, dropped from the end (the last one says it is last) or followed by more.

The file key itself is sealed with the gateway's `Sealer` (the tenant's data key, envelope
version 2) and kept in the database beside the object's name, never in the object store: key
rotation re-seals that small value (`wagate keys reseal`), not the file, and destroying a
tenant's keys (or a media row) leaves its objects unreadable.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import AsyncIterable, AsyncIterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope

MAGIC = b"WGM1"
CHUNK_BYTES = 64 * 1024
NONCE_BYTES = 12
TAG_BYTES = 16
RECORD_OVERHEAD = NONCE_BYTES + TAG_BYTES
HEADER_BYTES = len(MAGIC) + 4
FILE_KEY_BYTES = 32
# The table name a file key is sealed under (its row key: the object's id).
FILE_KEY_TABLE = "media.file_key"
_LABEL = b"wagate-media"
_MAX_CHUNK = 16 * 1024 * 1024  # a header claiming more is not ours


class TamperedMedia(UnreadableEnvelope):
    """A stored file does not open: altered, truncated, extended, or sealed for another."""


def new_file_key() -> bytes:
    return secrets.token_bytes(FILE_KEY_BYTES)


def wrap_file_key(sealer: Sealer, file_key: bytes, *, tenant: str, object_id: str) -> bytes:
    """The file key sealed like any column, bound to its tenant and object."""
    return sealer.seal(file_key, _key_context(tenant, object_id))


def unwrap_file_key(sealer: Sealer, wrapped: bytes, *, tenant: str, object_id: str) -> bytes:
    key = sealer.open(bytes(wrapped), _key_context(tenant, object_id))
    if len(key) != FILE_KEY_BYTES:
        raise TamperedMedia(f"the file key of {object_id!r} is not {FILE_KEY_BYTES} bytes")
    return key


def _key_context(tenant: str, object_id: str) -> SealContext:
    return SealContext(tenant=tenant, table=FILE_KEY_TABLE, key=object_id)


def sealed_size(plain_size: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """How many bytes a file of `plain_size` bytes takes once sealed."""
    records = max(1, -(-plain_size // chunk_bytes))
    return HEADER_BYTES + plain_size + records * RECORD_OVERHEAD


class ChunkCipher:
    """Seals and opens the records of one file."""

    def __init__(self, file_key: bytes, object_id: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        if len(file_key) != FILE_KEY_BYTES:
            raise ValueError(f"a file key is {FILE_KEY_BYTES} bytes")
        if not 0 < chunk_bytes <= _MAX_CHUNK:
            raise ValueError("chunk size out of range")
        self._cipher = AESGCM(file_key)
        encoded = object_id.encode("utf-8")
        self._prefix = _LABEL + struct.pack(">I", len(encoded)) + encoded
        self.chunk_bytes = chunk_bytes
        self.object_id = object_id

    def _associated(self, index: int, final: bool) -> bytes:
        return self._prefix + struct.pack(">QB", index, 1 if final else 0)

    def header(self) -> bytes:
        return MAGIC + struct.pack(">I", self.chunk_bytes)

    def seal(self, index: int, chunk: bytes, *, final: bool) -> bytes:
        if len(chunk) > self.chunk_bytes or (not final and len(chunk) != self.chunk_bytes):
            raise ValueError("only the final chunk may be shorter than the chunk size")
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, chunk, self._associated(index, final))

    def open(self, index: int, record: bytes, *, final: bool) -> bytes:
        if len(record) < RECORD_OVERHEAD:
            raise TamperedMedia(f"record {index} of {self.object_id!r} is truncated")
        try:
            return self._cipher.decrypt(
                record[:NONCE_BYTES], record[NONCE_BYTES:], self._associated(index, final)
            )
        except InvalidTag:
            raise TamperedMedia(
                f"record {index} of {self.object_id!r} failed authentication: altered, "
                "reordered, truncated or not sealed for this file"
            ) from None


async def seal_stream(plain: AsyncIterable[bytes], cipher: ChunkCipher) -> AsyncIterator[bytes]:
    """The sealed form of `plain`, record by record (the header first). At most one chunk and
    one incoming piece are held at a time."""
    yield cipher.header()
    size = cipher.chunk_bytes
    buffer = bytearray()
    index = 0
    async for piece in plain:
        buffer += piece
        # Strictly more than a chunk: the last full chunk is held back until we know whether
        # it is the final one.
        while len(buffer) > size:
            yield cipher.seal(index, bytes(buffer[:size]), final=False)
            del buffer[:size]
            index += 1
    yield cipher.seal(index, bytes(buffer), final=True)


async def open_stream(sealed: AsyncIterable[bytes], cipher: ChunkCipher) -> AsyncIterator[bytes]:
    """The plaintext of a sealed stream, chunk by chunk; `TamperedMedia` as soon as a record
    fails, and at the end if the final record is missing or followed by anything."""
    buffer = bytearray()
    header_read = False
    record = 0
    index = 0
    async for piece in sealed:
        buffer += piece
        if not header_read:
            if len(buffer) < HEADER_BYTES:
                continue
            # The header's chunk size, not ours: a file sealed before a change of the constant
            # still opens.
            record = _chunk_size(bytes(buffer[:HEADER_BYTES]), cipher) + RECORD_OVERHEAD
            del buffer[:HEADER_BYTES]
            header_read = True
        while len(buffer) > record:
            yield cipher.open(index, bytes(buffer[:record]), final=False)
            del buffer[:record]
            index += 1
    if not header_read:
        raise TamperedMedia(f"{cipher.object_id!r} is truncated before its header")
    if not buffer:
        raise TamperedMedia(f"{cipher.object_id!r} is truncated: its final record is missing")
    yield cipher.open(index, bytes(buffer), final=True)


def _chunk_size(header: bytes, cipher: ChunkCipher) -> int:
    if header[: len(MAGIC)] != MAGIC:
        raise TamperedMedia(f"{cipher.object_id!r} is not a sealed media file")
    (chunk_bytes,) = struct.unpack(">I", header[len(MAGIC) :])
    if not 0 < chunk_bytes <= _MAX_CHUNK:
        raise TamperedMedia(f"{cipher.object_id!r} names an impossible chunk size")
    return int(chunk_bytes)
