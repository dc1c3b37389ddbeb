"""The same client interface over httpx, for what the lean client leaves out: a proxy from the
environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, as httpx reads them) and an
in-process transport handed in by a test."""

from __future__ import annotations

import httpx

from wagate.http_client.pool import USER_AGENT
from wagate.http_client.response import HttpResponse


class HttpxClient:
    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=timeout,
            transport=transport,
        )

    async def request(
        self, method: str, path: str = "", *, content: bytes = b"", content_type: str | None = None
    ) -> HttpResponse:
        response = await self._http.request(
            method,
            path,
            content=content or None,
            headers={"Content-Type": content_type} if content_type else None,
        )
        headers = {name.lower(): value for name, value in response.headers.items()}
        return HttpResponse(response.status_code, headers, response.content)

    async def aclose(self) -> None:
        await self._http.aclose()
