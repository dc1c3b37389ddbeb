"""Case intakes (FL1, issue 16): registrations people sent through the WhatsApp Flow — listed
newest first (the ones waiting for a lawyer by default), shown one by one with every answer
and document, marked reviewed by a lawyer; and the Flow sent to a number from here.

Every read and act goes through the operator service's `intakes` group: it checks the role
(marking reviewed is a lawyer's or an administrator's, sending staff's or an administrator's),
audits opening an intake (it holds a NIK) and sending, and refuses a number that opted out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from wagate.domain.case_intake import STATUSES
from wagate.domain.operators import Permission
from wagate.pipeline.operator.case_intakes import CaseIntakes
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.web.admin_api import status_of
from wagate.web.api import MAX_BIGINT
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console
from wagate.web.console.when import minute

PAGE_SIZE = 50
MAX_PAGE = 10_000
INTAKE_ID = Path(ge=1, le=MAX_BIGINT)
STATUS = Query("new", pattern="^(" + "|".join((*STATUSES, "all")) + ")$")
PAGE = Query(1, ge=1, le=MAX_PAGE)
STATUS_LABELS = {"new": "Waiting for a lawyer", "reviewed": "Reviewed", "all": "All intakes"}
# The shipped Flow's answers, in the order a lawyer reads them; a firm's own fields follow.
ANSWER_LABELS = {
    "full_name": "Full name",
    "nik": "NIK",
    "phone": "Phone number",
    "email": "E-mail",
    "case_type": "Case type",
    "story": "Short story",
    "privacy_consent": "Agreed to the processing of their data",
}


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _shown(intake: dict[str, Any]) -> dict[str, Any]:
    return {
        **intake,
        "receivedText": minute(intake.get("receivedAt")),
        "reviewedText": minute(intake.get("reviewedAt")),
    }


def _answers(intake: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(label, value, translate the label?) in reading order: known fields, then the rest."""
    answers = intake.get("answers") or {}
    rows: list[tuple[str, Any, bool]] = []
    for name, label in ANSWER_LABELS.items():
        if name in answers:
            value = answers[name]
            if name == "case_type" and intake.get("caseTypeLabel"):
                value = f"{intake['caseTypeLabel']} ({value})"
            rows.append((label, value, True))
    rows += [(name, value, False) for name, value in answers.items() if name not in ANSWER_LABELS]
    return rows


def routes(console: Console) -> APIRouter:
    router = console.router()

    def intakes_of(who: SignedIn) -> CaseIntakes:
        intakes = who.operator.intakes
        if intakes is None:
            raise NotFound("case intake is not configured for this tenant")
        return intakes

    async def listing_page(
        request: Request,
        who: SignedIn,
        status: str,
        page: int,
        *,
        refusal: str = "",
        status_code: int = 200,
    ) -> Response:
        intakes = intakes_of(who)
        found = await intakes.listing(
            by=who.actor,
            status=None if status == "all" else status,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        return console.render(
            request,
            who,
            "intakes.html",
            status_code=status_code,
            intakes=[_shown(i) for i in found[:PAGE_SIZE]],
            status=status,
            statuses=STATUS_LABELS,
            page_number=page,
            more=len(found) > PAGE_SIZE,
            may_send=who.actor.may(Permission.OPERATE),
            flow_ready=intakes.flow.enabled,
            refusal=refusal,
        )

    @router.get("/console/intakes")
    async def intakes(
        request: Request, status: str = STATUS, page: int = PAGE, who: SignedIn = console.signed_in
    ) -> Response:
        return await listing_page(request, who, status, page)

    @router.get("/console/intakes/{intake_id}")
    async def intake(
        request: Request, intake_id: int = INTAKE_ID, who: SignedIn = console.signed_in
    ) -> Response:
        found = await intakes_of(who).show(intake_id, by=who.actor)
        return console.render(
            request,
            who,
            "intakes_show.html",
            intake=_shown(found),
            answers=_answers(found),
            may_review=who.actor.may(Permission.APPROVE),
        )

    @router.post("/console/intakes/{intake_id}/review")
    async def review(intake_id: int = INTAKE_ID, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        await intakes_of(who).review(intake_id, by=who.actor)
        return console.done(
            who, f"/console/intakes/{intake_id}", _("Marked reviewed.") + f" (#{intake_id})"
        )

    @router.post("/console/intakes/send")
    async def send(request: Request, who: SignedIn = console.acting) -> Response:
        form = await request.form()
        _ = translator(who.language)
        try:
            receipt = await intakes_of(who).send(_field(form, "target"), by=who.actor)
        except (Rejected, Conflict) as refused:
            # Not a number, no Flow configured, or the number opted out: the list, and why.
            return await listing_page(
                request, who, "new", 1, refusal=str(refused), status_code=status_of(refused)
            )
        return console.done(
            who,
            "/console/intakes",
            _("The intake form is on its way to") + f" {receipt.target}",
        )

    return router
