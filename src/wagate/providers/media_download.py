"""A file's bytes over HTTP, streamed, with HTTP failures read as the media port's errors
(shared by the provider adapters' `open_media`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from wagate.domain.media import MediaFetchFailed, MediaGone

# Pieces handed on as they arrive, at most this large: the sealing re-chunks them anyway.
READ_BYTES = 64 * 1024
# Answers that mean the file is not there: no retry helps.
GONE_STATUSES = frozenset({404, 410})


@dataclass(slots=True)
class StreamedDownload:
    """One streamed response (the `MediaDownload` port)."""

    response: httpx.Response
    size: int | None
    mime_type: str | None

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for piece in self.response.aiter_bytes(READ_BYTES):
                yield piece
        except httpx.HTTPError as exc:
            raise MediaFetchFailed(f"the download broke off: {type(exc).__name__}") from exc


def content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def content_type(response: httpx.Response) -> str | None:
    value = response.headers.get("content-type", "").strip()
    return value or None


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def refused(peer: str, response: httpx.Response) -> MediaGone | MediaFetchFailed:
    """A non-success answer as the port's error: gone (404/410), else worth another try (5xx,
    429, 401 from a token that may be replaced, anything unexpected)."""
    if response.status_code in GONE_STATUSES:
        return MediaGone(f"{peer} answered {response.status_code}: the file is gone")
    return MediaFetchFailed(
        f"{peer} answered {response.status_code}", retry_after=retry_after(response)
    )


def unreachable(peer: str, exc: httpx.HTTPError) -> MediaFetchFailed:
    return MediaFetchFailed(f"{peer} unreachable: {type(exc).__name__}")
