"""Files sealed in chunks (MD1, CP2): round trips of every size around the chunk boundaries,
and every way of tampering with a stored file is detected."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable

import pytest

from wagate.security.crypto import AesGcmSealer
from wagate.security.keys import Keyring, generate_key
from wagate.security.media_sealing import (
    FILE_KEY_TABLE,
    HEADER_BYTES,
    RECORD_OVERHEAD,
    ChunkCipher,
    TamperedMedia,
    new_file_key,
    open_stream,
    seal_stream,
    sealed_size,
    unwrap_file_key,
    wrap_file_key,
)
from wagate.security.sealing import SealContext, UnreadableEnvelope

CHUNK = 64  # small chunks make the boundaries cheap to test


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([piece async for piece in stream])


async def _seal(data: bytes, cipher: ChunkCipher, piece: int = 7) -> bytes:
    return await _collect(seal_stream(_pieces(data, piece), cipher))


async def _open(sealed: bytes, cipher: ChunkCipher, piece: int = 11) -> bytes:
    return await _collect(open_stream(_pieces(sealed, piece), cipher))


def _cipher(key: bytes | None = None, object_id: str = "t/2026/01/abc") -> ChunkCipher:
    return ChunkCipher(key or new_file_key(), object_id, chunk_bytes=CHUNK)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5])
async def test_round_trip_of_every_size_around_the_chunk_boundaries(size: int) -> None:
    data = os.urandom(size)
    key = new_file_key()
    sealed = await _seal(data, _cipher(key))
    assert len(sealed) == sealed_size(size, CHUNK)
    assert await _open(sealed, _cipher(key)) == data
    # Fed in other piece sizes (as an object store streams it), it opens the same.
    for piece in (1, CHUNK + RECORD_OVERHEAD, 10_000):
        assert await _open(sealed, _cipher(key), piece) == data


async def test_the_plaintext_is_not_in_the_sealed_bytes() -> None:
    data = b"NIK 3174012345678901 Budi Santoso " * 20
    sealed = await _seal(data, _cipher())
    assert b"3174012345678901" not in sealed
    assert b"Budi" not in sealed


def _records(sealed: bytes) -> list[bytes]:
    body = sealed[HEADER_BYTES:]
    size = CHUNK + RECORD_OVERHEAD
    return [body[i : i + size] for i in range(0, len(body), size)]


async def _tampered(sealed: bytes, key: bytes) -> None:
    with pytest.raises(TamperedMedia):
        await _open(sealed, _cipher(key))


async def test_a_flipped_bit_anywhere_is_detected() -> None:
    key = new_file_key()
    sealed = await _seal(os.urandom(3 * CHUNK + 10), _cipher(key))
    for position in (HEADER_BYTES + 3, HEADER_BYTES + 20, len(sealed) // 2, len(sealed) - 1):
        altered = bytearray(sealed)
        altered[position] ^= 0x01
        await _tampered(bytes(altered), key)


async def test_records_swapped_dropped_or_duplicated_are_detected() -> None:
    key = new_file_key()
    sealed = await _seal(os.urandom(3 * CHUNK + 10), _cipher(key))
    header, records = sealed[:HEADER_BYTES], _records(sealed)
    assert len(records) == 4

    def join(parts: Iterable[bytes]) -> bytes:
        return header + b"".join(parts)

    await _tampered(join([records[1], records[0], *records[2:]]), key)  # reordered
    await _tampered(join(records[:-1]), key)  # the final record dropped: truncated
    await _tampered(join(records[:2]), key)  # cut at a record boundary
    await _tampered(join([*records, records[-1]]), key)  # something after the final record
    await _tampered(sealed[:-5], key)  # cut inside the final record
    await _tampered(sealed[:HEADER_BYTES], key)  # nothing but the header
    await _tampered(sealed[:3], key)  # not even the header
    await _tampered(b"XXXX" + sealed[4:], key)  # not our format


async def test_another_file_or_key_does_not_open_it() -> None:
    key = new_file_key()
    sealed = await _seal(b"surat kuasa", _cipher(key, "t/a"))
    with pytest.raises(TamperedMedia):
        await _open(sealed, _cipher(key, "t/b"))  # copied under another object's name
    with pytest.raises(TamperedMedia):
        await _open(sealed, _cipher(new_file_key(), "t/a"))


async def test_only_the_final_chunk_may_be_short() -> None:
    cipher = _cipher()
    with pytest.raises(ValueError, match="final"):
        cipher.seal(0, b"short", final=False)
    with pytest.raises(ValueError, match="a file key"):
        ChunkCipher(b"short", "x")


def test_the_file_key_is_sealed_for_its_tenant_and_object() -> None:
    sealer = AesGcmSealer(Keyring(keys=(generate_key(),)))
    key = new_file_key()
    wrapped = wrap_file_key(sealer, key, tenant="firm", object_id="firm/x")
    assert key not in wrapped
    assert unwrap_file_key(sealer, wrapped, tenant="firm", object_id="firm/x") == key
    with pytest.raises(UnreadableEnvelope):
        unwrap_file_key(sealer, wrapped, tenant="other", object_id="firm/x")
    with pytest.raises(UnreadableEnvelope):
        unwrap_file_key(sealer, wrapped, tenant="firm", object_id="firm/y")


def test_a_rotated_keyring_reseals_the_file_key_and_the_file_still_opens() -> None:
    old = Keyring(keys=(generate_key(),))
    key = new_file_key()
    wrapped = wrap_file_key(AesGcmSealer(old), key, tenant="t", object_id="t/o")
    rotated = AesGcmSealer(Keyring(keys=(generate_key(), *old.keys)))
    assert rotated.needs_reseal(wrapped)
    context = SealContext(tenant="t", table=FILE_KEY_TABLE, key="t/o")
    resealed = rotated.reseal(wrapped, context)
    assert not rotated.needs_reseal(resealed)
    assert unwrap_file_key(rotated, resealed, tenant="t", object_id="t/o") == key
