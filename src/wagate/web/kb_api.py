"""The knowledge base over HTTP (issue 13), for the caller's tenant: list, upload, remove,
refresh (queued; the seed's `POST /api/whatsapp/refresh-kb`) and search. The operator service
validates, acts and audits; its errors map to 404 / 409 / 422 like every operator route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile

from wagate.pipeline.operator.kb import search_result
from wagate.web.admin_api import OperatorRoute
from wagate.web.scope import Caller

KB_UPLOAD_PATH = "/api/kb"
MAX_DOCUMENT_ID = 2**63 - 1


def kb_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("/kb")
    async def list_documents(who: Caller = caller) -> dict[str, Any]:
        knowledge = who.services.operator.knowledge
        return {"items": await knowledge.documents(by=who.actor), **await knowledge.stats()}

    @router.post("/kb", status_code=201)
    async def upload_document(
        file: UploadFile = File(description="PDF, DOCX, Markdown, text or HTML"),
        title: str | None = Form(default=None, max_length=300),
        who: Caller = caller,
    ) -> dict[str, Any]:
        """Multipart: `file` (its name's extension says what it is) and an optional `title`.
        A file that cannot be read is refused with its reason (422) and nothing is stored."""
        data = await file.read()
        return await who.services.operator.knowledge.upload(
            file.filename or "", data, title=title, by=who.actor
        )

    @router.delete("/kb/{document_id}", status_code=204)
    async def remove_document(
        document_id: int = Path(ge=1, le=MAX_DOCUMENT_ID), who: Caller = caller
    ) -> None:
        await who.services.operator.knowledge.remove(document_id, by=who.actor)

    @router.get("/kb/search")
    async def search(
        q: str = Query(min_length=1, max_length=2000),
        limit: int = Query(5, ge=1, le=50),
        who: Caller = caller,
    ) -> dict[str, Any]:
        """What the gateway would find for the question; an empty list: it would decline."""
        passages = await who.services.operator.knowledge.search(q, by=who.actor, limit=limit)
        return {"items": [search_result(p) for p in passages]}

    @router.post("/whatsapp/refresh-kb", status_code=202)
    async def refresh(who: Caller = caller) -> dict[str, Any]:
        """Queue a refresh of the knowledge-base folder; follow it with `GET
        /api/kb/refresh/{job}`."""
        job = await who.services.operator.knowledge.request_refresh(by=who.actor)
        return {"queued": True, "job": job}

    @router.get("/kb/refresh/{job}")
    async def refresh_state(
        job: int = Path(ge=1, le=MAX_DOCUMENT_ID), who: Caller = caller
    ) -> dict[str, Any]:
        state = await who.services.operator.knowledge.refresh_state(job, by=who.actor)
        return {"job": job, "state": state or "finished"}

    return router
