"""Dead letters (OU3, issue 15): messages that failed for good, and bursts the pipeline gave
up on — listed 50 a page, shown one by one, replayed on request through the operator
service's `dead_letters` group (which checks the role and audits the replay). A replay to a
number that opted out since is refused: the letter's page says why, and nothing is queued.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from wagate.domain.operators import Permission
from wagate.pipeline.operator.errors import Conflict
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console
from wagate.web.console.when import minute

PAGE_SIZE = 50
MAX_PAGE = 10_000
# "123": a failed outbound message; "in-7": a dead-lettered inbound burst.
REF = Path(pattern=r"^(in-)?[0-9]{1,18}$")
PAGE = Query(1, ge=1, le=MAX_PAGE)


def _shown(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        **letter,
        "createdText": minute(letter.get("createdAt")),
        "failedText": minute(letter.get("failedAt")),
        "replayedText": minute(letter.get("replayedAt")),
    }


def routes(console: Console) -> APIRouter:
    router = console.router()

    @router.get("/console/dead-letters")
    async def dead_letters(
        request: Request, page: int = PAGE, who: SignedIn = console.signed_in
    ) -> Response:
        found = await who.operator.dead_letters.listing(
            by=who.actor, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        return console.render(
            request,
            who,
            "dead_letters.html",
            letters=[_shown(letter) for letter in found[:PAGE_SIZE]],
            page_number=page,
            more=len(found) > PAGE_SIZE,
        )

    async def letter_page(
        request: Request, who: SignedIn, ref: str, *, refusal: str = "", status_code: int = 200
    ) -> Response:
        letter = await who.operator.dead_letters.show(ref, by=who.actor)
        return console.render(
            request,
            who,
            "dead_letters_show.html",
            status_code=status_code,
            letter=_shown(letter),
            ref=ref,
            refusal=refusal,
            may_replay=who.actor.may(Permission.OPERATE),
        )

    @router.get("/console/dead-letters/{ref}")
    async def dead_letter(
        request: Request, ref: str = REF, who: SignedIn = console.signed_in
    ) -> Response:
        return await letter_page(request, who, ref)

    @router.post("/console/dead-letters/{ref}/replay")
    async def replay(request: Request, ref: str = REF, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        try:
            replayed = await who.operator.dead_letters.replay(ref, by=who.actor)
        except Conflict as refused:
            # Opted out since, or no longer a dead letter: the letter's page, with the reason.
            return await letter_page(request, who, ref, refusal=str(refused), status_code=409)
        return console.done(
            who,
            "/console/dead-letters",
            _("Back on the queue:") + f" {ref} ({len(replayed)})",
        )

    return router
