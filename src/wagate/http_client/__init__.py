"""Outbound HTTP for the adapters' hot paths (the Graph API and Fonnte sends, the AI calls):
one small interface (`HttpClient`, `HttpResponse`), a lean keep-alive HTTP/1.1 client for the
usual case and httpx behind the same interface when a proxy or a test transport is in play.

It imports nothing else of wagate: providers and assistants both use it (pure-adapters)."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import httpx

from wagate.http_client.fallback import HttpxClient
from wagate.http_client.pool import LeanHttpClient
from wagate.http_client.response import HttpClient, HttpResponse

__all__ = ["HttpClient", "HttpResponse", "HttpxClient", "LeanHttpClient", "http_client"]


def http_client(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HttpClient:
    """The client for `base_url`: the lean one, unless a test hands in a transport or the
    environment routes this URL through a proxy (then httpx, which knows proxies)."""
    if transport is not None or proxied(base_url):
        return HttpxClient(base_url, headers=headers, timeout=timeout, transport=transport)
    return LeanHttpClient(base_url, headers=headers, timeout=timeout)


def proxied(url: str) -> bool:
    """Whether a proxy variable in the environment applies to `url` (NO_PROXY honoured)."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    host = parts.netloc.rpartition("@")[2]
    # In the standard library since Python 2, though not in its type stubs.
    bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009
    return not bypass(host, proxies)
