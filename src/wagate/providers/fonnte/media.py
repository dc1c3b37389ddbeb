"""Inbound files from Fonnte (MD1): the webhook's `url` field, kept by Fonnte for about half
an hour. Fetched without our token: the URL is public, and the device token is never sent to
a host the webhook named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx

from wagate.domain.media import MediaDownload, MediaGone, MediaRef
from wagate.providers.media_download import (
    StreamedDownload,
    content_length,
    content_type,
    refused,
    unreachable,
)

MAX_REDIRECTS = 5


class FonnteMediaDownloads:
    """`open_media` for the Fonnte client (mixed into `FonnteClient`)."""

    _http: httpx.AsyncClient

    @asynccontextmanager
    async def open_media(self, ref: MediaRef) -> AsyncIterator[MediaDownload]:
        url = (ref.url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise MediaGone("the webhook named no http(s) file URL")
        request = self._http.build_request("GET", url)
        # The client's default Authorization header is the device token: not for this host.
        del request.headers["authorization"]
        try:
            response = await self._http.send(request, stream=True, follow_redirects=False)
            redirects = 0
            while response.is_redirect and redirects < MAX_REDIRECTS:
                await response.aclose()
                redirects += 1
                target = response.next_request
                if target is None or target.url.scheme not in ("http", "https"):
                    raise MediaGone("the file URL redirected somewhere that is not http(s)")
                target.headers.pop("authorization", None)
                response = await self._http.send(target, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise unreachable("Fonnte file URL", exc) from exc
        try:
            if not response.is_success:
                raise refused("Fonnte file URL", response)
            yield StreamedDownload(
                response=response,
                size=content_length(response),
                mime_type=content_type(response),
            )
        finally:
            await response.aclose()
