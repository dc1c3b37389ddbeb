"""Case intakes from WhatsApp Flows over HTTP (FL1), for the caller's tenant and as the caller:
list, show (with the answers; audited), mark reviewed, and send the intake Flow to a number.
The operator service checks the caller's role (403), validates, acts and audits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query
from pydantic import Field

from wagate.domain.case_intake import STATUSES
from wagate.pipeline.operator.case_intakes import CaseIntakes
from wagate.web.admin_api import OperatorRoute, _Body
from wagate.web.api import MAX_BIGINT, MAX_OFFSET
from wagate.web.scope import Caller

INTAKE_ID = Path(ge=1, le=MAX_BIGINT)


class IntakeSendBody(_Body):
    target: str = Field(min_length=3, max_length=80)


def _intakes(who: Caller) -> CaseIntakes:
    intakes = who.services.operator.intakes
    if intakes is None:
        raise HTTPException(status_code=404, detail="case intake is not configured")
    return intakes


def intakes_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("/intakes")
    async def list_intakes(
        who: Caller = caller,
        status: str | None = Query(None, pattern="^(" + "|".join(STATUSES) + ")$"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> dict[str, Any]:
        items = await _intakes(who).listing(by=who.actor, status=status, limit=limit, offset=offset)
        return {"items": items}

    @router.get("/intakes/{intake_id}")
    async def show_intake(intake_id: int = INTAKE_ID, who: Caller = caller) -> dict[str, Any]:
        return await _intakes(who).show(intake_id, by=who.actor)

    @router.post("/intakes/{intake_id}/review")
    async def review_intake(intake_id: int = INTAKE_ID, who: Caller = caller) -> dict[str, Any]:
        return await _intakes(who).review(intake_id, by=who.actor)

    @router.post("/intakes/send", status_code=202)
    async def send_intake(
        body: IntakeSendBody,
        idempotency_key: str | None = Header(default=None, max_length=200),
        who: Caller = caller,
    ) -> dict[str, Any]:
        receipt = await _intakes(who).send(body.target, by=who.actor, key=idempotency_key or None)
        return receipt.as_json()

    return router
