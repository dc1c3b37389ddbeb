"""Conversations (issue 15): the list with search and filters, a conversation's thread with
delivery statuses, consent and hold, what the AI received for each answer, revealing the
placeholders (admins), and take-over (take, reply as a human, release).

Reading goes through the tenant's read model (`who.services.queries`); every action through
the operator service (`who.operator.conversations`), which checks the role and audits. The
thread's message list refreshes itself with htmx every 5 s; a reload does the same without
JavaScript. Revealed values are shown in the answer to the POST that asked for them only:
never in a URL, never stored in the page's later refreshes.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from wagate.domain.operators import Permission
from wagate.pipeline.operator import NotFound
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console
from wagate.web.media_api import download_headers

PAGE_SIZE = 50
THREAD_MESSAGES = 50  # the thread's last messages (a page stays under 100 KB)
MAX_SEARCH = 100
FILTERS = ("review", "held", "failed", "opted_out")
FILTER_LABELS = {
    "review": "Waiting for review",
    "held": "Taken over",
    "failed": "Failed deliveries",
    "opted_out": "Opted out",
}
MAX_ID = 2**63 - 1


def when(iso: str | None) -> str:
    """`2026-03-02 09:00` in UTC, from the read model's ISO text ('' for none)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def message_text(content: Any) -> str:
    """What a message says, for the thread: its text, caption or title, else its kind."""
    if not isinstance(content, dict):
        return "" if content is None else str(content)
    for field in ("body", "text", "caption", "title", "emoji", "name", "address"):
        value = content.get(field)
        if isinstance(value, str) and value:
            return value
    return f"[{content.get('kind') or content.get('mediaType') or 'message'}]"


def routes(console: Console) -> APIRouter:
    router = console.router()

    @router.get("/console/conversations")
    async def listing(request: Request, who: SignedIn = console.signed_in) -> Response:
        who.actor.require(Permission.READ)
        query = request.query_params
        search = query.get("q", "").strip()[:MAX_SEARCH]
        chosen = [f for f in FILTERS if f in query.getlist("filter")]
        page = _page_number(query.get("page"))
        found = await who.services.queries.console_list(
            filters=chosen, search=search, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        rows = [_row(item) for item in found["items"]]

        def link(to_page: int) -> str:
            params: list[tuple[str, str | int]] = [("q", search)] if search else []
            params += [("filter", f) for f in chosen]
            params.append(("page", to_page))
            return "/console/conversations?" + urlencode(params)

        return console.render(
            request,
            who,
            "conversations.html",
            rows=rows,
            total=found["total"],
            mode=found["mode"],
            scanned=found.get("scanned", 0),
            bounded=found.get("bounded", False),
            search=search,
            chosen=chosen,
            filters=[(f, FILTER_LABELS[f]) for f in FILTERS],
            page=page,
            previous=link(page - 1) if page > 1 else "",
            following=link(page + 1) if page * PAGE_SIZE < found["total"] else "",
        )

    @router.get("/console/conversations/{conversation_id}")
    async def thread(
        request: Request, conversation_id: int, who: SignedIn = console.signed_in
    ) -> Response:
        return await _thread_page(request, who, conversation_id)

    @router.get("/console/conversations/{conversation_id}/messages")
    async def messages(
        request: Request, conversation_id: int, who: SignedIn = console.signed_in
    ) -> Response:
        """The thread's message list alone: what htmx polls (a full page without it)."""
        found = await _conversation(who, conversation_id)
        insights = await who.services.queries.run_insights(conversation_id)
        files = await _files(who, conversation_id)
        return console.render(
            request,
            who,
            "conversations_messages.html",
            conversation=found,
            **_timeline(found, [_insight(i) for i in insights], files),
        )

    @router.get("/console/media/{media_id}")
    async def download(media_id: int, who: SignedIn = console.signed_in) -> Response:
        """A file the person sent, as an attachment (audited by the operator service)."""
        if not 0 < media_id <= MAX_ID:
            raise NotFound(f"no stored file {media_id}")
        stored = await who.operator.media.download(media_id, by=who.actor)
        return StreamingResponse(
            stored.chunks,
            media_type=stored.mime_type,
            headers=download_headers(stored.filename, stored.size),
        )

    @router.post("/console/conversations/{conversation_id}/take")
    async def take(
        request: Request, conversation_id: int, who: SignedIn = console.acting
    ) -> Response:
        await who.operator.conversations.take(_checked_id(conversation_id), by=who.actor)
        return console.done(who, _back(conversation_id), _t(who, "You hold this conversation now."))

    @router.post("/console/conversations/{conversation_id}/release")
    async def release(
        request: Request, conversation_id: int, who: SignedIn = console.acting
    ) -> Response:
        await who.operator.conversations.release(_checked_id(conversation_id), by=who.actor)
        return console.done(
            who,
            _back(conversation_id),
            _t(who, "Released: the AI answers this conversation again."),
        )

    @router.post("/console/conversations/{conversation_id}/reply")
    async def reply(
        request: Request, conversation_id: int, who: SignedIn = console.acting
    ) -> Response:
        form = await request.form()
        text, key = form.get("text"), form.get("key")
        receipt = await who.operator.conversations.reply(
            _checked_id(conversation_id),
            text if isinstance(text, str) else "",
            by=who.actor,
            # The form's own key: a second submit of the same form queues nothing new.
            key=key if isinstance(key, str) and key else None,
        )
        notice = _t(who, "Reply queued.") if receipt.queued else _t(who, "Already sent.")
        return console.done(who, _back(conversation_id), notice)

    @router.post("/console/conversations/{conversation_id}/reveal")
    async def reveal(
        request: Request, conversation_id: int, who: SignedIn = console.acting
    ) -> Response:
        revealed = await who.operator.conversations.reveal(
            _checked_id(conversation_id), by=who.actor
        )
        return await _thread_page(request, who, conversation_id, revealed=revealed)

    async def _thread_page(
        request: Request,
        who: SignedIn,
        conversation_id: int,
        *,
        revealed: list[dict[str, str]] | None = None,
    ) -> Response:
        found = await _conversation(who, conversation_id)
        runs = await who.services.queries.run_insights(conversation_id)
        insights = [_insight(i) for i in runs]
        files = await _files(who, conversation_id)
        return console.render(
            request,
            who,
            "conversations_thread.html",
            conversation=found,
            row=_row(found),
            insights=insights,
            revealed=revealed,
            may_take_over=who.actor.may(Permission.TAKE_OVER),
            may_reveal=who.actor.may(Permission.ADMINISTER),
            reply_key=secrets.token_urlsafe(12),
            **_timeline(found, insights, files),
        )

    return router


async def _conversation(who: SignedIn, conversation_id: int) -> dict[str, Any]:
    who.actor.require(Permission.READ)
    found = await who.services.queries.console_thread(
        _checked_id(conversation_id), limit=THREAD_MESSAGES
    )
    if found is None:
        raise NotFound(f"no conversation {conversation_id}")
    result: dict[str, Any] = found
    return result


async def _files(who: SignedIn, conversation_id: int) -> dict[int, dict[str, Any]]:
    """The conversation's files by the inbound message that carried them."""
    listed = await who.operator.media.list(conversation_id, by=who.actor)
    return {int(item["messageId"]): item for item in listed["items"]}


def _checked_id(conversation_id: int) -> int:
    if not 0 < conversation_id <= MAX_ID:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation_id


def _back(conversation_id: int) -> str:
    return f"/console/conversations/{conversation_id}"


def _t(who: SignedIn, english: str) -> str:
    return translator(who.language)(english)


def _page_number(raw: str | None) -> int:
    try:
        number = int(raw or "1")
    except ValueError:
        return 1
    return min(max(number, 1), 10_000)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    contact = item["contact"]
    return {
        **item,
        "name": contact.get("name") or "",
        "number": contact.get("phone") or contact.get("key") or "",
        "last": when(item.get("lastMessageAt")),
        "since": when(item.get("heldSince")),
        "consentSince": when(item.get("consentChangedAt")),
    }


def _timeline(
    found: dict[str, Any],
    insights: list[dict[str, Any]],
    files: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The messages as shown (an inbound file with its download link or what kept it), and
    which runs have a side panel to link to."""
    files = files or {}
    shown = [
        {
            **message,
            "text": message_text(message.get("content")),
            "when": when(message.get("at")),
            "statusWhen": when(message.get("statusAt")),
            "file": files.get(int(message["id"]))
            if message.get("direction") == "inbound"
            else None,
        }
        for message in found["messages"]
    ]
    return {"messages": shown, "insight_keys": {i["runKey"] for i in insights if i["runKey"]}}


def _insight(item: dict[str, Any]) -> dict[str, Any]:
    """One run's record as the side panel shows it; a missing field shows as empty."""
    return {
        "runKey": str(item.get("runKey") or ""),
        "at": item.get("at") or "",
        "when": when(item.get("at")),
        "outcome": str(item.get("outcome") or ""),
        "zone": str(item.get("zone") or ""),
        "rules": [str(r) for r in item.get("rules") or []],
        "maskedQuestion": str(item.get("maskedQuestion") or ""),
        "maskedAnswer": str(item.get("maskedAnswer") or ""),
        "sources": [
            {
                "documentId": str(s.get("documentId") or ""),
                "title": str(s.get("title") or ""),
                "section": str(s.get("section") or ""),
            }
            for s in item.get("sources") or []
            if isinstance(s, dict)
        ],
        "model": str(item.get("model") or ""),
        "review": str(item.get("review") or ""),
        "knowledge": str(item.get("knowledge") or ""),
    }
