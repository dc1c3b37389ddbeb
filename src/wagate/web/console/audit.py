"""The audit trail in the console (CP3, issue 15): newest first, 50 a page, filtered by the
action's beginning (`review.`, `dead_letter.`) or by who acted; and "Verify the chain", which
recomputes every entry's hash through the operator service's `trail` group and says whether
the chain is intact or where it breaks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wagate.domain.audit import AuditEntry, VerifyReport
from wagate.web.api import MAX_BIGINT
from wagate.web.console.auth import SignedIn
from wagate.web.console.kit import Console
from wagate.web.console.when import second

PAGE_SIZE = 50
MAX_FILTER = 100
ACTION = Query("", max_length=MAX_FILTER)
ACTOR = Query("", max_length=MAX_FILTER)
BEFORE = Query(None, ge=1, le=MAX_BIGINT)


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": second(entry.at),
        "action": entry.action,
        "actor": entry.actor,
        "subject": entry.subject or "",
        "details": orjson.dumps(
            dict(entry.details), default=str, option=orjson.OPT_SORT_KEYS
        ).decode(),
        "redacted": entry.redacted_at is not None,
    }


def routes(console: Console) -> APIRouter:
    router = console.router()

    async def trail_page(
        request: Request,
        who: SignedIn,
        *,
        action: str,
        actor: str,
        before: int | None,
        report: VerifyReport | None = None,
    ) -> Response:
        entries = await who.operator.trail.browse(
            by=who.actor,
            before_seq=before,
            action_prefix=action,
            actor=actor,
            limit=PAGE_SIZE + 1,
        )
        shown = entries[:PAGE_SIZE]
        older = (
            "/console/audit?"
            + urlencode({"action": action, "actor": actor, "before": shown[-1].seq})
            if len(entries) > PAGE_SIZE
            else ""
        )
        return console.render(
            request,
            who,
            "audit.html",
            entries=[_row(e) for e in shown],
            action=action,
            actor=actor,
            older=older,
            newest="/console/audit?" + urlencode({"action": action, "actor": actor})
            if before is not None
            else "",
            report=report,
        )

    @router.get("/console/audit")
    async def audit(
        request: Request,
        action: str = ACTION,
        actor: str = ACTOR,
        before: int | None = BEFORE,
        who: SignedIn = console.signed_in,
    ) -> Response:
        return await trail_page(request, who, action=action, actor=actor, before=before)

    @router.post("/console/audit/verify")
    async def verify(request: Request, who: SignedIn = console.acting) -> Response:
        """A button rather than a link: it reads the whole chain, not something to prefetch."""
        report = await who.operator.trail.verify(by=who.actor)
        return await trail_page(request, who, action="", actor="", before=None, report=report)

    return router
