"""Drafts for a lawyer's review over HTTP (AI7), for the caller's tenant and as the caller:
list, show, approve (optionally edited), reject (with a reason), take over. The operator
service checks the caller's role (403), validates, acts and audits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import Field

from wagate.pipeline.operator.reviews import MAX_REASON, MAX_TEXT, STATUSES, Reviews
from wagate.web.admin_api import OperatorRoute, _Body
from wagate.web.api import MAX_BIGINT, MAX_OFFSET
from wagate.web.scope import Caller

DRAFT_ID = Path(ge=1, le=MAX_BIGINT)


class ApproveBody(_Body):
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)


class RejectBody(_Body):
    reason: str = Field(min_length=1, max_length=MAX_REASON)


def _reviews(who: Caller) -> Reviews:
    reviews = who.services.operator.reviews
    if reviews is None:
        raise HTTPException(status_code=404, detail="reviews are not configured")
    return reviews


def reviews_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("/reviews")
    async def list_reviews(
        who: Caller = caller,
        status: str | None = Query(None, pattern="^(" + "|".join(STATUSES) + ")$"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> dict[str, Any]:
        items = await _reviews(who).listing(by=who.actor, status=status, limit=limit, offset=offset)
        return {"items": items}

    @router.get("/reviews/{draft_id}")
    async def show_review(draft_id: int = DRAFT_ID, who: Caller = caller) -> dict[str, Any]:
        return await _reviews(who).show(draft_id, by=who.actor)

    @router.post("/reviews/{draft_id}/approve")
    async def approve_review(
        body: ApproveBody | None = None, draft_id: int = DRAFT_ID, who: Caller = caller
    ) -> dict[str, Any]:
        text = body.text if body is not None else None
        return await _reviews(who).approve(draft_id, by=who.actor, text=text)

    @router.post("/reviews/{draft_id}/reject")
    async def reject_review(
        body: RejectBody, draft_id: int = DRAFT_ID, who: Caller = caller
    ) -> dict[str, Any]:
        return await _reviews(who).reject(draft_id, by=who.actor, reason=body.reason)

    @router.post("/reviews/{draft_id}/take")
    async def take_review(draft_id: int = DRAFT_ID, who: Caller = caller) -> dict[str, Any]:
        return await _reviews(who).take(draft_id, by=who.actor)

    return router
