"""Files an operator sends by upload, on their way out (issue 16, item 3).

    operator ──► Sending.send_file: checks (capability, window, recipient), the head sniffed
                 and judged (`domain/outbound_files`), the file streamed through its limit into
                 the vault (sealed in chunks, as inbound files are) ──► ONE transaction: the
                 outbound row (its document describes the file: `FileMessage`), the
                 `outbound_files` row naming the object, the conversation's job
    deliver  ──► `UploadedFiles.ready`, BEFORE the attempt is recorded:
                 Meta (`MediaUploader`): the provider's id kept from an earlier upload, or the
                 file streamed out of the vault into `POST /{phone-number-id}/media`, its id
                 recorded on the row ──► the attempt ──► the message naming `{"id": …}`
                 Fonnte (`FileSender`): the file (at most its 4 MB ceiling) read, then the one
                 request that carries it is the attempt
             ──► accepted: the row deleted (a trigger moves the object's name to the trash),
                 the object deleted from the store

Why the upload comes before the attempt is recorded: an attempt left `sending` by a crash
means "the provider may have the message", which delivery treats with care (it waits for a
status webhook, and gives up rather than risk a duplicate). A crash during an upload sent no
message, so the row stays pending and the next run uploads again (an unused copy at Meta
expires by itself after 30 days); a crash after the id was recorded reuses it. The message
itself keeps the idempotency of every send: its key travels as the tracker.

A failed upload still counts as an attempt (so the backoff ends), except when it is our own
object store that failed: then the message waits and nothing is spent, as a file is not lost
because a disk was briefly away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from wagate.domain import errors as e
from wagate.domain.provider_port import FileContent, FileSender, MediaUploader, MessagingProvider
from wagate.domain.rich_messages import FileMessage
from wagate.pipeline.ports import Kept, StorageUnavailable

# Meta keeps an uploaded file for 30 days; a copy older than this is uploaded again.
UPLOAD_REUSE = timedelta(days=7)


class FileGone(Exception):
    """The stored file is missing or does not open (deleted, altered, its key gone): it can
    never be sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundFile:
    """An outbound row's stored file, and the provider's copy of it if one was uploaded."""

    outbound_id: int
    kept: Kept
    media_id: str | None = None
    media_channel: str | None = None
    uploaded_at: datetime | None = None

    def reusable_id(self, channel_id: str, now: datetime) -> str | None:
        """The provider's id of an earlier upload to this channel, while it is fresh."""
        if self.media_id is None or self.media_channel != channel_id or self.uploaded_at is None:
            return None
        return self.media_id if now - self.uploaded_at < UPLOAD_REUSE else None


class OutboundFiles(Protocol):
    """The stored files of outbound rows (storage/outbound_files.py)."""

    async def of_message(self, outbound_id: int) -> OutboundFile | None:
        """The row's file; None when it has none (any more)."""

    def chunks(self, file: OutboundFile) -> AsyncIterator[bytes]:
        """The plaintext, piece by piece; `StorageUnavailable` when the store fails,
        `FileGone` when the object is missing or does not open."""

    async def uploaded(
        self, outbound_id: int, *, media_id: str, channel_id: str, at: datetime
    ) -> None:
        """Record the provider's id of the uploaded copy."""

    async def delivered(self, outbound_id: int) -> None:
        """The message was accepted: remove the file (row and object)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ready:
    """What the send needs: the provider's id (an uploader) or the bytes (a file sender)."""

    media_id: str | None = None
    content: FileContent | None = None


class StoreDown(Exception):
    """Our object store failed while preparing the file: wait, spend no attempt."""


@dataclass(kw_only=True)
class UploadedFiles:
    files: OutboundFiles
    clock: Callable[[], datetime]

    async def ready(
        self, provider: MessagingProvider, message_id: int, channel_id: str, rich: FileMessage
    ) -> Ready:
        """Prepare the send of an uploaded file. Raises a SendError (permanent: the file is
        gone, the provider cannot take uploads; transient: the upload failed) or StoreDown."""
        file = await self.files.of_message(message_id)
        if file is None:
            raise e.InvalidRequest("the uploaded file is no longer stored", code="file_gone")
        if not provider.capabilities.media_uploads:
            raise e.InvalidRequest(
                f"provider {provider.name.value} cannot send uploaded files", code="no_uploads"
            )
        content = self._content(file, rich)
        try:
            if isinstance(provider, MediaUploader):
                return Ready(media_id=await self._media_id(provider, file, channel_id, content))
            if isinstance(provider, FileSender):
                return Ready(content=await self._in_memory(file, content, provider))
        except StorageUnavailable as exc:
            raise StoreDown(str(exc)) from exc
        except FileGone as exc:
            raise e.InvalidRequest(
                f"the stored file cannot be read: {exc}", code="file_gone"
            ) from exc
        raise e.InvalidRequest(
            f"provider {provider.name.value} cannot send uploaded files", code="no_uploads"
        )

    def _content(self, file: OutboundFile, rich: FileMessage) -> FileContent:
        return FileContent(
            filename=rich.filename,
            mime_type=rich.mime_type,
            size=file.kept.size,
            chunks=lambda: self.files.chunks(file),
        )

    async def _media_id(
        self, provider: MediaUploader, file: OutboundFile, channel_id: str, content: FileContent
    ) -> str:
        now = self.clock()
        kept = file.reusable_id(channel_id, now)
        if kept is not None:
            return kept
        try:
            media_id = await provider.upload_media(content=content)
        except e.OutcomeUnknown as exc:
            # No message went: uploading again is harmless (an unused copy expires).
            raise e.ProviderUnavailable(f"upload outcome unknown: {exc}") from exc
        await self.files.uploaded(
            file.outbound_id, media_id=media_id, channel_id=channel_id, at=self.clock()
        )
        return media_id

    async def _in_memory(
        self, file: OutboundFile, content: FileContent, provider: MessagingProvider
    ) -> FileContent:
        """A provider taking the file with the message gets it read first (bounded by its own
        ceiling, checked when it was queued), so a store failure is no failed send."""
        ceiling = provider.capabilities.upload_max_bytes
        if ceiling is not None and file.kept.size > ceiling:
            raise e.InvalidRequest(
                f"the file is over provider {provider.name.value}'s {ceiling}-byte limit",
                code="too_large",
            )
        data = b"".join([piece async for piece in content.chunks()])

        async def again() -> AsyncIterator[bytes]:
            yield data

        return FileContent(
            filename=content.filename, mime_type=content.mime_type, size=len(data), chunks=again
        )
