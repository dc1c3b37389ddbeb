"""What every outbound HTTP client of wagate answers, whichever implementation made the call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status_code: int
    # Names in lower case; a header sent more than once has its values joined with ", ".
    headers: dict[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


class HttpClient(Protocol):
    """Requests to one origin (scheme, host, port) under one base path, with the headers every
    request carries (the credentials). Failures raise httpx's exception types — the same
    `httpx.ConnectError`, `httpx.ReadTimeout`, `httpx.PoolTimeout` … the adapters already
    classify (providers/transport.py: was the request sent or not?)."""

    async def request(
        self, method: str, path: str = "", *, content: bytes = b"", content_type: str | None = None
    ) -> HttpResponse:
        """`path` is relative to the base URL ("" is the base URL itself) and may carry a query."""
        ...

    async def aclose(self) -> None: ...
