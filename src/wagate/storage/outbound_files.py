"""Files operators send by upload, in storage (issue 16, item 3): the `outbound_files` rows
(migration 0020) and their sealed objects.

A row is written by `PostgresOutbox.enqueue` in the transaction that queues its message
(`insert_params` below); delivery reads it here, records the provider's copy, and deletes it
once the message is accepted. Every deletion — delivered, retention, erasure through the
conversation's cascade — moves the object's name to `media_trash` by trigger, so the object is
deleted afterwards even when the store is down at that moment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
import structlog

from wagate.pipeline.outbound_files import FileGone, OutboundFile
from wagate.pipeline.ports import Kept, NewUpload, StorageUnavailable
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.database import Database
from wagate.storage.media import SealedVault
from wagate.storage.objects import ObjectMissing, ObjectStore, ObjectStoreUnavailable

log = structlog.get_logger(__name__)

DETAILS_TABLE = "outbound_files.details"

INSERT_SQL = """
INSERT INTO outbound_files (tenant, outbound_id, object_key, file_key, file_type, mime_type,
                            size_bytes, details)
VALUES (%(tenant)s, %(outbound_id)s, %(object_key)s, %(file_key)s, %(file_type)s,
        %(mime_type)s, %(size)s, %(details)s)
"""

_OF_MESSAGE_SQL = """
SELECT outbound_id, object_key, file_key, size_bytes, details, provider_media_id,
       media_channel, uploaded_at
  FROM outbound_files WHERE outbound_id = %(outbound_id)s
"""

_UPLOADED_SQL = """
UPDATE outbound_files SET provider_media_id = %(media_id)s, media_channel = %(channel)s,
       uploaded_at = %(at)s
 WHERE outbound_id = %(outbound_id)s
"""

# The trigger puts the object's name in media_trash in this same statement.
_DELIVERED_SQL = (
    "DELETE FROM outbound_files WHERE outbound_id = %(outbound_id)s RETURNING object_key"
)
_UNTRASH_SQL = "DELETE FROM media_trash WHERE tenant = %(tenant)s AND object_key = %(object_key)s"


def insert_params(
    sealer: Sealer, tenant: str, outbound_id: int, upload: NewUpload
) -> dict[str, Any]:
    """The row for a file kept for outbound message `outbound_id`: its details sealed under
    the object's name (unique, and known before the row exists)."""
    details = {
        "filename": upload.filename,
        "declaredMime": upload.declared_mime,
        "sha256": upload.kept.sha256,
    }
    return {
        "tenant": tenant,
        "outbound_id": outbound_id,
        "object_key": upload.kept.object_key,
        "file_key": upload.kept.wrapped_key,
        "file_type": upload.file_type.name,
        "mime_type": upload.file_type.mime,
        "size": upload.kept.size,
        "details": sealer.seal(
            orjson.dumps(details),
            SealContext(tenant=tenant, table=DETAILS_TABLE, key=upload.kept.object_key),
        ),
    }


class PostgresOutboundFiles:
    """One tenant's outbound files (the `OutboundFiles` port of delivery)."""

    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        tenant: str,
        *,
        vault: SealedVault,
        objects: ObjectStore,
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant
        self._vault = vault
        self._objects = objects

    async def of_message(self, outbound_id: int) -> OutboundFile | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (
                await conn.execute(_OF_MESSAGE_SQL, {"outbound_id": outbound_id})
            ).fetchone()
        if row is None:
            return None
        key = str(row["object_key"])
        try:
            details = orjson.loads(
                self._sealer.open(
                    bytes(row["details"]),
                    SealContext(tenant=self._tenant, table=DETAILS_TABLE, key=key),
                )
            )
        except UnreadableEnvelope:
            details = {}
        return OutboundFile(
            outbound_id=int(row["outbound_id"]),
            kept=Kept(
                object_key=key,
                wrapped_key=bytes(row["file_key"]),
                size=int(row["size_bytes"]),
                sha256=str(details.get("sha256") or ""),
            ),
            media_id=row["provider_media_id"],
            media_channel=row["media_channel"],
            uploaded_at=row["uploaded_at"],
        )

    async def chunks(self, file: OutboundFile) -> AsyncIterator[bytes]:
        """The plaintext; the store's failures as the pipeline names them."""
        try:
            async for piece in self._vault.open(file.kept.object_key, file.kept.wrapped_key):
                yield piece
        except ObjectStoreUnavailable as exc:
            raise StorageUnavailable(str(exc)) from exc
        except ObjectMissing as exc:
            raise FileGone("the object is missing") from exc
        except UnreadableEnvelope as exc:  # altered, or its key is gone
            raise FileGone("the object does not open") from exc

    async def uploaded(
        self, outbound_id: int, *, media_id: str, channel_id: str, at: datetime
    ) -> None:
        params = {"outbound_id": outbound_id, "media_id": media_id, "channel": channel_id, "at": at}
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_UPLOADED_SQL, params)

    async def delivered(self, outbound_id: int) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (
                await conn.execute(_DELIVERED_SQL, {"outbound_id": outbound_id})
            ).fetchone()
        if row is None:
            return
        key = str(row["object_key"])
        try:
            await self._objects.delete(key)
        except ObjectStoreUnavailable as exc:
            # Its name stays in the trash: the hourly retention run deletes it later.
            log.warning("outbound_file.delete_failed", error=str(exc))
            return
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_UNTRASH_SQL, {"tenant": self._tenant, "object_key": key})
