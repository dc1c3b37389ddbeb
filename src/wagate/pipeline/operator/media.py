"""Files people sent (MD1): operators list a conversation's files and download one. Reading
needs `READ` like the conversation itself; every download is audited (`media.downloaded`:
the file's id, its conversation, type and size; never its name)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from wagate.domain.operators import Permission
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import NotFound
from wagate.pipeline.operator.recorder import Recorder


class StoredFile(Protocol):
    """A stored file opened for streaming (plaintext, chunk by chunk)."""

    @property
    def id(self) -> int: ...

    @property
    def conversation_id(self) -> int: ...

    @property
    def filename(self) -> str:
        """A safe name to offer (the sender's, cleaned, with the real type's extension)."""

    @property
    def mime_type(self) -> str:
        """The type the bytes really are (sniffed), not what the sender declared."""

    @property
    def size(self) -> int: ...

    @property
    def chunks(self) -> AsyncIterator[bytes]: ...


class MediaLibrary(Protocol):
    async def of_conversation(self, conversation_id: int) -> list[dict[str, Any]] | None:
        """The conversation's files (no bytes); None when there is no such conversation."""

    async def file(self, media_id: int) -> StoredFile | None:
        """A stored file; None when there is none (unknown, refused, failed, pending)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFiles:
    library: MediaLibrary | None
    recorder: Recorder

    def _library(self) -> MediaLibrary:
        if self.library is None:
            raise NotFound("no files are kept by this gateway")
        return self.library

    async def list(self, conversation_id: int, *, by: Actor) -> dict[str, Any]:
        by.require(Permission.READ)
        items = await self._library().of_conversation(conversation_id)
        if items is None:
            raise NotFound(f"no conversation {conversation_id}")
        return {"conversationId": conversation_id, "items": items}

    async def download(self, media_id: int, *, by: Actor) -> StoredFile:
        """The file, opened; recorded before a byte is sent (a download that breaks off is
        still a download)."""
        by.require(Permission.READ)
        stored = await self._library().file(media_id)
        if stored is None:
            raise NotFound(f"no stored file {media_id}")
        await self.recorder.record(
            by,
            "media.downloaded",
            f"media:{stored.id}",
            conversation=stored.conversation_id,
            mime_type=stored.mime_type,
            size=stored.size,
        )
        return stored
