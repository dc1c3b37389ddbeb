"""The audit trail over HTTP (CP3): pages of entries and the chain's verification, API token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Query

from wagate.domain.audit import AuditEntry, VerifyReport
from wagate.pipeline.operator import Actor
from wagate.web.admin_api import OperatorRoute
from wagate.web.api import MAX_BIGINT
from wagate.web.scope import Caller

MAX_PAGE = 1000


class AuditReader(Protocol):
    """What the router reads: the operator service's `trail` (or the audit log itself)."""

    async def page(
        self,
        *,
        by: Actor,
        after_seq: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]: ...

    async def verify(self, *, by: Actor) -> VerifyReport: ...


def _utc(value: datetime | None) -> datetime | None:
    """A time without a zone is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def audit_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    """The caller's tenant's chain (the platform's own records are the default tenant's)."""
    router = APIRouter(prefix="/api/audit", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("")
    async def list_entries(
        since: datetime | None = Query(None, description="at ≥ since (ISO 8601)"),
        until: datetime | None = Query(None, description="at < until (ISO 8601)"),
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        after_seq: int = Query(0, ge=0, le=MAX_BIGINT, description="continue after this seq"),
        who: Caller = caller,
    ) -> dict[str, Any]:
        """Entries in seq order; pass `nextAfterSeq` back as `after_seq` for the next page."""
        audit: AuditReader = who.services.operator.trail
        entries = await audit.page(
            by=who.actor, after_seq=after_seq, since=_utc(since), until=_utc(until), limit=limit
        )
        return {
            "items": [e.as_json() for e in entries],
            "nextAfterSeq": entries[-1].seq if len(entries) == limit else None,
        }

    @router.get("/verify")
    async def verify(who: Caller = caller) -> dict[str, Any]:
        """Recompute the whole chain; `ok` is false with the first broken seq and why."""
        return (await who.services.operator.trail.verify(by=who.actor)).as_json()

    return router
