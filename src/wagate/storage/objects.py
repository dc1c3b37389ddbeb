"""Where sealed files live (MD1): a folder under the data dir by default, or any S3-compatible
store (`S3_BUCKET`, `S3_ENDPOINT_URL`, `S3_REGION`, credentials).

Objects are written from a stream and are all or nothing: a write that fails half-way (the
store goes down, the file turns out too large) leaves no object behind. They are only ever
written, read and deleted whole; what they hold is already sealed (`media_sealing`), so the
store never sees a plaintext byte, nor a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

READ_BYTES = 64 * 1024
# S3 parts: at least 5 MiB except the last (S3's rule). One part is buffered per upload, so
# memory grows with the uploads running at once, never with a file's size.
PART_BYTES = 5 * 1024 * 1024
_OBJECT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,511}")


class ObjectStoreUnavailable(Exception):
    """The store could not be reached or failed (transient: try again later)."""


class ObjectMissing(Exception):
    """No object by that name (deleted, or never written)."""


class ObjectStore(Protocol):
    name: str  # "files" or "s3", for logs and the status

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Write the object from `chunks`; its size. All or nothing."""

    def get(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes, in pieces; `ObjectMissing` when there is none."""

    async def delete(self, key: str) -> None:
        """Remove the object; nothing happens when there is none."""


def checked_key(key: str) -> str:
    if not _OBJECT_KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"{key!r} is not an object name")
    return key


class FileObjectStore:
    """Objects as files under `root` (mode 0600, folders 0700), written to a temporary name,
    flushed to disk and renamed into place."""

    name = "files"

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        return self._root / checked_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(key)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            handle = await asyncio.to_thread(_open_new, partial)
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot write under {self._root}: {exc}") from exc
        size = 0
        try:
            try:
                async for piece in chunks:
                    await asyncio.to_thread(handle.write, piece)
                    size += len(piece)
                await asyncio.to_thread(_flush, handle)
            finally:
                handle.close()
            await asyncio.to_thread(os.replace, partial, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            if isinstance(exc, OSError):
                raise ObjectStoreUnavailable(f"writing {key!r} failed: {exc}") from exc
            raise
        return size

    async def get(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot read {key!r}: {exc}") from exc
        try:
            while piece := await asyncio.to_thread(handle.read, READ_BYTES):
                yield piece
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)


def _open_new(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def _flush(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


class S3ObjectStore:
    """Objects in an S3-compatible bucket through boto3 (its calls run in threads). Small
    objects are one PUT; larger ones a multipart upload, aborted if anything fails."""

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        timeout_seconds: float = 30.0,
    ) -> None:
        import boto3
        from botocore.config import Config

        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # Few quick retries: the job queue retries with backoff, so a dead store must fail
        # fast rather than hold a worker for a minute.
        config = Config(
            connect_timeout=min(timeout_seconds, 5.0),
            read_timeout=timeout_seconds,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )

    def _key(self, key: str) -> str:
        return self._prefix + checked_key(key)

    async def _call(self, method: str, **params: Any) -> Any:
        try:
            return await asyncio.to_thread(getattr(self._client, method), **params)
        except Exception as exc:
            raise _translated(exc, method) from exc

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        name = self._key(key)
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        size = 0
        try:
            async for piece in chunks:
                buffer += piece
                size += len(piece)
                while len(buffer) >= PART_BYTES:
                    if upload_id is None:
                        started = await self._call(
                            "create_multipart_upload", Bucket=self._bucket, Key=name
                        )
                        upload_id = str(started["UploadId"])
                    parts.append(await self._part(name, upload_id, len(parts) + 1, buffer))
                    del buffer[:PART_BYTES]
            if upload_id is None:
                await self._call("put_object", Bucket=self._bucket, Key=name, Body=bytes(buffer))
                return size
            if buffer:
                parts.append(await self._part(name, upload_id, len(parts) + 1, buffer))
            await self._call(
                "complete_multipart_upload",
                Bucket=self._bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            if upload_id is not None:
                await self._abort(name, upload_id)
            raise
        return size

    async def _part(
        self, name: str, upload_id: str, number: int, buffer: bytearray
    ) -> dict[str, Any]:
        answer = await self._call(
            "upload_part",
            Bucket=self._bucket,
            Key=name,
            UploadId=upload_id,
            PartNumber=number,
            Body=bytes(buffer[:PART_BYTES]),
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def _abort(self, name: str, upload_id: str) -> None:
        try:
            await self._call(
                "abort_multipart_upload", Bucket=self._bucket, Key=name, UploadId=upload_id
            )
        except (ObjectStoreUnavailable, ObjectMissing) as exc:
            # The store's own lifecycle rules clean up abandoned uploads; nothing was lost.
            log.warning("objects.abort_failed", error=str(exc))

    async def get(self, key: str) -> AsyncIterator[bytes]:
        answer = await self._call("get_object", Bucket=self._bucket, Key=self._key(key))
        body = answer["Body"]
        try:
            while True:
                try:
                    piece = await asyncio.to_thread(body.read, READ_BYTES)
                except Exception as exc:
                    raise _translated(exc, "read") from exc
                if not piece:
                    return
                yield piece
        finally:
            await asyncio.to_thread(body.close)

    async def delete(self, key: str) -> None:
        try:
            await self._call("delete_object", Bucket=self._bucket, Key=self._key(key))
        except ObjectMissing:
            return


def _translated(exc: Exception, method: str) -> Exception:
    """boto3's errors as ours: a missing object, or the store unavailable (anything else,
    configuration errors included: they are logged and retried until someone fixes them)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            return ObjectMissing(method)
        return ObjectStoreUnavailable(f"S3 {method} failed: {code or type(exc).__name__}")
    return ObjectStoreUnavailable(f"S3 {method} failed: {type(exc).__name__}")
