"""The knowledge base page (issue 15): its documents, upload, remove, a queued refresh of the
KB_DIR folder with its progress, and a search box that shows what the gateway would find for a
question (or that it would decline it as out of scope).

Everything goes through the operator service's knowledge group, which checks the role:
reading and searching need READ, changing needs ADMINISTER (a staff user's upload is refused
there with 403, whatever form they send).

The refresh runs on the job queue: the page keeps the job's id in its URL (`?job=`) and, with
htmx, asks for the "live" part (the job's state and the document list) every 2 s until the job
ends; without JavaScript a reload shows the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from wagate.domain.operators import Permission
from wagate.pipeline.operator import Rejected
from wagate.pipeline.operator.kb import MAX_QUESTION_CHARS, MAX_TITLE_CHARS
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console

PAGE_ROWS = 50
SEARCH_LIMIT = 5
PASSAGE_PREVIEW_CHARS = 400
# The refresh job's states while it is still going: the page keeps polling in these.
RUNNING = {"todo": "Queued, waiting for a worker", "doing": "Running"}
MAX_JOB_ID = 2**63 - 1


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() and len(raw) < 6 else 1


def _job_id(raw: str | None) -> int | None:
    if raw and raw.isdigit() and len(raw) < 20 and 1 <= int(raw) <= MAX_JOB_ID:
        return int(raw)
    return None


def _short_date(iso: str | None) -> str:
    """`YYYY-MM-DD HH:MM` of an ISO timestamp (the store's are UTC)."""
    return iso[:16].replace("T", " ") if iso else ""


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PASSAGE_PREVIEW_CHARS else text[:PASSAGE_PREVIEW_CHARS] + "…"


def routes(console: Console) -> Any:
    router = console.router()

    async def job_state(who: SignedIn, job: int | None) -> dict[str, Any] | None:
        """The refresh job as the page shows it; None without a job to follow."""
        if job is None:
            return None
        state = await who.operator.knowledge.refresh_state(job, by=who.actor)
        # A finished job is deleted by the worker: gone means done.
        shown = state or "succeeded"
        return {"id": job, "state": shown, "running": shown in RUNNING}

    async def live_context(request: Request, who: SignedIn, job: int | None) -> dict[str, Any]:
        # The job's state before the list: a job that ends between the two reads must not show
        # as finished beside the list from before it (the page stops asking once it is).
        state = await job_state(who, job)
        documents = await who.operator.knowledge.documents(by=who.actor)
        number = _page_number(request)
        pages = max(1, -(-len(documents) // PAGE_ROWS))
        number = min(number, pages)
        shown = documents[(number - 1) * PAGE_ROWS : number * PAGE_ROWS]
        return {
            "documents": [{**d, "updated": _short_date(d.get("updatedAt"))} for d in shown],
            "stats": await who.operator.knowledge.stats(),
            "page_number": number,
            "pages": pages,
            "job": state,
            "running_labels": RUNNING,
            "admin": who.actor.may(Permission.ADMINISTER),
        }

    async def search(who: SignedIn, question: str) -> dict[str, Any]:
        if not question.strip():
            return {"question": "", "passages": None, "search_error": ""}
        try:
            found = await who.operator.knowledge.search(
                question[:MAX_QUESTION_CHARS], by=who.actor, limit=SEARCH_LIMIT
            )
        except Rejected as exc:
            return {"question": question, "passages": None, "search_error": str(exc)}
        passages = [
            {
                "document": p.title or p.source,
                "source": p.source,
                "section": p.section,
                "score": f"{p.score:.3f}",
                "text": _preview(p.text),
            }
            for p in found
        ]
        return {"question": question, "passages": passages, "search_error": ""}

    async def knowledge_page(
        request: Request, who: SignedIn, *, status_code: int = 200, error: str = ""
    ) -> Response:
        job = _job_id(request.query_params.get("job"))
        context = await live_context(request, who, job)
        context |= await search(who, request.query_params.get("q", "")[:MAX_QUESTION_CHARS])
        return console.render(
            request,
            who,
            "knowledge.html",
            status_code=status_code,
            error=error,
            max_title=MAX_TITLE_CHARS,
            max_question=MAX_QUESTION_CHARS,
            **context,
        )

    @router.get("/console/knowledge")
    async def show(request: Request, who: SignedIn = console.signed_in) -> Response:
        return await knowledge_page(request, who)

    @router.get("/console/knowledge/live")
    async def live(request: Request, who: SignedIn = console.signed_in) -> Response:
        """The refresh's state and the document list: what htmx polls while a refresh runs."""
        job = _job_id(request.query_params.get("job"))
        context = await live_context(request, who, job)
        return console.render(request, who, "knowledge_live.html", **context)

    @router.post("/console/knowledge/upload")
    async def upload(request: Request, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        form = await request.form()
        file = form.get("file")
        title = form.get("title")
        if not isinstance(file, UploadFile) or not file.filename:
            return await knowledge_page(
                request, who, status_code=422, error=_("Choose a file to upload.")
            )
        data = await file.read()
        try:
            report = await who.operator.knowledge.upload(
                file.filename,
                data,
                title=title if isinstance(title, str) else None,
                by=who.actor,
            )
        except Rejected as exc:
            # A file that cannot be read: the page again, with the reader's reason.
            message = _("The file was not added:") + f" {file.filename}: {exc}"
            return await knowledge_page(request, who, status_code=422, error=message)
        chunks = report.get("chunks")
        notice = _("Document added") + (f" ({chunks} " + _("passages") + ")" if chunks else "")
        return console.done(who, "/console/knowledge", notice)

    @router.post("/console/knowledge/{document_id}/remove")
    async def remove(document_id: int, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        if not 1 <= document_id <= MAX_JOB_ID:
            raise Rejected("no such document")
        await who.operator.knowledge.remove(document_id, by=who.actor)
        return console.done(who, "/console/knowledge", _("Document removed"))

    @router.post("/console/knowledge/refresh")
    async def refresh(who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        job = await who.operator.knowledge.request_refresh(by=who.actor)
        return console.done(who, f"/console/knowledge?job={job}", _("Refresh queued"))

    return router
