"""The context hook (AI8): a deployment adds account-specific context to the system prompt —
budget activities for a ministry, credit data for a lender — without forking the gateway.

`AI_CONTEXT_HOOK` is either `package.module:function` (called with the account id; may be
async; returns text or None) or an http(s) URL (GET with `?account_id=…`; a JSON answer's
`context` field, or the plain-text body, is used). A failing hook adds nothing and is logged:
the user still gets an answer.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

ContextHook = Callable[[int], Awaitable[str | None]]
MAX_CONTEXT_CHARS = 8000


def load_context_hook(spec: str, *, timeout: float = 5.0) -> ContextHook:
    if spec.startswith(("http://", "https://")):
        return _url_hook(spec, timeout)
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError("AI_CONTEXT_HOOK must be 'package.module:function' or an http(s) URL")
    function: Callable[[int], Any] = getattr(importlib.import_module(module_name), attribute)

    async def call(account_id: int) -> str | None:
        try:
            result = function(account_id)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            log.warning("context_hook.failed", error_type=type(exc).__name__)
            return None
        return str(result)[:MAX_CONTEXT_CHARS] if result else None

    return call


def _url_hook(url: str, timeout: float) -> ContextHook:
    async def call(account_id: int) -> str | None:
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.get(url, params={"account_id": account_id})
                response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("context_hook.failed", error_type=type(exc).__name__)
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            context = response.json().get("context")
            return str(context)[:MAX_CONTEXT_CHARS] if context else None
        return response.text[:MAX_CONTEXT_CHARS] or None

    return call
