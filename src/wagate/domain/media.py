"""Inbound files (MD1): what is accepted, how big it may be, and how it is fetched. Pure.

A file a person sends is a reference at the provider (Meta: a media id whose download link
lasts minutes; Fonnte: a URL kept for half an hour). The gateway fetches it promptly, on the
queue, decides its real type from its bytes (`file_types.sniff`), keeps it only if it is the
kind of file the message says and within the limit, and stores it encrypted. Every media row
ends in one of four states, and the conversation answers once it has:

    pending ──fetched, checked, stored──► stored
       │──too large, a program, a lying type, a type we do not take──► refused(problem)
       └──gone at the provider (404, expired), or retries spent──────► failed(problem)

A voice note, when a transcription model is configured, is kept first (the row stays
`pending`, its object named) and then transcribed; the row is `stored` with the transcript,
or `stored` with the problem `transcription_failed` once the transcription's tries are spent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from wagate.domain.file_types import (
    DANGEROUS_EXTENSIONS,
    Family,
    FileType,
    claimed_by_extension,
    claimed_by_mime,
    extension_of,
)

MB = 1024 * 1024


class MediaStatus(StrEnum):
    PENDING = "pending"
    STORED = "stored"
    REFUSED = "refused"
    FAILED = "failed"


class MediaProblem(StrEnum):
    """Why a file was not kept; each has its own message to the person."""

    TOO_LARGE = "too_large"
    EXECUTABLE = "executable"  # a program, installer, script or active web content
    TYPE_MISMATCH = "type_mismatch"  # the declared type (MIME, name, message kind) lies
    TYPE_NOT_ACCEPTED = "type_not_accepted"  # an archive, or bytes of no type we know
    UNAVAILABLE = "unavailable"  # gone at the provider (404, expired link), or retries spent
    UNSUPPORTED = "unsupported"  # the channel cannot hand files over at all
    # A voice note kept (status `stored`) whose transcription failed for good: the file stays,
    # the person is asked to write.
    TRANSCRIPTION_FAILED = "transcription_failed"


REFUSALS = frozenset(
    {
        MediaProblem.TOO_LARGE,
        MediaProblem.EXECUTABLE,
        MediaProblem.TYPE_MISMATCH,
        MediaProblem.TYPE_NOT_ACCEPTED,
    }
)

MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaLimits:
    """Largest file per kind of message, in bytes (MEDIA_MAX_*_BYTES). The kind is what the
    person sent it as: a photo sent as a document may be as large as a document."""

    image: int = 5 * MB
    document: int = 100 * MB
    audio: int = 16 * MB
    video: int = 16 * MB
    sticker: int = 512 * 1024

    def for_kind(self, media_type: str) -> int:
        return {
            "image": self.image,
            "document": self.document,
            "audio": self.audio,
            "video": self.video,
            "sticker": self.sticker,
        }.get(media_type, self.document)


# What may arrive as each kind of message. A document may be any file we can keep and read.
_ACCEPTED: dict[str, frozenset[Family]] = {
    "image": frozenset({Family.IMAGE}),
    "sticker": frozenset({Family.IMAGE}),
    "audio": frozenset({Family.AUDIO}),
    "video": frozenset({Family.VIDEO}),
    "document": frozenset({Family.DOCUMENT, Family.TEXT, Family.IMAGE, Family.AUDIO, Family.VIDEO}),
}

# Voice and audio files often come in the ISO base media container without an audio brand.
_AUDIO_CONTAINERS = frozenset({"mp4", "3gpp"})

# Types that one container holds and senders mislabel among themselves without lying: the
# ISO base media family (an M4A is an MP4 with audio only), text and CSV, and the old OLE2
# office files (the bytes cannot tell them apart).
_COMPATIBLE = (
    frozenset({"mp4", "m4a", "3gpp", "quicktime"}),
    frozenset({"text", "csv"}),
    frozenset({"doc", "xls", "ppt"}),
)
# An office file whose parts lay past the head is any of the three.
_OOXML = frozenset({"docx", "xlsx", "pptx"})


def compatible(claimed: FileType, actual: FileType) -> bool:
    if claimed.name == actual.name:
        return True
    if "ooxml" in (claimed.name, actual.name):
        return {claimed.name, actual.name} - {"ooxml"} <= _OOXML
    return any(claimed.name in group and actual.name in group for group in _COMPATIBLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Declared:
    """What the message says about its file: the kind of message, the MIME type the sender's
    client gave (Meta), the file name (documents; Fonnte's file name and extension)."""

    media_type: str
    mime_type: str | None = None
    filename: str | None = None


def judge(declared: Declared, actual: FileType) -> MediaProblem | None:
    """None when the file may be kept; else why not. The bytes decide (`actual`), the
    declaration must agree with them: programs first (by bytes or by a name that runs on a
    desktop), then types we never take, then the message kind, then the claimed type."""
    if actual.family is Family.EXECUTABLE or extension_of(declared.filename) in (
        DANGEROUS_EXTENSIONS
    ):
        return MediaProblem.EXECUTABLE
    if actual.family in (Family.ARCHIVE, Family.UNKNOWN):
        return MediaProblem.TYPE_NOT_ACCEPTED
    accepted = _ACCEPTED.get(declared.media_type, _ACCEPTED["document"])
    if actual.family not in accepted and not (
        declared.media_type == "audio" and actual.name in _AUDIO_CONTAINERS
    ):
        return MediaProblem.TYPE_MISMATCH
    for claimed in (
        claimed_by_mime(declared.mime_type),
        claimed_by_extension(declared.filename),
    ):
        if claimed is not None and not compatible(claimed, actual):
            return MediaProblem.TYPE_MISMATCH
    return None


def too_large(size: int | None, declared: Declared, limits: MediaLimits) -> bool:
    """A size known (announced by the provider, or counted so far) beyond the kind's limit."""
    return size is not None and size > limits.for_kind(declared.media_type)


# ------------------------------------------------------------------ fetching, as a port


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaRef:
    """Where the provider keeps a file: its media id (Meta) or URL (Fonnte), as the webhook
    said."""

    media_type: str
    media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    filename: str | None = None


class MediaDownload(Protocol):
    """One file being downloaded: what the provider announced, and its bytes in pieces."""

    @property
    def size(self) -> int | None:
        """The size the provider announced (Meta's `file_size`, Content-Length), if any."""

    @property
    def mime_type(self) -> str | None:
        """The MIME type the provider announced for the bytes, if any."""

    def chunks(self) -> AsyncIterator[bytes]: ...


@runtime_checkable
class MediaSource(Protocol):
    """A provider adapter that can hand over inbound files (`Capabilities.media`).

    `open_media` raises `MediaGone` when the provider no longer has the file (404, an expired
    link that cannot be renewed) and `MediaFetchFailed` when a later try may work (timeouts,
    5xx, 429, a refused token that may be replaced)."""

    def open_media(self, ref: MediaRef) -> AbstractAsyncContextManager[MediaDownload]: ...


class MediaFetchError(Exception):
    """Fetching a file failed."""


class MediaGone(MediaFetchError):
    """Permanent: the provider does not have the file (any more). No retry."""


class MediaFetchFailed(MediaFetchError):
    """Transient: worth another try later; `retry_after` (seconds) is the provider's hint."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MediaTooLarge(MediaFetchError):
    """The bytes went past the kind's limit while they were read (the provider announced
    less, or nothing)."""


def safe_filename(filename: str | None, actual: FileType) -> str:
    """A file name to offer an operator's browser: the sender's base name stripped of path,
    quotes and control characters, with the extension of what the file really is."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    cleaned = "".join(c if c.isalnum() or c in " -_()" else "_" for c in stem).strip(" ._")
    return f"{(cleaned or 'file')[:100]}.{actual.extension}"
