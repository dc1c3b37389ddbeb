"""Operator API (OB2): health, configuration status, conversations. Bearer-token protected
except health and status, which reveal nothing but booleans."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ACTIVE_SESSION_WINDOW = timedelta(minutes=30)
# Ids and offsets are PostgreSQL bigints: anything larger is a 422, never a database error.
MAX_BIGINT = 2**63 - 1
# Offsets leave room for a page to be added to them inside a bigint.
MAX_OFFSET = MAX_BIGINT - 10_000
# Declared in the OpenAPI schema; the check itself stays ours (401 with WWW-Authenticate).
BEARER = HTTPBearer(auto_error=False, description="WAGATE_API_TOKEN")


class ConversationReader(Protocol):
    """The conversations and messages the operator API pages through (storage provides it)."""

    async def count_active(self, *, since: timedelta) -> int:
        """Conversations with a message within `since`."""

    async def list_conversations(self, *, limit: int, offset: int) -> dict[str, Any]: ...

    async def list_messages(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> dict[str, Any] | None:
        """None when there is no such conversation."""


def bearer_guard(api_token: str) -> Callable[..., Awaitable[None]]:
    expected = api_token.encode()

    async def require_token(
        credentials: HTTPAuthorizationCredentials | None = Security(BEARER),
    ) -> None:
        token = credentials.credentials.strip() if credentials else ""
        if not token or not hmac.compare_digest(token.encode(), expected):
            raise HTTPException(
                status_code=401,
                detail="missing or invalid API token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_token


def api_router(
    *,
    queries: ConversationReader,
    ping: Callable[[], Awaitable[bool]],
    status: Callable[[], Awaitable[dict[str, Any]]],
    api_token: str,
    channels: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/api")
    guard = Depends(bearer_guard(api_token))

    @router.get("/health")
    async def health() -> JSONResponse:
        now = datetime.now(UTC).isoformat()
        if not await ping():
            return JSONResponse(
                {"status": "unavailable", "timestamp": now, "database": False}, status_code=503
            )
        active = await queries.count_active(since=ACTIVE_SESSION_WINDOW)
        # A paused channel does not make the gateway unhealthy (webhooks are still taken and
        # kept): 200, with the status saying why sends wait (OU5, OU7).
        paused = [c for c in await channels() if not c["sending"]] if channels else []
        return JSONResponse(
            {
                "status": "degraded" if paused else "ok",
                "timestamp": now,
                "activeSessions": active,
                "database": True,
                "pausedChannels": [
                    {"provider": c["provider"], "state": c["state"], "reason": c["reason"]}
                    for c in paused
                ],
            }
        )

    @router.get("/whatsapp/status")
    async def whatsapp_status() -> dict[str, Any]:
        return await status()

    @router.get("/conversations", dependencies=[guard])
    async def list_conversations(
        limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)
    ) -> dict[str, Any]:
        return await queries.list_conversations(limit=limit, offset=offset)

    @router.get("/conversations/{conversation_id}/messages", dependencies=[guard])
    async def list_messages(
        conversation_id: int = Path(ge=-MAX_BIGINT, le=MAX_BIGINT),
        limit: int = Query(200, ge=1, le=5000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> dict[str, Any]:
        page = await queries.list_messages(conversation_id, limit=limit, offset=offset)
        if page is None:
            raise HTTPException(status_code=404, detail="no such conversation")
        return page

    return router
