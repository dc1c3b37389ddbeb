"""Inbound files from the Graph API (MD1): `GET /{media-id}` with the bearer token answers
`{url, mime_type, sha256, file_size}`; `GET url` with the same token gives the bytes. The link
lasts about five minutes, so a link that is refused when we use it is renewed once with a
fresh `GET /{media-id}` (the id itself lives for weeks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson

from wagate.domain.media import MediaDownload, MediaFetchFailed, MediaGone, MediaRef
from wagate.providers.media_download import (
    StreamedDownload,
    content_length,
    content_type,
    refused,
    unreachable,
)
from wagate.providers.payload import mapping, text

# A download link refused with one of these was probably just expired: renew it once.
_EXPIRED_LINK = frozenset({401, 403, 404, 410})
# Graph error codes meaning the media id names nothing (any more).
_NO_SUCH_MEDIA = frozenset({100, 131052, 131053})


class MetaMediaDownloads:
    """`open_media` for the Graph API client (mixed into `MetaClient`, whose HTTP client
    carries the bearer token and the Graph base URL)."""

    _http: httpx.AsyncClient
    _phone_number_id: str

    @asynccontextmanager
    async def open_media(self, ref: MediaRef) -> AsyncIterator[MediaDownload]:
        if not ref.media_id:
            raise MediaGone("the webhook named no media id")
        for renewal in (False, True):
            info = await self._media_info(ref.media_id)
            url = text(info.get("url"))
            if url is None or not url.startswith(("https://", "http://")):
                raise MediaFetchFailed("Graph API answered without a download link")
            try:
                request = self._http.build_request("GET", url)
                response = await self._http.send(request, stream=True, follow_redirects=True)
            except httpx.HTTPError as exc:
                raise unreachable("media link", exc) from exc
            try:
                if response.status_code in _EXPIRED_LINK and not renewal:
                    continue  # fetch a fresh link
                if not response.is_success:
                    raise refused("media link", response)
                size = info.get("file_size")
                yield StreamedDownload(
                    response=response,
                    size=size if isinstance(size, int) else content_length(response),
                    mime_type=text(info.get("mime_type")) or content_type(response),
                )
                return
            finally:
                await response.aclose()
        raise MediaGone("the media link was refused again after it was renewed")

    async def _media_info(self, media_id: str) -> dict[str, Any]:
        try:
            response = await self._http.get(
                media_id, params={"phone_number_id": self._phone_number_id}
            )
        except httpx.HTTPError as exc:
            raise unreachable("Graph API", exc) from exc
        try:
            body: Any = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            body = {}
        if response.is_success and "error" not in mapping(body):
            return dict(mapping(body))
        error = mapping(mapping(body).get("error"))
        if response.status_code == 404 or error.get("code") in _NO_SUCH_MEDIA:
            raise MediaGone(f"Graph API has no media {media_id!r}")
        raise refused("Graph API", response)
