"""Take-over over HTTP (AI7): take a conversation from the AI, reply in it as a human, give it
back. The operator service checks the role (TAKE_OVER), acts and audits; its errors map to
404 / 409 / 403 / 422 like every operator route. The held listing is
`GET /api/conversations?held=true` (web/api.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Header, Path
from pydantic import Field

from wagate.web.admin_api import OperatorRoute, _Body
from wagate.web.api import MAX_BIGINT
from wagate.web.scope import Caller

CONVERSATION_ID = Path(ge=1, le=MAX_BIGINT)


class ReplyBody(_Body):
    text: str = Field(min_length=1, max_length=20_000)


def conversations_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(prefix="/api/conversations", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.post("/{conversation_id}/take")
    async def take(conversation_id: int = CONVERSATION_ID, who: Caller = caller) -> dict[str, Any]:
        """The AI stops answering this conversation until it is released (or the taker is idle
        for TAKEOVER_IDLE_MINUTES)."""
        return await who.services.operator.conversations.take(conversation_id, by=who.actor)

    @router.post("/{conversation_id}/release")
    async def release(
        conversation_id: int = CONVERSATION_ID, who: Caller = caller
    ) -> dict[str, Any]:
        """The AI answers again; 409 when nobody holds the conversation."""
        return await who.services.operator.conversations.release(conversation_id, by=who.actor)

    @router.post("/{conversation_id}/reply", status_code=202)
    async def reply(
        body: ReplyBody,
        conversation_id: int = CONVERSATION_ID,
        idempotency_key: str | None = Header(default=None, max_length=200),
        who: Caller = caller,
    ) -> dict[str, Any]:
        """Queue the human's text to the conversation (taking it if nobody held it); delivered
        like every message, without AI disclosure or disclaimer; 409 when the contact opted
        out."""
        receipt = await who.services.operator.conversations.reply(
            conversation_id, body.text, by=who.actor, key=idempotency_key or None
        )
        return receipt.as_json()

    return router
