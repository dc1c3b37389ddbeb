"""The lawyer's review queue (AI7, issue 15): drafts the AI wrote for a yellow question wait
here for a lawyer — approve, edit then approve, reject with a reason, or take the
conversation over. Every decision goes through the operator service's `reviews` group, which
checks the role (a viewer or staff member is refused 403) and audits it under the user's name.

The list refreshes itself: htmx fetches `/console/reviews/list` every 5 s and swaps it in, so a
new draft appears without a reload (without JavaScript, a reload shows it). The action forms
carry `hx-preserve`, so a lawyer's half-typed edit or reason survives those refreshes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from wagate.domain.operators import Permission
from wagate.pipeline.operator.errors import NotFound
from wagate.pipeline.operator.reviews import STATUSES, Reviews
from wagate.web.api import MAX_BIGINT
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console
from wagate.web.console.render import is_htmx
from wagate.web.console.when import minute, parsed

PAGE_SIZE = 20  # a draft is a question, an answer and its forms: 20 keep a page small
MAX_PAGE = 10_000
DRAFT_ID = Path(ge=1, le=MAX_BIGINT)
STATUS = Query("pending", pattern="^(" + "|".join((*STATUSES, "all")) + ")$")
PAGE = Query(1, ge=1, le=MAX_PAGE)
STATUS_LABELS = {
    "pending": "Waiting for review",
    "approved": "Approved",
    "sent": "Sent",
    "rejected": "Rejected",
    "taken_over": "Taken over",
    "all": "All drafts",
}
ZONE_LABELS = {"green": "Green zone", "yellow": "Yellow zone", "red": "Red zone"}
ESCALATIONS = {
    "review_due": "Escalated: review overdue",
    "window_closing": "Escalated: window closing",
}


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _shown(draft: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A draft as the template reads it: times as text, its marks worked out."""
    deadline = parsed(draft.get("deadline"))
    pending = draft["status"] == "pending"
    return {
        **draft,
        "deadlineText": minute(deadline),
        "createdText": minute(draft.get("createdAt")),
        "windowText": minute(draft.get("windowClosesAt")),
        "decidedText": minute(draft.get("decidedAt")),
        "overdue": pending and deadline is not None and deadline < now,
        "escalations": [ESCALATIONS.get(kind, kind) for kind in draft.get("escalated") or ()],
    }


def routes(console: Console) -> APIRouter:
    router = console.router()

    async def queue(
        who: SignedIn, reviews: Reviews, status: str, page: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of drafts with their texts (the listing holds none), and whether more
        follow."""
        found = await reviews.listing(
            by=who.actor,
            status=None if status == "all" else status,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        now = datetime.now(UTC)
        drafts = [
            _shown(await reviews.show(int(d["id"]), by=who.actor), now) for d in found[:PAGE_SIZE]
        ]
        return drafts, len(found) > PAGE_SIZE

    async def context(who: SignedIn, status: str, page: int) -> dict[str, Any]:
        reviews = who.operator.reviews
        drafts, more = ([], False) if reviews is None else await queue(who, reviews, status, page)
        query = urlencode({"status": status, "page": page})
        return {
            "configured": reviews is not None,
            "drafts": drafts,
            "status": status,
            "statuses": STATUS_LABELS,
            "zones": ZONE_LABELS,
            "page_number": page,
            "more": more,
            "list_url": f"/console/reviews/list?{query}",
            "may_approve": who.actor.may(Permission.APPROVE),
            "may_take": who.actor.may(Permission.TAKE_OVER),
        }

    def reviews_of(who: SignedIn) -> Reviews:
        reviews = who.operator.reviews
        if reviews is None:  # the page says so; a form cannot come from it
            raise NotFound("reviews are not configured for this tenant")
        return reviews

    @router.get("/console/reviews")
    async def review_queue(
        request: Request,
        status: str = STATUS,
        page: int = PAGE,
        who: SignedIn = console.signed_in,
    ) -> Response:
        return console.render(request, who, "reviews.html", **await context(who, status, page))

    @router.get("/console/reviews/list")
    async def review_list(
        request: Request,
        status: str = STATUS,
        page: int = PAGE,
        who: SignedIn = console.signed_in,
    ) -> Response:
        """The list alone, for the page's refresh; a browser without htmx gets the page."""
        if not is_htmx(request):
            query = urlencode({"status": status, "page": page})
            return RedirectResponse(f"/console/reviews?{query}", status_code=303)
        return console.render(request, who, "reviews_list.html", **await context(who, status, page))

    @router.post("/console/reviews/{draft_id}/approve")
    async def approve(
        request: Request, draft_id: int = DRAFT_ID, who: SignedIn = console.acting
    ) -> Response:
        form = await request.form()
        _ = translator(who.language)
        # "edited": the textarea's text is what goes out; otherwise the draft as written.
        text = _field(form, "text") if _field(form, "mode") == "edited" else None
        await reviews_of(who).approve(draft_id, by=who.actor, text=text)
        return console.done(
            who, "/console/reviews", _("Approved: the answer is on its way.") + f" (#{draft_id})"
        )

    @router.post("/console/reviews/{draft_id}/reject")
    async def reject(
        request: Request, draft_id: int = DRAFT_ID, who: SignedIn = console.acting
    ) -> Response:
        form = await request.form()
        _ = translator(who.language)
        await reviews_of(who).reject(draft_id, by=who.actor, reason=_field(form, "reason"))
        return console.done(
            who,
            "/console/reviews",
            _("Rejected: the client gets the rejection text.") + f" (#{draft_id})",
        )

    @router.post("/console/reviews/{draft_id}/take")
    async def take(draft_id: int = DRAFT_ID, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        draft = await reviews_of(who).take(draft_id, by=who.actor)
        return console.done(
            who,
            "/console/reviews",
            _("You hold this conversation now: the AI stays silent in it.")
            + f" (#{int(draft['conversation'])})",
        )

    return router
