"""Operator API (OB2): health, configuration status, conversations. Bearer-token protected
except health and status, which reveal nothing but booleans."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from wagate.edge_services import TenantServices
from wagate.pipeline.operator.kb import status_fields
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.web.scope import Caller

ACTIVE_SESSION_WINDOW = timedelta(minutes=30)
# Ids and offsets are PostgreSQL bigints: anything larger is a 422, never a database error.
MAX_BIGINT = 2**63 - 1
# Offsets leave room for a page to be added to them inside a bigint.
MAX_OFFSET = MAX_BIGINT - 10_000


class ConversationReader(Protocol):
    """The conversations and messages the operator API pages through (storage provides it)."""

    async def count_active(self, *, since: timedelta) -> int:
        """Conversations with a message within `since`."""

    async def list_conversations(self, *, limit: int, offset: int) -> dict[str, Any]: ...

    async def list_messages(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> dict[str, Any] | None:
        """None when there is no such conversation."""

    async def run_insights(self, conversation_id: int, *, limit: int) -> list[dict[str, Any]]:
        """What the latest runs decided and showed the AI (masked); [] for none."""


def api_router(
    *,
    scope: Callable[..., Awaitable[Caller]],
    tenants: TenantRuntimes[TenantServices],
    ping: Callable[[], Awaitable[bool]],
    configuration: Mapping[str, Any],
) -> APIRouter:
    router = APIRouter(prefix="/api")
    caller = Depends(scope)
    health_figures = _HealthFigures(tenants)

    @router.get("/health")
    async def health() -> JSONResponse:
        now = datetime.now(UTC).isoformat()
        if not await ping():
            return JSONResponse(
                {"status": "unavailable", "timestamp": now, "database": False}, status_code=503
            )
        active, paused = await health_figures.read()
        # A paused channel does not make the gateway unhealthy (webhooks are still taken and
        # kept): 200, with the status saying why sends wait (OU5, OU7).
        return JSONResponse(
            {
                "status": "degraded" if paused else "ok",
                "timestamp": now,
                "activeSessions": active,
                "database": True,
                "pausedChannels": paused,
            }
        )

    @router.get("/whatsapp/status")
    async def whatsapp_status() -> dict[str, Any]:
        """Public: the configuration (booleans) and the default tenant's channels. A tenant's
        own status is `GET /api/status` with its token."""
        report = dict(configuration)
        report["database"] = {
            **dict(configuration.get("database", {})),
            "reachable": await ping(),
        }
        report["channels"] = await tenants.default.status.channel_states()
        report["tenants"] = len(tenants.tenants())
        report.update(status_fields(await tenants.default.operator.knowledge.stats()))
        return report

    @router.get("/status")
    async def tenant_status(who: Caller = caller) -> dict[str, Any]:
        """The caller's tenant: its status and each of its channels' state, with ids."""
        report = await who.services.status.status()
        report["channels"] = await who.services.status.channel_states(with_ids=True)
        report.update(status_fields(await who.services.operator.knowledge.stats()))
        return report

    @router.get("/conversations")
    async def list_conversations(
        who: Caller = caller,
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        held: bool = Query(False, description="only the conversations a human holds now"),
    ) -> dict[str, Any]:
        if held:
            items = await who.services.operator.conversations.list(by=who.actor)
            return {"items": items[offset : offset + limit], "total": len(items)}
        return await who.services.queries.list_conversations(limit=limit, offset=offset)

    @router.get("/conversations/{conversation_id}/messages")
    async def list_messages(
        who: Caller = caller,
        conversation_id: int = Path(ge=-MAX_BIGINT, le=MAX_BIGINT),
        limit: int = Query(200, ge=1, le=5000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> dict[str, Any]:
        page = await who.services.queries.list_messages(conversation_id, limit=limit, offset=offset)
        if page is None:
            raise HTTPException(status_code=404, detail="no such conversation")
        return page

    @router.get("/conversations/{conversation_id}/insights")
    async def list_insights(
        who: Caller = caller,
        conversation_id: int = Path(ge=-MAX_BIGINT, le=MAX_BIGINT),
        limit: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        """The latest runs' decisions: zone, rules, the question as the AI received it (PII
        masked), the masked answer, the knowledge-base sources, the model and the review."""
        items = await who.services.queries.run_insights(conversation_id, limit=limit)
        return {"conversationId": conversation_id, "items": items}

    return router


class _HealthFigures:
    """Active sessions and paused channels over every tenant (two small queries a tenant)."""

    def __init__(self, tenants: TenantRuntimes[TenantServices]) -> None:
        self._tenants = tenants

    async def read(self) -> tuple[int, list[dict[str, Any]]]:
        active = 0
        paused: list[dict[str, Any]] = []
        for tenant, services in self._tenants.served():
            active += await services.queries.count_active(since=ACTIVE_SESSION_WINDOW)
            for c in await services.status.channel_states():
                if not c["sending"]:
                    paused.append(
                        {
                            "tenant": tenant.id,
                            "provider": c["provider"],
                            "state": c["state"],
                            "reason": c["reason"],
                        }
                    )
        return active, paused
