"""A stored file's text, for the conversation (MD1, issue 16 item 2): PDF and Word text
layers through the knowledge base's readers, and OCR of photos and scanned PDFs where
Tesseract is installed. The text is sealed with the media row and joins the person's turn,
where it is masked like everything they write.

Only files up to `max_bytes` are read (the readers need the file whole, decrypted in memory);
larger ones are kept but not read. A corrupted or encrypted PDF is kept and simply has no
text: reading is a courtesy, never a reason to lose a file.
"""

from __future__ import annotations

import asyncio

import structlog

from wagate.domain.file_types import Family, FileType
from wagate.knowledge import ocr
from wagate.knowledge.errors import SourceError
from wagate.knowledge.readers import read
from wagate.pipeline.ports import Kept
from wagate.storage.media import SealedVault

log = structlog.get_logger(__name__)

# Our type names → the name the knowledge readers pick their reader by.
_READABLE = {"pdf": "file.pdf", "docx": "file.docx", "text": "file.txt", "csv": "file.txt"}
_IMAGES = {"jpeg": "file.jpg", "png": "file.png", "tiff": "file.tif", "bmp": "file.bmp",
           "webp": "file.webp"}  # fmt: skip


# Files read at once in one process: each is whole in memory while it is read, so one at a
# time bounds what reading adds to the worker's memory (files themselves always stream).
READING_AT_ONCE = 1


class MediaTextReader:
    """The `DocumentText` port over the vault and the knowledge readers."""

    def __init__(self, vault: SealedVault, *, max_bytes: int, max_chars: int) -> None:
        self._vault = vault
        self._max_bytes = max_bytes
        self._max_chars = max_chars
        self._gate = asyncio.Semaphore(READING_AT_ONCE)

    def _name(self, file_type: FileType) -> str | None:
        if file_type.name in _READABLE:
            return _READABLE[file_type.name]
        if file_type.family is Family.IMAGE and file_type.name in _IMAGES and ocr.available():
            return _IMAGES[file_type.name]
        return None

    async def read(self, kept: Kept, file_type: FileType) -> str | None:
        name = self._name(file_type)
        if name is None:
            return None
        if kept.size > self._max_bytes:
            return None
        async with self._gate:
            data = await self._vault.read(kept, limit=self._max_bytes)
            if data is None:
                return None
            try:
                document = await asyncio.to_thread(read, name, data, max_bytes=self._max_bytes)
            except SourceError as exc:
                log.info("media.no_text", file_type=file_type.name, reason=str(exc)[:200])
                return None
        text = document.text.strip()
        if len(text) > self._max_chars:
            text = text[: self._max_chars].rsplit(None, 1)[0] + " …"
        return text or None
