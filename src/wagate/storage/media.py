"""Inbound files in storage (MD1): the `media` rows, the sealed objects (the vault), what
operators list and download, and what retention and erasure remove.

A row is written by the intake statement (`storage/intake.py`) and settled here; settling
brings the conversation's job forward in the same statement, so the conversation that waited
for the file runs as soon as it is stored, refused or given up on.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import structlog

from wagate.domain.chat import ChatImage
from wagate.domain.file_types import FileType, by_name
from wagate.domain.media import (
    Declared,
    MediaProblem,
    MediaRef,
    MediaStatus,
    safe_filename,
)
from wagate.domain.messages import Provider
from wagate.pipeline.media import MediaJob, StoredFile
from wagate.pipeline.ports import Kept, StorageUnavailable
from wagate.security.media_sealing import (
    ChunkCipher,
    new_file_key,
    open_stream,
    seal_stream,
    unwrap_file_key,
    wrap_file_key,
)
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.database import Database
from wagate.storage.objects import ObjectMissing, ObjectStore, ObjectStoreUnavailable
from wagate.storage.queue import insert_job_sql, insert_media_job_sql

log = structlog.get_logger(__name__)

DETAILS_TABLE = "media.details"
EXTRACTED_TABLE = "media.extracted"

_LOAD_SQL = """
SELECT m.id, m.conversation_id, m.status, m.attempts, m.media_type, m.created_at,
       m.object_key, m.file_key, m.file_type, m.size_bytes, m.details,
       c.provider, c.channel_id, i.provider AS message_provider, i.provider_message_id, i.content
  FROM media m
  JOIN conversations c ON c.id = m.conversation_id
  JOIN inbound_messages i ON i.id = m.inbound_message_id
 WHERE m.id = %(id)s
"""

# Settling a pending row and bringing its conversation's job forward: one statement.
_STORED_SQL = (
    """
WITH settled AS (
  UPDATE media SET status = 'stored', object_key = %(object_key)s, file_key = %(file_key)s,
         file_type = %(file_type)s, mime_type = %(mime_type)s, size_bytes = %(size)s,
         details = %(details)s, extracted = %(extracted)s, settled_at = %(at)s,
         problem = %(problem)s, last_error = NULL
   WHERE id = %(id)s AND status = 'pending'
  RETURNING conversation_id
), queued AS ("""
    + insert_job_sql("settled", "conversation_id", advance=True)
    + """)
SELECT (SELECT count(*) FROM settled) AS settled
"""
)

# A voice note kept while its transcription is still to come: the row stays pending (the
# conversation waits), its object is named (so erasure finds it), its tries start again.
_HOLD_SQL = """
UPDATE media SET object_key = %(object_key)s, file_key = %(file_key)s,
       file_type = %(file_type)s, mime_type = %(mime_type)s, size_bytes = %(size)s,
       details = %(details)s, attempts = 0, last_error = NULL
 WHERE id = %(id)s AND status = 'pending' AND object_key IS NULL
RETURNING id
"""

_SETTLED_SQL = (
    """
WITH settled AS (
  UPDATE media SET status = %(status)s, problem = %(problem)s, last_error = %(error)s,
         settled_at = %(at)s
   WHERE id = %(id)s AND status = 'pending'
  RETURNING conversation_id
), queued AS ("""
    + insert_job_sql("settled", "conversation_id", advance=True)
    + """)
SELECT (SELECT count(*) FROM settled) AS settled
"""
)

_RETRY_SQL = (
    """
WITH counted AS (
  UPDATE media SET attempts = %(attempts)s, last_error = %(error)s
   WHERE id = %(id)s AND status = 'pending'
  RETURNING id
), queued AS ("""
    + insert_media_job_sql("counted", "id")
    + """)
SELECT (SELECT count(*) FROM counted) AS counted
"""
)

# Pending rows whose fetch job was lost (a worker killed mid-fetch, a failed job): queued again.
_ORPHANS_SQL = """
WITH orphans AS (
  SELECT m.id FROM media m
   WHERE m.tenant = %(tenant)s AND m.status = 'pending' AND m.created_at < %(older_than)s
     AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
                      WHERE j.lock = 'media:' || m.id AND j.status IN ('todo', 'doing'))
)
""" + insert_media_job_sql("orphans", "id")

_LIST_SQL = """
SELECT m.id, m.conversation_id, m.inbound_message_id, m.media_type, m.status, m.problem,
       m.file_type, m.mime_type,
       m.size_bytes, m.details, m.created_at, m.settled_at, m.attempts,
       i.provider_message_id, m.extracted IS NOT NULL AS has_text
  FROM media m JOIN inbound_messages i ON i.id = m.inbound_message_id
 WHERE m.conversation_id = ANY(%(ids)s)
 ORDER BY m.id
"""

_FILE_SQL = """
SELECT id, conversation_id, status, object_key, file_key, file_type, mime_type, size_bytes,
       details
  FROM media WHERE id = %(id)s
"""

# Image types every vision-capable OpenAI-compatible model reads.
VISION_TYPES = ("jpeg", "png", "webp", "gif")
# OpenAI's own limit per image is 20 MB; photos are limited far lower (MEDIA_MAX_IMAGE_BYTES).
VISION_MAX_BYTES = 20 * 1024 * 1024

_IMAGES_SQL = """
SELECT m.id, m.object_key, m.file_key, m.file_type, m.size_bytes
  FROM media m
 WHERE m.inbound_message_id = ANY(%(ids)s) AND m.status = 'stored' AND m.media_type = 'image'
   AND m.file_type = ANY(%(types)s) AND m.size_bytes <= %(limit)s AND m.object_key IS NOT NULL
 ORDER BY m.inbound_message_id, m.id
"""

_TEXTS_SQL = """
SELECT m.id, m.inbound_message_id, m.extracted, m.file_type
  FROM media m
 WHERE m.inbound_message_id = ANY(%(ids)s) AND m.extracted IS NOT NULL
"""

# Rows go to the trash with their object's name in the statement that deletes them: the
# object store may be down, and the name must not be lost with the row.
_TRASH_SQL = """
WITH gone AS (
  DELETE FROM media WHERE tenant = %(tenant)s AND {where} RETURNING object_key
), trashed AS (
  INSERT INTO media_trash (tenant, object_key)
  SELECT %(tenant)s, object_key FROM gone WHERE object_key IS NOT NULL
)
SELECT count(*) AS removed FROM gone
"""
PURGE_WHERE = "created_at < %(cutoff)s AND status <> 'pending'"
ERASE_WHERE = "conversation_id = ANY(%(ids)s)"
EVERY_FILE = "TRUE"  # an erased tenant's: pending ones too (their fetch finds no row)

_ERASED_TENANTS_SQL = "SELECT id FROM tenants WHERE status = 'erased' ORDER BY id"


def object_name(tenant: str, at: datetime) -> str:
    """A new object's name: the tenant, the month, a random part. Nothing personal in it."""
    return f"{tenant}/{at:%Y/%m}/{secrets.token_hex(16)}"


class SealedVault:
    """Files sealed in chunks under a fresh file key each, in the object store (the
    `MediaVault` port), and opened again for operators."""

    def __init__(
        self, objects: ObjectStore, sealer: Sealer, tenant: str, clock: Callable[[], datetime]
    ) -> None:
        self._objects = objects
        self._sealer = sealer
        self._tenant = tenant
        self._clock = clock

    async def keep(self, chunks: AsyncIterable[bytes]) -> Kept:
        key = object_name(self._tenant, self._clock())
        file_key = new_file_key()
        digest = hashlib.sha256()
        size = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal size
            async for piece in chunks:
                digest.update(piece)
                size += len(piece)
                yield piece

        # Wrapped before anything is stored: a tenant erased meanwhile has no data key, and
        # an object whose key could not be kept would be left behind, named by no row.
        wrapped = wrap_file_key(self._sealer, file_key, tenant=self._tenant, object_id=key)
        try:
            await self._objects.put(key, seal_stream(counted(), ChunkCipher(file_key, key)))
        except ObjectStoreUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc
        return Kept(object_key=key, wrapped_key=wrapped, size=size, sha256=digest.hexdigest())

    async def discard(self, kept: Kept) -> None:
        await self._objects.delete(kept.object_key)

    def open(self, object_key: str, wrapped_key: bytes) -> AsyncIterator[bytes]:
        """The plaintext, chunk by chunk (`TamperedMedia` if the object was altered)."""
        file_key = unwrap_file_key(
            self._sealer, wrapped_key, tenant=self._tenant, object_id=object_key
        )
        return open_stream(self._objects.get(object_key), ChunkCipher(file_key, object_key))

    async def read(self, kept: Kept, *, limit: int) -> bytes | None:
        """A stored file whole, when it is at most `limit` bytes (the text readers and the
        transcription need it so); None when it is larger. `StorageUnavailable` when the
        store fails."""
        if kept.size > limit:
            return None
        try:
            parts = [piece async for piece in self.open(kept.object_key, kept.wrapped_key)]
        except ObjectStoreUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc
        return b"".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFile:
    """A stored file, ready to stream to an operator."""

    id: int
    conversation_id: int
    filename: str
    mime_type: str
    size: int
    chunks: AsyncIterator[bytes]


class PostgresMedia:
    """One tenant's media rows (the `MediaRows` port), its operators' view (list, download),
    and the removal of its files (retention, erasure)."""

    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        tenant: str,
        *,
        vault: SealedVault,
        objects: ObjectStore,
        vision_max_bytes: int = VISION_MAX_BYTES,
    ) -> None:
        self._vision_max = vision_max_bytes
        self._database = database
        self._sealer = sealer
        self._tenant = tenant
        self._vault = vault
        self._objects = objects

    # ------------------------------------------------------------ sealing helpers

    def _seal(self, table: str, key: str, value: Any) -> bytes:
        return self._sealer.seal(
            orjson.dumps(value), SealContext(tenant=self._tenant, table=table, key=key)
        )

    def _open(self, table: str, key: str, sealed: Any) -> Any:
        if sealed is None:
            return None
        try:
            plain = self._sealer.open(
                bytes(sealed), SealContext(tenant=self._tenant, table=table, key=key)
            )
        except UnreadableEnvelope:
            return None
        return orjson.loads(plain)

    # ------------------------------------------------------------ the fetch job's rows

    async def load(self, media_id: int) -> MediaJob | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_LOAD_SQL, {"id": media_id})).fetchone()
        if row is None:
            return None
        key = f"{row['message_provider']}:{row['provider_message_id']}"
        document = self._open("inbound_messages.content", key, row["content"]) or {}
        content = document.get("content") or {}
        held = None
        if row["object_key"] is not None and row["status"] == MediaStatus.PENDING.value:
            details = self._open(DETAILS_TABLE, str(row["id"]), row["details"]) or {}
            held = StoredFile(
                Kept(
                    object_key=str(row["object_key"]),
                    wrapped_key=bytes(row["file_key"]),
                    size=int(row["size_bytes"] or 0),
                    sha256=str(details.get("sha256") or ""),
                ),
                by_name(str(row["file_type"])),
                Declared(
                    media_type=str(row["media_type"]),
                    mime_type=_text(details.get("declaredMime")),
                    filename=_text(details.get("filename")),
                ),
            )
        return MediaJob(
            held=held,
            id=int(row["id"]),
            conversation_id=int(row["conversation_id"]),
            provider=Provider(str(row["provider"])),
            channel_id=str(row["channel_id"]),
            status=MediaStatus(row["status"]),
            attempts=int(row["attempts"]),
            ref=MediaRef(
                media_type=str(row["media_type"]),
                media_id=_text(content.get("media_id")),
                url=_text(content.get("url")),
                mime_type=_text(content.get("mime_type")),
                filename=_text(content.get("filename")),
            ),
            received_at=row["created_at"],
        )

    async def stored(
        self,
        media_id: int,
        kept: Kept,
        *,
        file_type: FileType,
        declared: Declared,
        text: str | None,
        at: datetime,
        problem: MediaProblem | None = None,
    ) -> bool:
        params = {
            **self._file_params(media_id, kept, file_type, declared),
            "problem": problem.value if problem is not None else None,
            "extracted": (
                self._sealer.seal(
                    text.encode(),
                    SealContext(tenant=self._tenant, table=EXTRACTED_TABLE, key=str(media_id)),
                )
                if text
                else None
            ),
            "at": at,
            "run_at": at,
            "attempt": 0,
        }
        return await self._settle(_STORED_SQL, params)

    async def hold(
        self, media_id: int, kept: Kept, *, file_type: FileType, declared: Declared
    ) -> bool:
        params = self._file_params(media_id, kept, file_type, declared)
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_HOLD_SQL, params)).fetchone()
        return row is not None

    def _file_params(
        self, media_id: int, kept: Kept, file_type: FileType, declared: Declared
    ) -> dict[str, Any]:
        details = {
            "filename": declared.filename,
            "declaredMime": declared.mime_type,
            "sha256": kept.sha256,
        }
        return {
            "id": media_id,
            "object_key": kept.object_key,
            "file_key": kept.wrapped_key,
            "file_type": file_type.name,
            "mime_type": file_type.mime,
            "size": kept.size,
            "details": self._seal(DETAILS_TABLE, str(media_id), details),
        }

    async def settled(
        self,
        media_id: int,
        *,
        status: MediaStatus,
        problem: MediaProblem,
        error: str | None,
        at: datetime,
    ) -> bool:
        params = {
            "id": media_id,
            "status": status.value,
            "problem": problem.value,
            "error": error,
            "at": at,
            "run_at": at,
            "attempt": 0,
        }
        return await self._settle(_SETTLED_SQL, params)

    async def _settle(self, sql: str, params: dict[str, Any]) -> bool:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(sql, params)).fetchone()
        return bool(row and row["settled"])

    async def retry(self, media_id: int, *, attempts: int, error: str, run_at: datetime) -> None:
        params = {
            "id": media_id,
            "attempts": attempts,
            "error": error,
            "media_run_at": run_at,
            "media_attempt": attempts,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_RETRY_SQL, params)

    async def requeue_orphans(self, *, older_than: datetime, run_at: datetime) -> int:
        """Queue a fetch for every pending file of this tenant that has no job (the sweep)."""
        params = {
            "tenant": self._tenant,
            "older_than": older_than,
            "media_run_at": run_at,
            "media_attempt": 0,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            return len(await (await conn.execute(_ORPHANS_SQL, params)).fetchall())

    # ------------------------------------------------------------ what the conversation reads

    async def texts(self, message_ids: list[int]) -> dict[int, str]:
        """The documents' texts of these inbound messages (by message id), opened."""
        if not message_ids:
            return {}
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_TEXTS_SQL, {"ids": message_ids})).fetchall()
        texts: dict[int, str] = {}
        for row in rows:
            try:
                plain = self._sealer.open(
                    bytes(row["extracted"]),
                    SealContext(tenant=self._tenant, table=EXTRACTED_TABLE, key=str(row["id"])),
                )
            except UnreadableEnvelope:
                continue
            texts[int(row["inbound_message_id"])] = plain.decode(errors="replace")
        return texts

    async def images(self, message_ids: Sequence[int]) -> list[ChatImage]:
        """The stored photos of these messages for a vision model (the `TurnImages` port):
        sent as photos (not stickers, not documents), of a type vision models read, within
        the limit; decrypted in memory, in message order."""
        if not message_ids:
            return []
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (
                await conn.execute(
                    _IMAGES_SQL,
                    {
                        "ids": list(message_ids),
                        "types": list(VISION_TYPES),
                        "limit": self._vision_max,
                    },
                )
            ).fetchall()
        images: list[ChatImage] = []
        for row in rows:
            kept = Kept(
                object_key=str(row["object_key"]),
                wrapped_key=bytes(row["file_key"]),
                size=int(row["size_bytes"]),
                sha256="",
            )
            try:
                data = await self._vault.read(kept, limit=self._vision_max)
            except (StorageUnavailable, ObjectMissing) as exc:
                # The answer goes on without the photo (its OCR text is still in the turn).
                log.warning("media.image_unreadable", media_id=row["id"], error=type(exc).__name__)
                continue
            if data is not None:
                images.append(ChatImage(mime_type=by_name(str(row["file_type"])).mime, data=data))
        return images

    # ------------------------------------------------------------ operators

    async def of_conversation(self, conversation_id: int) -> list[dict[str, Any]] | None:
        """One conversation's files; None when the tenant has no such conversation."""
        async with self._database.tenant_connection(self._tenant) as conn:
            found = await (
                await conn.execute(
                    "SELECT 1 FROM conversations WHERE id = %(id)s AND tenant = %(tenant)s",
                    {"id": conversation_id, "tenant": self._tenant},
                )
            ).fetchone()
        if found is None:
            return None
        return await self.list([conversation_id])

    async def list(self, conversation_ids: list[int]) -> list[dict[str, Any]]:
        """Every file of these conversations, as operators and exports see it (no bytes)."""
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_LIST_SQL, {"ids": conversation_ids})).fetchall()
        return [self._listed(row) for row in rows]

    def _listed(self, row: Any) -> dict[str, Any]:
        details = self._open(DETAILS_TABLE, str(row["id"]), row["details"]) or {}
        return {
            "id": row["id"],
            "conversationId": row["conversation_id"],
            "messageId": row["inbound_message_id"],
            "providerMessageId": row["provider_message_id"],
            "kind": row["media_type"],
            "status": row["status"],
            "problem": row["problem"],
            "fileType": row["file_type"],
            "mimeType": row["mime_type"],
            "size": row["size_bytes"],
            "filename": details.get("filename"),
            "sha256": details.get("sha256"),
            "hasText": bool(row["has_text"]),
            "attempts": row["attempts"],
            "createdAt": _iso(row["created_at"]),
            "settledAt": _iso(row["settled_at"]),
        }

    async def file(self, media_id: int) -> MediaFile | None:
        """A stored file of this tenant, ready to stream; None when there is none (or it was
        refused, failed, is still pending, or its object is gone)."""
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_FILE_SQL, {"id": media_id})).fetchone()
        if row is None or row["status"] != MediaStatus.STORED.value:
            return None
        details = self._open(DETAILS_TABLE, str(row["id"]), row["details"]) or {}
        file_type = by_name(str(row["file_type"]))
        chunks = self._vault.open(str(row["object_key"]), bytes(row["file_key"]))
        # The first piece is read here: a missing object is a 404, not a broken download.
        first = aiter(chunks)
        try:
            head = await anext(first)
        except ObjectMissing:
            return None
        except StopAsyncIteration:
            head = b""

        async def whole() -> AsyncIterator[bytes]:
            if head:
                yield head
            async for piece in first:
                yield piece

        return MediaFile(
            id=int(row["id"]),
            conversation_id=int(row["conversation_id"]),
            filename=safe_filename(details.get("filename"), file_type),
            mime_type=file_type.mime,
            size=int(row["size_bytes"] or 0),
            chunks=whole(),
        )

    # ------------------------------------------------------------ retention and erasure

    async def purge(self, *, cutoff: datetime) -> int:
        """Files older than `cutoff` (retention, CP7): rows removed, objects deleted."""
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (
                await conn.execute(
                    _TRASH_SQL.format(where=PURGE_WHERE), {"tenant": self._tenant, "cutoff": cutoff}
                )
            ).fetchone()
        removed = int(row["removed"]) if row else 0
        await self.empty_trash()
        return removed

    def erase_sql(self) -> str:
        """The statement that moves the files of conversations `%(ids)s` to the trash, for the
        erasure's own transaction (run before the conversations are deleted)."""
        return _TRASH_SQL.format(where=ERASE_WHERE)

    async def empty_trash(self, *, batch: int = 200) -> int:
        """Delete the objects named in the trash; those the store would not delete stay for
        the next time (retention runs hourly). Returns how many were deleted."""
        deleted, _ = await _empty_trash_batch(self._database, self._objects, self._tenant, batch)
        return deleted


async def _empty_trash_batch(
    database: Database, objects: ObjectStore, tenant: str, batch: int
) -> tuple[int, int]:
    """One batch of the tenant's trash: its objects deleted and their names dropped; a name
    whose object the store would not delete stays, its attempts counted. (deleted, kept)"""
    async with database.tenant_connection(tenant) as conn:
        rows = await (
            await conn.execute(
                "SELECT id, object_key FROM media_trash WHERE tenant = %(tenant)s "
                "ORDER BY id LIMIT %(batch)s",
                {"tenant": tenant, "batch": batch},
            )
        ).fetchall()
    done: list[int] = []
    failed: list[int] = []
    for row in rows:
        try:
            await objects.delete(str(row["object_key"]))
        except ObjectStoreUnavailable as exc:
            failed.append(int(row["id"]))
            log.warning("media.delete_failed", error=str(exc))
            continue
        done.append(int(row["id"]))
    if rows:
        async with database.tenant_connection(tenant) as conn:
            await conn.execute("DELETE FROM media_trash WHERE id = ANY(%(ids)s)", {"ids": done})
            await conn.execute(
                "UPDATE media_trash SET attempts = attempts + 1 WHERE id = ANY(%(ids)s)",
                {"ids": failed},
            )
    return len(done), len(failed)


class ErasedTenantFiles:
    """An erased tenant's files (MT2, MD1): its data key is gone, so they could not be read,
    but they must not stay in the bucket either. Every media row goes to the trash in one
    statement (the names survive a store that is down), then the objects are deleted; what
    the store would not delete, or what a crash left, `sweep` finishes (the worker's hourly
    retention run)."""

    def __init__(self, database: Database, objects: ObjectStore, *, batch: int = 200) -> None:
        self._database = database
        self._objects = objects
        self._batch = batch

    async def discard(self, tenant: str) -> int:
        """Every file of `tenant` removed: rows into the trash, objects deleted while the
        store answers. Returns the rows removed."""
        removed, _ = await self._discard(tenant)
        return removed

    async def sweep(self) -> int:
        """`discard` for every erased tenant; returns the objects deleted."""
        async with self._database.pool.connection() as conn:
            rows = await (await conn.execute(_ERASED_TENANTS_SQL)).fetchall()
        deleted = 0
        for row in rows:
            deleted += (await self._discard(str(row["id"])))[1]
        return deleted

    async def _discard(self, tenant: str) -> tuple[int, int]:
        async with self._database.tenant_connection(tenant) as conn:
            row = await (
                await conn.execute(_TRASH_SQL.format(where=EVERY_FILE), {"tenant": tenant})
            ).fetchone()
        removed = int(row["removed"]) if row else 0
        deleted = 0
        while True:
            done, kept = await _empty_trash_batch(
                self._database, self._objects, tenant, self._batch
            )
            deleted += done
            if kept or done < self._batch:  # the store refused some: they wait for the sweep
                break
        if removed or deleted:
            log.info("media.tenant_files_discarded", tenant=tenant, rows=removed, objects=deleted)
        return removed, deleted


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
