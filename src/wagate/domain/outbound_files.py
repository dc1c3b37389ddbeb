"""Files an operator sends by upload (issue 16, item 3): what may go, as what, and how big.
Pure: the operator service reads the head of the file and asks here before anything is kept.

The bytes decide, as for the files people send (`domain/media.judge`): a program (by its
bytes or by a name that runs on a desktop), an archive or bytes of no known type are refused,
and so is a file whose declared type (its MIME type, its name's extension, the kind it is sent
as) lies about them. WhatsApp shows only JPEG and PNG as photos (Meta's media table), so any
other picture goes as a document. Limits are per kind, as inbound (5 MB photos, 100 MB
documents by default), and never above what the provider itself takes (Fonnte: 4 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

from wagate.domain.file_types import FileType
from wagate.domain.media import MB, Declared, MediaProblem, judge, safe_filename
from wagate.domain.rich_messages import MEDIA_TYPES

# What WhatsApp shows as a photo (Meta: image/jpeg and image/png, 8-bit RGB or RGBA).
PHOTO_TYPES = frozenset({"jpeg", "png"})


class UploadRefused(ValueError):
    """The file may not be sent; the text says why, for the operator."""

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem  # a closed word, for the audit record


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadLimits:
    """Largest file an operator may send, per kind (OUTBOUND_MAX_IMAGE_BYTES,
    OUTBOUND_MAX_DOCUMENT_BYTES)."""

    image: int = 5 * MB
    document: int = 100 * MB

    def for_kind(self, kind: str, provider_ceiling: int | None = None) -> int:
        limit = self.image if kind == "image" else self.document
        return min(limit, provider_ceiling) if provider_ceiling is not None else limit

    @property
    def largest(self) -> int:
        return max(self.image, self.document)


def kind_for(actual: FileType, size: int, limits: UploadLimits, asked: str | None) -> str:
    """The kind the file goes as: the one asked for, else a photo when WhatsApp can show it as
    one within the photo limit, else a document."""
    if asked is not None:
        if asked not in MEDIA_TYPES:
            raise UploadRefused("type must be document or image", problem="bad_kind")
        return asked
    return "image" if actual.name in PHOTO_TYPES and size <= limits.image else "document"


def check_upload(
    *,
    kind: str,
    actual: FileType,
    size: int,
    filename: str | None,
    declared_mime: str | None,
    limits: UploadLimits,
    provider_ceiling: int | None = None,
) -> None:
    """Nothing when the file may go as `kind`; else UploadRefused saying why."""
    if size <= 0:
        raise UploadRefused("the file is empty", problem="empty")
    problem = judge(Declared(media_type=kind, mime_type=declared_mime, filename=filename), actual)
    if problem is MediaProblem.EXECUTABLE:
        raise UploadRefused(
            "the file is a program or script (by its bytes or its name): it is not sent",
            problem=problem.value,
        )
    if problem is MediaProblem.TYPE_NOT_ACCEPTED:
        raise UploadRefused(
            "the file is an archive or of no type we can tell: send a PDF, an office "
            "document, a photo or a text",
            problem=problem.value,
        )
    if problem is not None:
        raise UploadRefused(
            f"the file's declared type does not match its bytes (they are {actual.name})",
            problem=problem.value,
        )
    if kind == "image" and actual.name not in PHOTO_TYPES:
        raise UploadRefused(
            f"WhatsApp shows only JPEG and PNG as images (this is {actual.name}): "
            "send it as a document",
            problem="image_type",
        )
    limit = limits.for_kind(kind, provider_ceiling)
    if size > limit:
        raise UploadRefused(
            f"the file is {size} bytes, over the {limit}-byte limit for {kind}s",
            problem=MediaProblem.TOO_LARGE.value,
        )


def shown_name(filename: str | None, actual: FileType) -> str:
    """The name the person sees: the operator's base name made safe, with the extension of
    what the file really is."""
    return safe_filename(filename, actual)
