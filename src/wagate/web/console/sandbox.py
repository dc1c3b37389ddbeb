"""Try it: the sandbox in the browser (issue 15, item 3; sandbox mode only).

The signed-in user writes as a WhatsApp user (a number, a message); the message goes through
the gateway's real webhook, queue, debounce and worker (`SandboxPeer.say`), and the answer
arrives at the sandbox's fake Graph API (`SandboxPeer.answers`). The thread refreshes itself
with htmx every 2 s; without JavaScript a reload shows it. Beside it, for the latest answer:
what the AI received (masked), the knowledge-base passages used and the triage zone.

Outside sandbox mode every path here answers 404: there is no fake WhatsApp to write through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from wagate.domain.operators import Permission
from wagate.domain.phone import InvalidPhoneNumber, normalise_phone
from wagate.edge_services import SandboxPeer, TenantServices
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console
from wagate.web.console.render import is_htmx

PATH = "/console/sandbox"
# The number the page starts with: Indonesia's mobile range, clearly made up.
DEFAULT_NUMBER = "6281200000001"
MAX_TEXT = 4096
# Conversations searched for the sandbox number (a sandbox holds a handful).
SEARCH_PAGES = 10
SEARCH_PAGE_SIZE = 100
THREAD_LIMIT = 50  # the latest exchanges shown: the page stays small


def latest(insights: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The most recent run (by its time, whatever order the read model lists them in), in
    the shape the side panel shows: every field present, texts as texts."""
    if not insights:
        return None
    run = max(enumerate(insights), key=lambda pair: (str(pair[1].get("at") or ""), pair[0]))[1]
    review = run.get("review")
    if isinstance(review, dict):
        review = review.get("status") or review.get("state") or review.get("outcome")
    sources = []
    for source in run.get("sources") or []:
        if isinstance(source, dict):
            sources.append(
                {
                    "title": str(source.get("title") or source.get("documentId") or ""),
                    "section": str(source.get("section") or ""),
                }
            )
    zone = str(run.get("zone") or "")
    return {
        "zone": zone,
        "zone_class": zone if zone in ("green", "yellow", "red") else "",
        "rules": [str(rule) for rule in run.get("rules") or []],
        "outcome": str(run.get("outcome") or ""),
        "review": str(review or ""),
        "model": str(run.get("model") or ""),
        "at": shown(_when(run.get("at"))),
        "masked_question": str(run.get("maskedQuestion") or ""),
        "masked_answer": str(run.get("maskedAnswer") or ""),
        "sources": sources,
        "declined": run.get("knowledge") == "declined",
    }


async def conversation_of(services: TenantServices, number: str) -> dict[str, Any] | None:
    for page in range(SEARCH_PAGES):
        listing = await services.queries.list_conversations(
            limit=SEARCH_PAGE_SIZE, offset=page * SEARCH_PAGE_SIZE
        )
        for item in listing["items"]:
            contact = item.get("contact") or {}
            if number in (contact.get("key"), contact.get("phone")):
                return dict(item)
        if len(listing["items"]) < SEARCH_PAGE_SIZE:
            return None
    return None


def _when(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def shown(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def said_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, dict):
        return str(content.get("text") or content.get("body") or content.get("caption") or "")
    return str(content or "")


async def thread_of(
    peer: SandboxPeer, services: TenantServices, number: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The exchange with `number` (what it said, as the gateway stored it; what the gateway
    sent, as the fake Graph API received it), oldest first, and its latest run's insights."""
    entries: list[dict[str, Any]] = []
    conversation = await conversation_of(services, number)
    insight = None
    if conversation is not None:
        page = await services.queries.list_messages(conversation["id"], limit=5000, offset=0)
        for item in (page or {}).get("items", []):
            moment = _when(item.get("sentAt") or item.get("receivedAt"))
            entries.append({"from": "user", "text": said_text(item), "at": moment})
        insight = latest(await services.queries.run_insights(int(conversation["id"])))
    for answer in await peer.answers(number, after=0):
        entries.append(
            {
                "from": "gateway",
                "text": answer["text"],
                "at": _when(answer["at"]),
                "kind": answer["kind"],
            }
        )
    epoch = datetime.fromtimestamp(0, tz=UTC)
    entries.sort(key=lambda e: e["at"] or epoch)
    for entry in entries:
        entry["shown_at"] = shown(entry["at"])
    return entries[-THREAD_LIMIT:], insight


def checked_number(raw: str) -> str | None:
    try:
        number = normalise_phone(raw[:40])
    except InvalidPhoneNumber:
        return None
    return number if number.isdigit() else None  # a WhatsApp user, not a group


def routes(console: Console) -> APIRouter:
    router = console.router()

    def peer() -> SandboxPeer:
        found = console.services.sandbox
        if found is None:
            raise HTTPException(status_code=404)
        return found

    async def chat_page(
        request: Request,
        who: SignedIn,
        *,
        number: str,
        text: str = "",
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        who.actor.require(Permission.READ)
        thread, insight = await thread_of(peer(), who.services, number)
        return console.render(
            request,
            who,
            "sandbox.html",
            status_code=status_code,
            number=number,
            text=text,
            error=error,
            thread=thread,
            insight=insight,
            thread_url=f"{PATH}/thread?number={quote(number)}",
        )

    @router.get(PATH)
    async def show(request: Request, who: SignedIn = console.signed_in) -> Response:
        peer()  # 404 before anything else outside sandbox mode
        number = checked_number(request.query_params.get("number", "")) or DEFAULT_NUMBER
        return await chat_page(request, who, number=number)

    @router.get(f"{PATH}/thread")
    async def thread(request: Request, who: SignedIn = console.signed_in) -> Response:
        """The thread and the side panel alone, for htmx's polling."""
        peer()
        number = checked_number(request.query_params.get("number", "")) or DEFAULT_NUMBER
        if not is_htmx(request):
            return RedirectResponse(f"{PATH}?number={quote(number)}", status_code=303)
        who.actor.require(Permission.READ)
        entries, insight = await thread_of(peer(), who.services, number)
        return console.render(
            request,
            who,
            "sandbox_thread.html",
            number=number,
            thread=entries,
            insight=insight,
            thread_url=f"{PATH}/thread?number={quote(number)}",
        )

    @router.post(PATH)
    async def say(request: Request, who: SignedIn = console.acting) -> Response:
        sandbox = peer()
        who.actor.require(Permission.READ)
        form = await request.form()
        raw_number = form.get("number")
        raw_text = form.get("text")
        number = checked_number(raw_number if isinstance(raw_number, str) else "")
        text = (raw_text if isinstance(raw_text, str) else "").strip()[:MAX_TEXT]
        _ = translator(who.language)
        if number is None:
            return await chat_page(
                request,
                who,
                number=DEFAULT_NUMBER,
                text=text,
                error=_("That is not a phone number."),
                status_code=400,
            )
        if not text:
            return await chat_page(
                request, who, number=number, error=_("Write a message first."), status_code=400
            )
        status = await sandbox.say(number, text, name=f"{who.actor.user or 'console'} (sandbox)")
        if status != 200:
            return await chat_page(
                request,
                who,
                number=number,
                text=text,
                error=_("The gateway refused the message:") + f" HTTP {status}",
                status_code=502,
            )
        if is_htmx(request):
            return await chat_page(request, who, number=number)
        return console.done(who, f"{PATH}?number={quote(number)}", _("Sent. The answer follows."))

    return router
