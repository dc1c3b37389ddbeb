"""A web page by URL, fetched with limits: a time budget, a size cap and a redirect cap.

Redirects are followed by hand so that a loop ends after `max_redirects` with a message that
says so (and every hop is again http or https); the body is streamed and abandoned as soon as
it passes `max_bytes`. The whole fetch, redirects included, has one deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from wagate.knowledge.errors import SourceError
from wagate.knowledge.readers import DEFAULT_MAX_BYTES, too_large

USER_AGENT = "wagate-knowledge/1 (+https://github.com/wagate)"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    seconds: float = 20.0  # the whole fetch, every redirect included
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # where it ended, after redirects
    name: str  # a file name whose extension tells the reader the type
    data: bytes


_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourceError(f"not a web address (http or https): {url!r}")
    return url.strip()


async def fetch(url: str, *, limits: FetchLimits | None = None) -> Fetched:
    limits = limits or FetchLimits()
    current = check_url(url)
    try:
        async with asyncio.timeout(limits.seconds):
            async with httpx.AsyncClient(
                follow_redirects=False,
                timeout=httpx.Timeout(limits.seconds),
                headers={"User-Agent": USER_AGENT},
            ) as client:
                for _ in range(limits.max_redirects + 1):
                    async with client.stream("GET", current) as response:
                        if response.is_redirect:
                            location = response.headers.get("location", "")
                            current = check_url(urljoin(current, location))
                            continue
                        if response.status_code >= 400:
                            raise SourceError(f"the page answered HTTP {response.status_code}")
                        data = await _body(response, limits.max_bytes)
                        kind = response.headers.get("content-type", "").split(";")[0].strip()
                        return Fetched(url=current, name=_name(current, kind), data=data)
    except TimeoutError as error:
        raise SourceError(f"the page did not answer within {limits.seconds:g} s") from error
    except httpx.HTTPError as error:
        raise SourceError(f"the page could not be fetched: {type(error).__name__}") from error
    raise SourceError(f"the page redirects more than {limits.max_redirects} times (a loop?)")


async def _body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(too_large(int(declared), max_bytes))
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(too_large(size, max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)


def _name(url: str, content_type: str) -> str:
    """A name for the reader: the path's own extension if it has a known one, else the type's."""
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1] or "index"
    suffix = _TYPES.get(content_type)
    if suffix is None:
        return last
    return last if last.lower().endswith(suffix) else last + suffix
